/**
 * End to end: the real client over real loopback sockets against the simulator, with the Fetch
 * and both Node (undici, node:http) HttpClients.
 */
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Fiber, Layer, Stream, Supervisor } from "effect"
import { Image, NovelAIClient, OpenAI, RateLimitError } from "effect-novelai"
import {
  type Fault,
  layerSimulatorWithClient,
  NovelAISimulator,
  type SimulatorOptions,
  startSimulator
} from "effect-novelai/testing"

const clients: ReadonlyArray<[string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["FetchHttpClient", FetchHttpClient.layer],
  ["NodeHttpClient", NodeHttpClient.layerUndici],
  [
    "NodeHttpClient (node:http, keep-alive agent)",
    NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true })))
  ]
]

const hi = { messages: [{ role: "user" as const, content: "Tell me a story" }] }

/** Runs `f` with a fresh simulator and a client on it; everything is closed afterwards. */
const withSim = <A, E>(
  http: Layer.Layer<HttpClient.HttpClient>,
  f: Effect.Effect<A, E, NovelAISimulator | NovelAIClient.NovelAIClient>,
  options?: SimulatorOptions & Omit<NovelAIClient.Options, "apiKey" | "baseUrl">
) =>
  Effect.scoped(
    // Retries off unless a test asks for them: the fault table checks what one attempt gives.
    Effect.provide(
      f,
      layerSimulatorWithClient({ keepAliveTimeoutMs: 200, maxRetries: 0, ...options }).pipe(
        Layer.provide(http)
      )
    )
  )

/** Waits (bounded) until the simulator has no open connection left. */
const noOpenConnections = Effect.gen(function* () {
  const sim = yield* NovelAISimulator
  for (let i = 0; i < 100 && sim.openConnections() > 0; i++) yield* Effect.sleep("20 millis")
  return sim.openConnections()
})

