import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel, Stream, type Tracer } from "effect"
import { OpenAI } from "effect-novelai"
import * as Telemetry from "../../src/internal/core/telemetry.js"
import { API_KEY, chatChunk, json, makeTestClient, sse, traced } from "../support.js"

const chatBody = {
  id: "x",
  object: "chat.completion",
  created: 1,
  model: "glm-4-5",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 }
}

const allText = (spans: ReadonlyArray<Tracer.Span>) =>
  spans.map((s) => `${s.name} ${JSON.stringify([...s.attributes.entries()])}`).join("\n")

describe("spans", () => {
  it.effect("each call runs in a span named after the endpoint with GenAI attributes", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() => json(chatBody))
      const { spans } = yield* traced(
        OpenAI.chatCompletion({ model: "glm-4-5", messages: [{ role: "user", content: "Hi" }] }).pipe(
          Effect.provide(layer)
        )
      )
      const span = spans.find((s) => s.name === "NovelAI.chatCompletion")
      expect(span).toBeDefined()
      expect(span!.kind).toBe("client")
      expect(Object.fromEntries(span!.attributes)).toMatchObject({
        "gen_ai.system": "novelai",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "glm-4-5",
        "gen_ai.usage.input_tokens": 4,
        "gen_ai.usage.output_tokens": 1
      })
      // No platform HTTP span unless asked for.
      expect(spans.find((s) => s.name.startsWith("http.client"))).toBeUndefined()
      expect(allText(spans)).not.toContain(API_KEY)
    })
  )

  it.effect(
    "with httpSpans, the platform's HTTP span is a child, with the Authorization header redacted",
    () =>
      Effect.gen(function* () {
        const { layer } = makeTestClient(() => json(chatBody), { httpSpans: true })
        const { spans } = yield* traced(
          OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }).pipe(Effect.provide(layer))
        )
        const parent = spans.find((s) => s.name === "NovelAI.chatCompletion")!
        const http = spans.find((s) => s.name.startsWith("http.client"))
        expect(http).toBeDefined()
        expect(http!.parent._tag === "Some" && http!.parent.value.spanId).toBe(parent.spanId)
        expect(http!.attributes.get("http.request.header.authorization")).toBe("<redacted>")
        expect(allText(spans)).not.toContain(API_KEY)
      })
  )

  it.effect("streams and the other endpoints have their spans, the default model named", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient((request) =>
        request.url.endsWith("/models")
          ? json([{ id: "glm-4-6" }])
          : request.url.endsWith("token-count")
            ? json({ token_count: 3 })
            : sse(
                request.url.endsWith("/chat/completions")
                  ? `${chatChunk("Hello", "stop")}data: [DONE]\n\n`
                  : `data: {"id":"c","object":"text_completion","created":1,"model":"glm-4-6","choices":[{"index":0,"text":"Hello","finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`
              )
      )
      const { spans } = yield* traced(
        Effect.all([
          OpenAI.listModels(),
          OpenAI.tokenCount({ prompt: "x" }),
          Stream.runDrain(OpenAI.chatCompletionStream({ messages: [{ role: "user", content: "x" }] })),
          Stream.runDrain(OpenAI.completionStream({ prompt: "x" }))
        ]).pipe(Effect.provide(layer))
      )
      const names = spans.map((s) => s.name)
      expect(names).toEqual(
        expect.arrayContaining([
          "NovelAI.listModels",
          "NovelAI.tokenCount",
          "NovelAI.chatCompletionStream",
          "NovelAI.completionStream"
        ])
      )
      const stream = spans.find((s) => s.name === "NovelAI.chatCompletionStream")!
      expect(stream.attributes.get("gen_ai.request.model")).toBe("glm-4-6")
      expect(allText(spans)).not.toContain(API_KEY)
    })
  )

  it.effect("a call's and a stream's spans report the response: id, model, finish reasons, usage", () =>
    Effect.gen(function* () {
      const chunk = (content: string, finish: string | null, usage = "") =>
        `data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"glm-4-6-0925","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":${JSON.stringify(finish)}}]${usage}}\n\n`
      const { layer } = makeTestClient(
        (request) =>
          request.headers.accept === "text/event-stream"
            ? sse(
                chunk("Hel", null) +
                  chunk("lo", "stop", ',"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}') +
                  "data: [DONE]\n\n"
              )
            : json(chatBody),
        // The call's own non-streaming answer, beside the stream's.
        { collectStream: false }
      )
      const hi = { messages: [{ role: "user" as const, content: "Hi" }] }
      const { spans } = yield* traced(
        Effect.all([OpenAI.chatCompletion(hi), Stream.runDrain(OpenAI.chatCompletionStream(hi))]).pipe(
          Effect.provide(layer)
        )
      )
      const attributes = (name: string) => Object.fromEntries(spans.find((s) => s.name === name)!.attributes)
      expect(attributes("NovelAI.chatCompletion")).toMatchObject({
        "gen_ai.response.id": "x",
        "gen_ai.response.model": "glm-4-5",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 4,
        "gen_ai.usage.output_tokens": 1
      })
      expect(attributes("NovelAI.chatCompletionStream")).toMatchObject({
        "gen_ai.request.model": "glm-4-6",
        "gen_ai.response.id": "chatcmpl-9",
        "gen_ai.response.model": "glm-4-6-0925",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 2
      })
    })
  )

  it.effect("a failed call logged at every level shows no key", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const logger = Logger.make(({ message, cause }) => {
        lines.push(`${String(message)} ${JSON.stringify(message)} ${String(cause)}`)
      })
      const { layer } = makeTestClient(() =>
        json({ statusCode: 401, message: `bad key ${API_KEY}` }, { status: 401 })
      )
      const failing = OpenAI.listModels().pipe(Effect.provide(layer))
      for (const level of LogLevel.allLevels) {
        yield* failing.pipe(
          Effect.tapErrorCause((cause) => Effect.logWithLevel(level, "call failed", cause)),
          Effect.tapError((error) => Effect.logWithLevel(level, error)),
          Effect.ignore,
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
      }
      expect(lines.length).toBeGreaterThanOrEqual(LogLevel.allLevels.length)
      expect(lines.join("\n")).toContain("bad key")
      expect(lines.join("\n")).not.toContain(API_KEY)
    })
  )
})

describe("spans under Effect's default tracer", () => {
  const named = Telemetry.withSpan("NovelAI.test", { kind: "client" })(
    Effect.map(Effect.option(Effect.currentSpan), (span) => (span._tag === "Some" ? span.value.name : "none"))
  )

  it.effect("none is opened when nothing records it, one when a tracer does", () =>
    Effect.gen(function* () {
      expect(yield* named).toBe("none")
      expect(yield* Effect.scoped(Telemetry.makeSpanScoped("NovelAI.test", {}))).toBeUndefined()
      const { exit, spans } = yield* traced(named)
      expect(exit._tag === "Success" && exit.value).toBe("NovelAI.test")
      expect(spans.map((s) => s.name)).toEqual(["NovelAI.test"])
    })
  )
})
