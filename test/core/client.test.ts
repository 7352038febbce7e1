import { inspect } from "node:util"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Effect, Exit, Fiber, Layer, Redacted, Stream, TestClock } from "effect"
import { ConfigurationError, NovelAIClient, OpenAI } from "effect-novelai"
import pkg from "../../package.json" with { type: "json" }
import { VERSION } from "../../src/internal/core/version.js"
import { API_KEY, json, makeTestClient } from "../support.js"

const chunk = (i: number) =>
  `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"glm-4-6","choices":[{"index":0,"delta":{"content":"t${i} "},"finish_reason":null}]}\n\n`

/** An endless SSE body that records how far it was read and whether it was cancelled. */
const endless = () => {
  const state = { pulled: 0, cancelled: false, aborted: false }
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        state.pulled++
        controller.enqueue(new TextEncoder().encode(chunk(state.pulled)))
      },
      cancel() {
        state.cancelled = true
      }
    },
    { highWaterMark: 0 }
  )
  const http = HttpClient.make((request, _url, signal) => {
    signal.addEventListener("abort", () => {
      state.aborted = true
    })
    return Effect.succeed(
      HttpClientResponse.fromWeb(
        request,
        new Response(body, { headers: { "content-type": "text/event-stream" } })
      )
    )
  })
  const layer = NovelAIClient.layer({ apiKey: API_KEY }).pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, http))
  )
  return { state, layer }
}

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }

describe("interruption", () => {
  it.effect("Stream.take(3) cancels the body and aborts the request, reading no further ahead", () =>
    Effect.gen(function* () {
      const { state, layer } = endless()
      const deltas = yield* OpenAI.chatCompletionStream(hi).pipe(
        OpenAI.textDeltas,
        Stream.take(3),
        Stream.runCollect,
        Effect.provide(layer)
      )
      expect(Chunk.toArray(deltas)).toEqual(["t1 ", "t2 ", "t3 "])
      expect(state.cancelled).toBe(true)
      expect(state.aborted).toBe(true)
      expect(state.pulled).toBeLessThanOrEqual(4)
    })
  )

  it.live("interrupting the consuming fiber aborts the request", () =>
    Effect.gen(function* () {
      const { state, layer } = endless()
      let seen = 0
      const fiber = yield* OpenAI.chatCompletionStream(hi).pipe(
        Stream.tap(() => Effect.sync(() => seen++).pipe(Effect.zipRight(Effect.sleep("5 millis")))),
        Stream.runDrain,
        Effect.provide(layer),
        Effect.fork
      )
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
      expect(seen).toBeGreaterThan(0)
      expect(state.cancelled).toBe(true)
      expect(state.aborted).toBe(true)
    })
  )

  it.effect("a timeout on the stream aborts the request", () =>
    Effect.gen(function* () {
      const { state, layer } = endless()
      const fiber = yield* OpenAI.chatCompletionStream(hi).pipe(
        Stream.tap(() => Effect.sleep("1 second")),
        Stream.runDrain,
        Effect.timeout("3500 millis"),
        Effect.provide(layer),
        Effect.fork
      )
      yield* TestClock.adjust("4 seconds")
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit)).toBe(true)
      expect(state.aborted).toBe(true)
      expect(state.pulled).toBeLessThanOrEqual(5)
    })
  )
})

describe("configuration", () => {
  const http = Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) =>
      Effect.succeed(HttpClientResponse.fromWeb(request, json({ data: [{ id: request.url }] })))
    )
  )
  const withConfig = (map: Record<string, string>) =>
    Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(map))))

  it.effect("layerConfig reads NOVELAI_API_KEY and NOVELAI_BASE_URL", () =>
    Effect.gen(function* () {
      const models = yield* OpenAI.listModels().pipe(
        Effect.provide(
          NovelAIClient.layerConfig().pipe(
            Layer.provide(http),
            Layer.provide(withConfig({ NOVELAI_API_KEY: "pst-x", NOVELAI_BASE_URL: "http://127.0.0.1:9999" }))
          )
        )
      )
      expect(models[0]!.id).toBe("http://127.0.0.1:9999/oa/v1/models")
    })
  )

  it.effect("layerConfig without a key fails with a clear ConfigurationError", () =>
    Effect.gen(function* () {
      const error = yield* OpenAI.listModels().pipe(
        Effect.provide(NovelAIClient.layerConfig().pipe(Layer.provide(http), Layer.provide(withConfig({})))),
        Effect.flip
      )
      expect(error).toBeInstanceOf(ConfigurationError)
      expect(error.message).toMatch(/NOVELAI_API_KEY is not set/)
    })
  )

  const refused: ReadonlyArray<[string, Partial<NovelAIClient.Options>, RegExp]> = [
    ["an empty key", { apiKey: "" }, /apiKey is empty/],
    ["a key with a line break", { apiKey: "pst-abc\r\nX-Evil: 1" }, /line break/],
    ["a base URL that is not a URL", { baseUrl: "not a url" }, /not a valid URL/],
    ["plain http to a remote host", { baseUrl: "http://text.novelai.net" }, /plain http/],
    ["an ftp base URL", { baseUrl: "ftp://example.com" }, /https/],
    ["a user agent with a line break", { userAgent: "a\nb" }, /userAgent/],
    ["a header value with a line break", { headers: { "x-proxy": "a\r\nb" } }, /headers.x-proxy/],
    ["an authorization header", { headers: { Authorization: "Bearer other" } }, /apiKey/]
  ]
  for (const [name, options, message] of refused) {
    it.effect(`make refuses ${name} before any request`, () =>
      Effect.gen(function* () {
        const { recorded, layer } = makeTestClient(() => json([]), options)
        const error = yield* OpenAI.listModels().pipe(Effect.provide(layer), Effect.flip)
        expect(error).toBeInstanceOf(ConfigurationError)
        expect(error.message).toMatch(message)
        expect(error.message).not.toContain("pst-abc")
        expect(recorded).toHaveLength(0)
      })
    )
  }

  it.effect("plain http is allowed to loopback, or to any host when opted in", () =>
    Effect.gen(function* () {
      for (const options of [
        { baseUrl: "http://localhost:1234" },
        { baseUrl: "http://10.0.0.5", allowInsecureHttp: true }
      ]) {
        const { recorded, layer } = makeTestClient(() => json([]), options)
        yield* OpenAI.listModels().pipe(Effect.provide(layer))
        expect(recorded[0]!.url.startsWith(options.baseUrl)).toBe(true)
      }
    })
  )

  it.effect("a Redacted key is accepted; the service does not show it", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() => json([]), { apiKey: Redacted.make(API_KEY) })
      const service = yield* NovelAIClient.NovelAIClient.pipe(Effect.provide(layer))
      expect(inspect(service, { depth: 10 })).not.toContain(API_KEY)
      expect(JSON.stringify(service)).not.toContain(API_KEY)
      expect(service.defaultModel).toBe("glm-4-6")
    })
  )

  it("neither the layer nor a Redacted key shows the key when printed", () => {
    const key = Redacted.make(API_KEY)
    const layer = NovelAIClient.layer({ apiKey: key, maxRetries: 1 })
    for (const text of [
      inspect(layer, { depth: 20 }),
      String(key),
      JSON.stringify(key),
      inspect(key),
      inspect({ apiKey: key })
    ]) {
      expect(text).not.toContain(API_KEY)
    }
  })

  it("the User-Agent version is the package version", () => {
    expect(VERSION).toBe(pkg.version)
  })
})
