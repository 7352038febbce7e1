/**
 * What a call reads is bounded: a body over `maxResponseBytes` (counted after decompression) and a
 * collected reply over it fail with a `ResponseTooLargeError` that is not retried; `timeout` ends a
 * collected reply that keeps trickling; a connection lost after the generation finished is a
 * finished reply.
 */
import { createServer, type Server } from "node:http"
import { gzipSync } from "node:zlib"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, TestClock } from "effect"
import { NovelAIClient, OpenAI, Text } from "effect-novelai"
import { API_KEY, chatChunk, controlledBody, settle } from "../support.js"

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }
const MiB = 1024 * 1024

/** A loopback server answering every request with `answer`; counts the requests. */
const serve = (answer: (res: import("node:http").ServerResponse) => void) =>
  Effect.acquireRelease(
    Effect.async<{ url: string; hits: () => number; server: Server }>((resume) => {
      let hits = 0
      const server = createServer((req, res) => {
        hits++
        req.resume()
        res.on("error", () => undefined)
        answer(res)
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as { port: number }
        resume(Effect.succeed({ url: `http://127.0.0.1:${address.port}`, hits: () => hits, server }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const transports: ReadonlyArray<[string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["Fetch", FetchHttpClient.layer],
  ["undici", NodeHttpClient.layerUndici]
]

/** Gzipped zeros that inflate to `size` bytes, declared as JSON. */
const bomb = (size: number) => gzipSync(Buffer.alloc(size, 0x20))

for (const [name, http] of transports) {
  const client = (url: string, options: Partial<NovelAIClient.Options> = {}) =>
    NovelAIClient.layer({ apiKey: API_KEY, baseUrl: url, ...options }).pipe(Layer.provide(http))

  describe(`a body over its cap, over ${name}`, () => {
    it.scopedLive("a gzip answer inflating past the default 16 MiB: ResponseTooLargeError, sent once", () =>
      Effect.gen(function* () {
        const body = bomb(17 * MiB)
        const server = yield* serve((res) => {
          res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" })
          res.end(body)
        })
        const error = yield* Effect.flip(OpenAI.listModels().pipe(Effect.provide(client(server.url))))
        expect(error).toMatchObject({
          _tag: "ResponseTooLargeError",
          limit: 16 * MiB,
          endpoint: "listModels"
        })
        expect(error.message).toMatch(/larger than 16777216 bytes/)
        expect(server.hits()).toBe(1)
      })
    )

    it.scopedLive(
      "a JSON answer without a length, past maxResponseBytes: refused once it passes the cap",
      () =>
        Effect.gen(function* () {
          const piece = Buffer.alloc(64 * 1024, 0x20)
          const server = yield* serve((res) => {
            res.writeHead(200, { "content-type": "application/json" })
            // Chunked and endless: only the cap ends it.
            const more = () => {
              while (res.write(piece)) {}
              res.once("drain", more)
            }
            more()
          })
          const error = yield* Effect.flip(
            OpenAI.listModels({ maxResponseBytes: MiB }).pipe(Effect.provide(client(server.url)))
          )
          expect(error).toMatchObject({ _tag: "ResponseTooLargeError", limit: MiB })
          expect(server.hits()).toBe(1)
        })
    )

    it.scopedLive("a declared length over the cap is refused without reading the body", () =>
      Effect.gen(function* () {
        const server = yield* serve((res) => {
          res.writeHead(200, { "content-type": "application/json", "content-length": String(600 * MiB) })
          res.write("[")
        })
        const error = yield* Effect.flip(
          OpenAI.listModels().pipe(Effect.provide(client(server.url, { maxResponseBytes: MiB })))
        )
        expect(error).toMatchObject({ _tag: "ResponseTooLargeError", limit: MiB })
      })
    )

    it.scopedLive("a collected chat streaming forever stops at the cap, not retried", () =>
      Effect.gen(function* () {
        const chunk = chatChunk("x".repeat(60_000))
        const server = yield* serve((res) => {
          res.writeHead(200, { "content-type": "text/event-stream" })
          const more = () => {
            while (res.write(chunk)) {}
            res.once("drain", more)
          }
          more()
        })
        const error = yield* Effect.flip(
          OpenAI.chatCompletion(hi).pipe(Effect.provide(client(server.url, { maxResponseBytes: 2 * MiB })))
        )
        expect(error).toMatchObject({ _tag: "ResponseTooLargeError", limit: 2 * MiB })
        expect(server.hits()).toBe(1)
      })
    )
  })
}

describe("maxResponseBytes is checked", () => {
  it.effect("a cap that is not a positive integer is refused before sending", () =>
    Effect.gen(function* () {
      const body = controlledBody()
      const { http, requests } = body.client()
      const layer = NovelAIClient.layer({ apiKey: API_KEY }).pipe(Layer.provide(http))
      const error = yield* Effect.flip(
        OpenAI.chatCompletion(hi, { maxResponseBytes: -1 }).pipe(Effect.provide(layer))
      )
      expect(error).toMatchObject({ _tag: "InvalidRequestError" })
      expect(error.message).toMatch(/maxResponseBytes must be an integer >= 1/)
      expect(requests).toHaveLength(0)
      const bad = yield* Effect.flip(
        Effect.provide(
          OpenAI.listModels(),
          NovelAIClient.layer({ apiKey: API_KEY, maxResponseBytes: 0 }).pipe(Layer.provide(http))
        )
      )
      expect(bad).toMatchObject({ _tag: "ConfigurationError" })
    })
  )
})

describe("timeout ends a collected reply that keeps coming", () => {
  it.effect("chatCompletion (collected by default) fails with TimeoutError at its timeout", () =>
    Effect.gen(function* () {
      const body = controlledBody()
      const { http } = body.client()
      const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0 }).pipe(Layer.provide(http))
      const fiber = yield* Effect.fork(
        OpenAI.chatCompletion(hi, { timeout: "3 seconds" }).pipe(Effect.provide(layer))
      )
      yield* settle
      // A chunk every 500 ms: never idle, but never done.
      for (let i = 0; i < 5; i++) {
        body.push(chatChunk("a"))
        yield* settle
        yield* TestClock.adjust("500 millis")
        yield* settle
      }
      expect(fiber.unsafePoll()).toBeNull()
      body.push(chatChunk("b"))
      yield* settle
      yield* TestClock.adjust("600 millis")
      yield* settle
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && exit.cause).toBeTruthy()
      const error = yield* Effect.flip(fiber)
      expect(error).toMatchObject({ _tag: "TimeoutError", phase: "body" })
      expect(body.state.aborted || body.state.cancelled).toBe(true)
    })
  )

  it.effect("text.generate with collectStream fails with TimeoutError at its timeout", () =>
    Effect.gen(function* () {
      const body = controlledBody()
      const { http } = body.client()
      const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0 }).pipe(Layer.provide(http))
      const fiber = yield* Effect.fork(
        Text.generate({ input: "Once" }, { timeout: "2 seconds", collectStream: true }).pipe(
          Effect.provide(layer)
        )
      )
      yield* settle
      for (let ptr = 0; ptr < 6 && fiber.unsafePoll() === null; ptr++) {
        body.push(
          `event: newToken\nid: ${ptr}\ndata: ${JSON.stringify({ token: " a", ptr, final: false })}\n\n`
        )
        yield* settle
        yield* TestClock.adjust("400 millis")
        yield* settle
      }
      const error = yield* Effect.flip(fiber)
      expect(error).toMatchObject({ _tag: "TimeoutError", phase: "body" })
    })
  )
})

describe("a connection lost after the generation finished", () => {
  it.effect("after every finish_reason, a reset is a complete reply: one request, the text kept", () =>
    Effect.gen(function* () {
      const body = controlledBody()
      const { http, requests } = body.client()
      const layer = NovelAIClient.layer({ apiKey: API_KEY }).pipe(Layer.provide(http))
      const fiber = yield* Effect.fork(OpenAI.chatCompletion(hi).pipe(Effect.provide(layer)))
      yield* settle
      body.push(chatChunk("Good "))
      body.push(chatChunk("morning", "stop"))
      yield* settle
      body.fail(new Error("ECONNRESET"))
      const result = yield* Fiber.join(fiber)
      expect(result.choices[0]!.message.content).toBe("Good morning")
      expect(result.choices[0]!.finish_reason).toBe("stop")
      expect(requests).toHaveLength(1)
    })
  )

  it.effect("before the finish, a reset is still a TransportError", () =>
    Effect.gen(function* () {
      const body = controlledBody()
      const { http } = body.client()
      const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0 }).pipe(Layer.provide(http))
      const fiber = yield* Effect.fork(OpenAI.chatCompletion(hi).pipe(Effect.provide(layer)))
      yield* settle
      body.push(chatChunk("Good "))
      yield* settle
      body.fail(new Error("ECONNRESET"))
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error).toMatchObject({ _tag: "TransportError" })
    })
  )
})
