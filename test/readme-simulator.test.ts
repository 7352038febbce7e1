/** The README's "simulator in your own tests" snippets, verbatim, so they never rot. */
import { FetchHttpClient } from "@effect/platform"
import { expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { OpenAI } from "effect-novelai"
import { layerSimulatorWithClient, NovelAISimulator, startSimulator } from "effect-novelai/testing"

it.live("retries the locked generation", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    sim.enqueueFault({ kind: "rate-limit" })
    // The client retries a 429 by default, after a backoff.
    const reply = yield* OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] })
    expect(reply.choices[0]!.message.content).not.toBe("")
    expect(sim.requests.map((r) => r.status)).toEqual([429, 200])
  }).pipe(Effect.provide(layerSimulatorWithClient().pipe(Layer.provide(FetchHttpClient.layer))))
)

it("the plain start function", async () => {
  const sim = await startSimulator({ chunkDelayMs: 5, concurrencyLimit: 1 })
  const response = await fetch(`${sim.url}/oa/v1/models`, {
    headers: { authorization: `Bearer ${sim.apiKey}` }
  })
  expect(response.status).toBe(200)
  expect(sim.requests[0]!.path).toBe("/oa/v1/models")
  await sim.close()
  expect(sim.openConnections()).toBe(0)
})