for (const [name, http] of clients) {
  describe(`end to end over ${name}`, () => {
    it.live("every endpoint", () =>
      withSim(
        http,
        Effect.gen(function* () {
          const sim = yield* NovelAISimulator
          const models = yield* OpenAI.listModels()
          expect(models.map((m) => m.id)).toEqual(["glm-4-5", "glm-4-6"])
          const completion = yield* OpenAI.completion({ prompt: "Once upon a time", maxTokens: 10, seed: 3 })
          expect(completion.choices[0]!.finish_reason).toBe("length")
          expect(completion.usage?.completion_tokens).toBe(10)
          const chat = yield* OpenAI.chatCompletion({ ...hi, maxTokens: 12 })
          expect(chat.choices[0]!.message.content.length).toBeGreaterThan(10)
          // Same input, same text: the streamed chat folds into what the non-streaming call returned.
          const streamed = yield* OpenAI.collectChatCompletion(
            OpenAI.chatCompletionStream({ ...hi, maxTokens: 12 })
          )
          expect(streamed.choices[0]!.message.content).toBe(chat.choices[0]!.message.content)
          expect(streamed.usage).toEqual(chat.usage)
          const folded = yield* OpenAI.collectCompletion(
            OpenAI.completionStream({ prompt: "Once upon a time", maxTokens: 10, seed: 3 })
          )
          expect(folded.choices[0]!.text).toBe(completion.choices[0]!.text)
          const count = yield* OpenAI.tokenCount({ prompt: "Hello, world!" })
          expect(count).toBe(4)
          expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
            "GET /oa/v1/models 200",
            "POST /oa/v1/completions 200",
            "POST /oa/v1/chat/completions 200",
            "POST /oa/v1/chat/completions 200",
            "POST /oa/v1/completions 200",
            "POST /oa/v1/internal/token-count 200"
          ])
          expect(sim.requests[2]!.headers["user-agent"]).toBe("effect-novelai/0.1.0")
          expect(yield* noOpenConnections).toBe(0)
        })
      )
    )

    it.live("server-side errors: bad key, unknown model, out-of-range parameters", () =>
      Effect.gen(function* () {
        const sim = yield* Effect.acquireRelease(
          Effect.promise(() => startSimulator()),
          (s) => Effect.promise(() => s.close())
        )
        const bad = NovelAIClient.layer({ apiKey: "pst-wrong", baseUrl: sim.url }).pipe(Layer.provide(http))
        // Authentication and validation failures are not retried, even with the default policy.
        const auth = yield* OpenAI.listModels().pipe(Effect.provide(bad), Effect.flip)
        expect(auth).toMatchObject({ _tag: "AuthenticationError", status: 401 })
        const good = NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url }).pipe(Layer.provide(http))
        const unknown = yield* OpenAI.chatCompletion({ ...hi, model: "no-such-model" }).pipe(
          Effect.provide(good),
          Effect.flip
        )
        expect(unknown._tag).toBe("InvalidRequestError")
        expect(unknown.message).toMatch(/no-such-model/)
      }).pipe(Effect.scoped)
    )

    it.live(
      "interrupting a stream after 3 chunks closes the connection at once; the lock is held as NovelAI does",
      () =>
        withSim(
          http,
          Effect.gen(function* () {
            const sim = yield* NovelAISimulator
            const deltas = yield* OpenAI.chatCompletionStream({ ...hi, maxTokens: 50 }).pipe(
              OpenAI.textDeltas,
              Stream.take(3),
              Stream.runCollect
            )
            expect(Chunk.size(deltas)).toBe(3)
            for (let i = 0; i < 50 && sim.requests[0]!.closedAt === undefined; i++)
              yield* Effect.sleep("5 millis")
            const record = sim.requests[0]!
            expect(record.clientClosedEarly).toBe(true)
            // The server stopped writing right there: the role chunk, the three taken, and at most
            // the one in flight, of the 50 it would have sent.
            expect(record.chunks).toBeLessThanOrEqual(5)
            // The abandoned generation still holds the key's lock for a while: NovelAI answers 429.
            const locked = yield* OpenAI.chatCompletion(hi).pipe(Effect.flip)
            expect(locked).toBeInstanceOf(RateLimitError)
            expect(locked.message).toBe("concurrent generation is locked")
            // Once it would have finished, the key is free again.
            for (let i = 0; i < 200 && sim.activeGenerations() > 0; i++) yield* Effect.sleep("10 millis")
            const after = yield* OpenAI.chatCompletion(hi)
            expect(after.choices).toHaveLength(1)
          }),
          { chunkDelayMs: 10 }
        )
    )

    it.live("fiber interruption mid-stream closes the connection", () =>
      withSim(
        http,
        Effect.gen(function* () {
          const sim = yield* NovelAISimulator
          const fiber = yield* OpenAI.chatCompletionStream({ ...hi, maxTokens: 200 }).pipe(
            Stream.runDrain,
            Effect.fork
          )
          yield* Effect.sleep("60 millis")
          yield* Fiber.interrupt(fiber)
          for (let i = 0; i < 50 && sim.requests[0]?.closedAt === undefined; i++)
            yield* Effect.sleep("5 millis")
          expect(sim.requests[0]!.clientClosedEarly).toBe(true)
          expect(yield* noOpenConnections).toBe(0)
        }),
        { chunkDelayMs: 10 }
      )
    )

    const faults: ReadonlyArray<[string, Fault, string | undefined, RegExp?]> = [
      ["connection reset mid-stream", { kind: "reset", after: 2 }, "TransportError"],
      ["malformed JSON chunk", { kind: "malformed", after: 2 }, "ResponseDecodeError", /not valid JSON/],
      [
        "error frame inside a 200 stream",
        { kind: "error-frame", after: 2, message: "model crashed" },
        "ServerError",
        /model crashed/
      ],
      ["stream cut before [DONE]", { kind: "cut", after: 3 }, "StreamTruncatedError"],
      ["500", { kind: "server-error" }, "ServerError", /simulated/],
      ["503", { kind: "server-error", status: 503 }, "ServerError"],
      ["429 with Retry-After", { kind: "rate-limit", retryAfterSeconds: 2 }, "RateLimitError"],
      ["429 without Retry-After", { kind: "rate-limit" }, "RateLimitError"],
      ["{ error } with status 200", { kind: "error-200" }, "ServerError", /failed to respond/],
      ["random byte chunks with CRLF", { kind: "random-chunks", seed: 7 }, undefined],
      ["stall before headers", { kind: "stall-headers", ms: 150 }, undefined],
      ["stall between chunks", { kind: "stall", ms: 150, after: 2 }, undefined]
    ]
    for (const [label, fault, tag, message] of faults) {
      it.live(`fault: ${label} -> ${tag ?? "the full text"}`, () =>
        withSim(
          http,
          Effect.gen(function* () {
            const sim = yield* NovelAISimulator
            const expected = yield* OpenAI.chatCompletion({ ...hi, maxTokens: 20 })
            sim.enqueueFault(fault)
            const result = yield* OpenAI.chatCompletionStream({ ...hi, maxTokens: 20 }).pipe(
              OpenAI.collectChatCompletion,
              Effect.either,
              Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("hung") })
            )
            if (tag === undefined) {
              expect(Either.isRight(result)).toBe(true)
              if (Either.isRight(result)) {
                expect(result.right.choices[0]!.message.content).toBe(expected.choices[0]!.message.content)
              }
            } else {
              expect(Either.isLeft(result)).toBe(true)
              if (Either.isLeft(result)) {
                expect(result.left._tag).toBe(tag)
                if (message) expect(result.left.message).toMatch(message)
                if (
                  result.left instanceof RateLimitError &&
                  "retryAfterSeconds" in fault &&
                  fault.retryAfterSeconds
                ) {
                  expect(Duration.toSeconds(result.left.retryAfter!)).toBe(fault.retryAfterSeconds)
                }
              }
            }
            expect(sim.requests[1]!.fault).toEqual(fault)
            expect(yield* noOpenConnections).toBe(0)
          }),
          { concurrencyLimit: 10 }
        )
      )
    }

    // The end of a call aborts its request's signal: after a complete response that must not cost
    // the connection. (undici may open a second socket before the first is back in its pool.)
    it.live("sequential calls reuse keep-alive connections", () =>
      withSim(
        http,
        Effect.gen(function* () {
          const sim = yield* NovelAISimulator
          for (let i = 0; i < 20; i++) yield* OpenAI.tokenCount({ prompt: `request ${i}` })
          yield* OpenAI.chatCompletion({ ...hi, maxTokens: 5 })
          yield* OpenAI.listModels()
          expect(sim.requests).toHaveLength(22)
          expect(new Set(sim.requests.map((r) => r.connection)).size).toBeLessThanOrEqual(2)
        }),
        { keepAliveTimeoutMs: 5000 }
      )
    )

    // A stream is over at its last event (`[DONE]`, each sample's `final`), often before the end of
    // its body arrives (here 30 ms later): the client waits for that end instead of aborting, so
    // the connection is kept for the next call rather than reset.
    it.live("a complete stream's connection is not aborted when its body ends after the last event", () =>
      withSim(
        http,
        Effect.gen(function* () {
          const sim = yield* NovelAISimulator
          const ended = (index: number) => Effect.promise(() => sim.closed(index))
          for (let i = 0; i < 4; i++) {
            yield* Stream.runDrain(OpenAI.chatCompletionStream({ ...hi, maxTokens: 8 }))
            yield* ended(3 * i)
            yield* Stream.runDrain(Image.generateStream({ prompt: "a cat", size: [64, 64], steps: 4 }))
            yield* ended(3 * i + 1)
            yield* OpenAI.chatCompletion({ ...hi, maxTokens: 8 })
          }
          expect(sim.requests.map((r) => r.status)).toEqual(Array(12).fill(200))
          expect(sim.requests.filter((r) => r.clientClosedEarly)).toEqual([])
        }),
        { keepAliveTimeoutMs: 5000, headers: { "x-simulator-fault": "linger;ms=30" } }
      )
    )

    // A shared gate's release can be slow (a Redis round trip): a stream stopped early must have its
    // request aborted first, so that the server stops sending while the slot is given back.
    it.live("a stream stopped early is aborted before its generation slot is released", () =>
      Effect.gen(function* () {
        const sim = yield* Effect.acquireRelease(
          Effect.promise(() => startSimulator({ chunkDelayMs: 20 })),
          (s) => Effect.promise(() => s.close())
        )
        // The release waits until the simulator has seen the request closed: it would wait forever
        // if the abort came after it.
        const released: Array<string> = []
        const generationGate: NovelAIClient.GenerationGate = {
          _tag: "effect-novelai/GenerationGate",
          concurrency: 1,
          acquire: () =>
            Effect.succeed({
              release: (outcome) =>
                Effect.promise(() => sim.closed(0)).pipe(
                  Effect.timeout("5 seconds"),
                  Effect.match({
                    onFailure: () => void released.push("released before the abort"),
                    onSuccess: (request) =>
                      void released.push(
                        `${outcome} after ${request.clientClosedEarly ? "the abort" : "the end"}`
                      )
                  })
                )
            }),
          close: () => Promise.resolve()
        }
        yield* OpenAI.chatCompletionStream({ ...hi, maxTokens: 40 }).pipe(
          Stream.take(2),
          Stream.runDrain,
          Effect.provide(
            NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0, generationGate }).pipe(
              Layer.provide(http)
            )
          )
        )
        expect(released).toEqual(["interrupted after the abort"])
      }).pipe(Effect.scoped)
    )

    it.live(
      "a stream whose body never ends after its last event: complete at once, its connection closed soon after",
      () =>
        withSim(
          http,
          Effect.gen(function* () {
            const sim = yield* NovelAISimulator
            const chunks = yield* Stream.runCollect(OpenAI.chatCompletionStream({ ...hi, maxTokens: 8 }))
            expect(Chunk.size(chunks)).toBeGreaterThan(1)
            // The server still holds the body open: the stream did not wait for its end.
            expect(sim.openConnections()).toBe(1)
            expect(yield* noOpenConnections).toBe(0)
          }),
          { headers: { "x-simulator-fault": "linger;ms=60000" } }
        )
    )

    it.live(
      "60 sequential and 32 concurrent requests leave no open connection behind",
      () =>
        withSim(
          http,
          Effect.gen(function* () {
            for (let i = 0; i < 60; i++) yield* OpenAI.tokenCount({ prompt: `request ${i}` })
            const results = yield* Effect.all(
              Array.from({ length: 32 }, (_, i) => OpenAI.chatCompletion({ ...hi, seed: i, maxTokens: 5 })),
              { concurrency: "unbounded" }
            )
            expect(results).toHaveLength(32)
            expect(yield* noOpenConnections).toBe(0)
          }),
          { concurrencyLimit: 1000 }
        ),
      30_000
    )
  })
}

