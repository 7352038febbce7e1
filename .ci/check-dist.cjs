// Loads the built package with require(), as a CommonJS app would.
const assert = require("node:assert/strict")
const { NovelAIClient, OpenAI, RateLimitError } = require("effect-novelai")
const { startSimulator } = require("effect-novelai/testing")

assert.equal(typeof NovelAIClient.layer, "function")
assert.equal(typeof OpenAI.chatCompletionStream, "function")
assert.ok(new RateLimitError({ message: "x" }) instanceof Error)
assert.equal(typeof startSimulator, "function")
const { NovelAILanguageModel } = require("effect-novelai/ai")
assert.equal(typeof NovelAILanguageModel.layer, "function")
const { RedisGenerationGate } = require("effect-novelai/redis")
assert.equal(typeof RedisGenerationGate.make, "function")
console.log("CJS require: ok")
