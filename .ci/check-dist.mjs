// Loads the built package by its own name (Node's package self-reference), as an app would.
import assert from "node:assert/strict"
import {
  AuthenticationError,
  InvalidRequestError,
  NovelAIClient,
  OpenAI,
  RateLimitError
} from "effect-novelai"
import { startSimulator } from "effect-novelai/testing"

assert.equal(typeof NovelAIClient.layer, "function")
assert.equal(typeof OpenAI.chatCompletion, "function")
assert.ok(new RateLimitError({ message: "x" }) instanceof Error)
assert.equal(typeof AuthenticationError, "function")
assert.equal(typeof InvalidRequestError, "function")
const sim = await startSimulator()
assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/)
await sim.close()
console.log("ESM import: ok")
