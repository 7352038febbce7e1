/**
 * The simulator itself: it answers 500 only when a fault asks for one, and a failure of its own is
 * loud (logged, a 500 with its stack that a client does not retry, kept in `errors`) rather than
 * hidden behind the client's retries.
 */
import { FetchHttpClient } from "@effect/platform"
import { afterEach, describe, expect, it, vi } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"
import { layerSimulatorWithClient, NovelAISimulator, startSimulator } from "effect-novelai/testing"

afterEach(() => {
  vi.restoreAllMocks()
})

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }

describe("the simulator", () => {
  it.live("never answers 500 unless a fault asked for one", () =>
    Effect.gen(function* () {
      const sim = yield* NovelAISimulator
      const calls = [
        OpenAI.listModels(),
        OpenAI.tokenCount({ prompt: "Hello there" }),
        OpenAI.completion({ prompt: "Once", maxTokens: 5, n: 2 }),
        OpenAI.chatCompletion({ ...hi, maxTokens: 5, stop: ["fox"] }),
        Stream.runDrain(OpenAI.chatCompletionStream({ ...hi, maxTokens: 5 })),
        Stream.runDrain(OpenAI.completionStream({ prompt: "Once", maxTokens: 5, n: 3 })),
        OpenAI.chatCompletion({ ...hi, model: "no-such-model" }),
        OpenAI.chatCompletion({ ...hi, seed: 7, enableThinking: true, temperature: 2 })
      ]
      for (const call of calls) yield* Effect.either(call as Effect.Effect<unknown, unknown>)
      for (const fault of [
        { kind: "server-error" },
        { kind: "rate-limit" },
        { kind: "error-200" },
        { kind: "cut", after: 1 },
        { kind: "malformed", after: 1 },
        { kind: "error-frame", after: 1 },
        { kind: "random-chunks", seed: 9 }
      ] as const) {
        sim.enqueueFault(fault)
        yield* Effect.either(Stream.runDrain(OpenAI.chatCompletionStream({ ...hi, maxTokens: 5 })))
      }
      // Raw requests a client would never send: a bad key, bad JSON, a wrong method and path.
      const post = (path: string, body: string, key = sim.apiKey) =>
        Effect.promise(() =>
          fetch(`${sim.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body })
        )
      yield* post("/oa/v1/chat/completions", "{", sim.apiKey)
      yield* post("/oa/v1/chat/completions", "{}", "pst-wrong")
      yield* post("/oa/v1/nowhere", "{}")
      yield* post("/oa/v1/completions", JSON.stringify({ model: "glm-4-6", prompt: 42 }))

      expect(sim.requests.length).toBe(19)
      const unexplained = sim.requests.filter(
        (r) => (r.status ?? 0) >= 500 && r.fault?.kind !== "server-error"
      )
      expect(unexplained).toEqual([])
      expect(sim.errors).toEqual([])
    }).pipe(
      Effect.provide(
        layerSimulatorWithClient({ maxRetries: 0, concurrencyLimit: 10 }).pipe(
          Layer.provide(FetchHttpClient.layer)
        )
      )
    )
  )

  it.live("a failure of its own is logged and answered with a 500 carrying the stack, not retried", () =>
    Effect.gen(function* () {
      const logged = vi.spyOn(console, "error").mockImplementation(() => {})
      // A simulator given a models option of the wrong type fails while answering: a stand-in bug.
      const sim = yield* Effect.acquireRelease(
        Effect.promise(() => startSimulator({ models: 42 as never })),
        (sim) => Effect.promise(() => sim.close())
      )
      const error = yield* OpenAI.listModels().pipe(
        Effect.flip,
        Effect.provide(
          NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      expect(error).toMatchObject({ _tag: "ServerError", status: 500, shouldRetry: false })
      expect(error.message).toMatch(/^simulator bug: TypeError: .*\n\s+at /)
      // The client's default retries did not hide it: one request.
      expect(sim.requests).toHaveLength(1)
      expect(sim.errors).toHaveLength(1)
      expect(logged).toHaveBeenCalledOnce()
      expect(String(logged.mock.calls[0]![0])).toContain("a bug in the simulator")
    }).pipe(Effect.scoped)
  )
})
