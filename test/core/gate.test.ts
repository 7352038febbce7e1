/**
 * The gate every attempt passes: the rate limiter and the concurrency slots, on the TestClock.
 */
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Random, Stream, TestClock } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"
import { API_KEY, chatChunk, controlledBody, json, makeTestClient } from "../support.js"

const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))

describe("the gate", () => {
  it.effect("a rate limit spaces requests out: a burst of `limit`, then one per interval / limit", () =>
    Effect.gen(function* () {
      const sentAt: Array<number> = []
      const { layer } = makeTestClient(() => json({ length: 1 }), {
        rateLimit: { limit: 2, interval: "200 millis" }
      })
      const fiber = yield* Effect.all(
        Array.from({ length: 6 }, () =>
          Effect.zipRight(
            OpenAI.tokenCount({ prompt: "x" }),
            Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => sentAt.push(now)))
          )
        ),
        { concurrency: "unbounded" }
      ).pipe(Effect.provide(layer), Effect.fork)
      for (let i = 0; i < 10; i++) {
        yield* settle
        yield* TestClock.adjust("50 millis")
      }
      yield* Fiber.join(fiber)
      // A token bucket of 2 per 200 ms: two at once, then one every 100 ms.
      expect(sentAt).toEqual([0, 0, 100, 200, 300, 400])
    })
  )
})

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }
const locked = () => json({ statusCode: 429, message: "concurrent generation is locked" }, { status: 429 })
const reply = () =>
  json({
    id: "x",
    created: 1,
    model: "glm-4-6",
    choices: [{ index: 0, message: { content: "ok" }, finish_reason: "stop" }]
  })

describe("the generation gate", () => {
  it.effect("by default one generation at a time; listModels and tokenCount do not wait behind it", () =>
    Effect.gen(function* () {
      const body = controlledBody()
      const { requests, http } = body.client()
      const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0 }).pipe(Layer.provide(http))
      body.push(chatChunk("a"))
      yield* Effect.gen(function* () {
        const first = yield* Effect.fork(Stream.runDrain(OpenAI.chatCompletionStream(hi)))
        const second = yield* Effect.fork(Stream.runDrain(OpenAI.completionStream({ prompt: "x" })))
        yield* settle
        expect(requests.map((r) => r.url)).toEqual(["https://text.novelai.net/oa/v1/chat/completions"])
        // Not generations: they go at once (and here meet the same stalled body, which is beside the point).
        yield* Effect.fork(OpenAI.listModels())
        yield* Effect.fork(OpenAI.tokenCount({ prompt: "x" }))
        yield* settle
        expect(requests).toHaveLength(3)
        yield* Fiber.interrupt(first)
        yield* settle
        expect(requests.at(-1)!.url).toBe("https://text.novelai.net/oa/v1/completions")
        yield* Fiber.interrupt(second)
      }).pipe(Effect.provide(layer))
    })
  )

  it.effect("generationConcurrency lifts it; a gate shared by two clients holds across both", () =>
    Effect.gen(function* () {
      const count = (options: Partial<NovelAIClient.Options>, clients: number) =>
        Effect.gen(function* () {
          // Every request gets a stream that sends one chunk and then nothing.
          const requests: Array<unknown> = []
          const http = Layer.succeed(
            HttpClient.HttpClient,
            HttpClient.make((request) => {
              requests.push(request)
              return Effect.succeed(
                HttpClientResponse.fromWeb(
                  request,
                  new Response(
                    new ReadableStream({
                      start: (controller) => controller.enqueue(new TextEncoder().encode(chatChunk("a")))
                    }),
                    { headers: { "content-type": "text/event-stream" } }
                  )
                )
              )
            })
          )
          // Each client built once, as an app builds its layers.
          const built = yield* Effect.forEach(Array.from({ length: clients }), () =>
            Layer.build(
              NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0, ...options }).pipe(Layer.provide(http))
            )
          )
          const fibers = yield* Effect.forEach([0, 1, 2], (i) =>
            Effect.fork(
              Stream.runDrain(OpenAI.chatCompletionStream(hi)).pipe(Effect.provide(built[i % clients]!))
            )
          )
          yield* settle
          yield* Fiber.interruptAll(fibers)
          return requests.length
        }).pipe(Effect.scoped)
      expect(yield* count({ generationConcurrency: 2 }, 1)).toBe(2)
      expect(yield* count({ generationConcurrency: "unbounded" }, 1)).toBe(3)
      // Two clients with gates of their own: one generation each.
      expect(yield* count({}, 2)).toBe(2)
      // Two clients sharing one gate: one generation between them.
      expect(yield* count({ generationGate: NovelAIClient.makeGenerationGate() }, 2)).toBe(1)
    })
  )
})