describe("no leaks", () => {
  it.live("once a client's scope closes, it has no connection open and no fiber running", () =>
    Effect.gen(function* () {
      const sim = yield* Effect.acquireRelease(
        // The Fetch client shares the global fetch pool, whose idle connections the server closes.
        Effect.promise(() => startSimulator({ concurrencyLimit: 100, keepAliveTimeoutMs: 200 })),
        (sim) => Effect.promise(() => sim.close())
      )
      for (const [, http] of clients) {
        const supervisor = yield* Supervisor.track
        yield* Effect.gen(function* () {
          yield* Effect.all(
            Array.from({ length: 20 }, () => OpenAI.chatCompletion(hi)),
            { concurrency: 20 }
          )
          yield* OpenAI.chatCompletionStream(hi).pipe(Stream.take(2), Stream.runDrain)
          yield* OpenAI.listModels({ timeout: "1 millis" }).pipe(Effect.ignore)
        }).pipe(
          Effect.provide(
            NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0 }).pipe(
              Layer.provide(http)
            )
          ),
          Effect.supervised(supervisor)
        )
        for (let i = 0; i < 100 && sim.openConnections() > 0; i++) yield* Effect.sleep("20 millis")
        expect(sim.openConnections()).toBe(0)
        const running = (yield* supervisor.value).filter((fiber) => fiber.unsafePoll() === null)
        expect(running.length).toBe(0)
      }
    }).pipe(Effect.scoped)
  )
})