describe("the generation lock", () => {
  it.effect("a 429 'generation is locked' is waited out apart from maxRetries: 1, 2, 4, 8, 8 s", () =>
    Effect.gen(function* () {
      let calls = 0
      const { recorded, layer } = makeTestClient(() => (++calls <= 5 ? locked() : reply()), {
        maxRetries: undefined,
        collectStream: false
      })
      const fiber = yield* OpenAI.chatCompletion(hi).pipe(
        Effect.provide(layer),
        Effect.withRandom(Random.fixed([0])),
        Effect.fork
      )
      const counts: Array<number> = []
      yield* settle
      for (const step of [1, 2, 4, 8, 8]) {
        yield* TestClock.adjust(`${step - 0.001} seconds`)
        yield* settle
        counts.push(recorded.length)
        yield* TestClock.adjust("1 millis")
        yield* settle
      }
      expect(counts).toEqual([1, 2, 3, 4, 5])
      const result = yield* Fiber.join(fiber)
      expect(result.choices[0]!.message.content).toBe("ok")
      expect(recorded).toHaveLength(6)
    })
  )

  it.effect("lockWait bounds the patience: the RateLimitError says it is the lock", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(locked, { maxRetries: undefined, lockWait: "10 seconds" })
      const fiber = yield* OpenAI.tokenCount({ prompt: "x" }).pipe(
        Effect.provide(layer),
        Effect.withRandom(Random.fixed([0])),
        Effect.flip,
        Effect.fork
      )
      yield* settle
      for (let i = 0; i < 30; i++) {
        yield* TestClock.adjust("1 second")
        yield* settle
      }
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ _tag: "RateLimitError", generationLock: true })
      // At 0, 1, 3 and 7 s, then at 10 s: the backoff (8 s) cut to what is left of the patience.
      expect(recorded).toHaveLength(5)
      // lockWait 0: the lock is any other 429 (two retries).
      const other = makeTestClient(locked, { maxRetries: undefined, lockWait: 0 })
      const fiber2 = yield* OpenAI.tokenCount({ prompt: "x" }).pipe(
        Effect.provide(other.layer),
        Effect.flip,
        Effect.fork
      )
      for (let i = 0; i < 10; i++) {
        yield* TestClock.adjust("1 second")
        yield* settle
      }
      yield* Fiber.join(fiber2)
      expect(other.recorded).toHaveLength(3)
    })
  )

  it.effect("a lockWait shorter than the first backoff still waits out its length once", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(locked, { maxRetries: undefined, lockWait: "500 millis" })
      const fiber = yield* OpenAI.tokenCount({ prompt: "x" }).pipe(
        Effect.provide(layer),
        Effect.withRandom(Random.fixed([0])),
        Effect.flip,
        Effect.fork
      )
      yield* settle
      expect(recorded).toHaveLength(1)
      yield* TestClock.adjust("499 millis")
      yield* settle
      expect(recorded).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      yield* settle
      expect(recorded).toHaveLength(2)
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust("1 second")
        yield* settle
      }
      expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "RateLimitError", generationLock: true })
      expect(recorded).toHaveLength(2)
    })
  )
})
