import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { InvalidRequestError, OpenAI } from "effect-novelai"
import { API_KEY, chatChunk, json, makeTestClient, sse } from "../support.js"

const chatBody = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1700000000,
  model: "glm-4-6",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello there" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }
}

const completionBody = {
  id: "cmpl-1",
  object: "text_completion",
  created: 1700000000,
  model: "glm-4-6",
  choices: [{ text: " there lived a cat.", index: 0, finish_reason: "length" }],
  usage: { prompt_tokens: 8, completion_tokens: 5, total_tokens: 13 }
}

const fullSampling = {
  model: "glm-4-5",
  maxTokens: 100,
  temperature: 0.7,
  topP: 0.9,
  topK: 40,
  minP: 0.05,
  stop: ["\n\n", "END"],
  frequencyPenalty: 0.5,
  presencePenalty: -0.5,
  seed: 42,
  unifiedLinear: 0.1,
  unifiedQuadratic: 0.2,
  unifiedCubic: 0.3,
  unifiedIncreaseLinearWithEntropy: 0.4
}

const fullSamplingWire = {
  model: "glm-4-5",
  max_tokens: 100,
  temperature: 0.7,
  top_p: 0.9,
  top_k: 40,
  min_p: 0.05,
  stop: ["\n\n", "END"],
  frequency_penalty: 0.5,
  presence_penalty: -0.5,
  seed: 42,
  unified_linear: 0.1,
  unified_quadratic: 0.2,
  unified_cubic: 0.3,
  unified_increase_linear_with_entropy: 0.4
}

const expectHeaders = (headers: Record<string, string>, accept: string, withBody: boolean) => {
  expect(headers.authorization).toBe(`Bearer ${API_KEY}`)
  expect(headers.accept).toBe(accept)
  expect(headers["user-agent"]).toBe("effect-novelai/0.1.0")
  if (withBody) expect(headers["content-type"]).toBe("application/json")
  // Trace headers are not sent to NovelAI unless asked for.
  expect(headers.traceparent).toBeUndefined()
  expect(headers.b3).toBeUndefined()
}

describe("requests on the wire", () => {
  it.effect("listModels: GET /oa/v1/models, decoded to an array of models", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() =>
        json({
          object: "list",
          data: [
            { id: "glm-4-5", object: "model", created: 1, owned_by: "novelai" },
            { id: "glm-4-6", object: "model", created: 2, owned_by: "novelai" }
          ]
        })
      )
      const models = yield* OpenAI.listModels().pipe(Effect.provide(layer))
      expect(models.map((m) => [m.id, m.owned_by])).toEqual([
        ["glm-4-5", "novelai"],
        ["glm-4-6", "novelai"]
      ])
      expect(recorded).toHaveLength(1)
      expect(recorded[0]!.method).toBe("GET")
      expect(recorded[0]!.url).toBe("https://text.novelai.net/oa/v1/models")
      expect(recorded[0]!.body).toBeUndefined()
      expectHeaders(recorded[0]!.headers, "application/json", false)
    })
  )

  it.effect("completion: full parameter set in snake_case", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => json(completionBody))
      const result = yield* OpenAI.completion({ prompt: "Once upon a time,", n: 2, ...fullSampling }).pipe(
        Effect.provide(layer)
      )
      expect(result.choices[0]!.text).toBe(" there lived a cat.")
      expect(result.object).toBe("text_completion")
      expect(result.usage).toEqual({ prompt_tokens: 8, completion_tokens: 5, total_tokens: 13 })
      expect(recorded[0]!.method).toBe("POST")
      expect(recorded[0]!.url).toBe("https://text.novelai.net/oa/v1/completions")
      expect(recorded[0]!.body).toStrictEqual({ prompt: "Once upon a time,", n: 2, ...fullSamplingWire })
      expectHeaders(recorded[0]!.headers, "application/json", true)
    })
  )

  it.effect("completion: minimal parameters send only prompt and the default model", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => json(completionBody))
      yield* OpenAI.completion({ prompt: "Hi", maxTokens: undefined }).pipe(Effect.provide(layer))
      expect(recorded[0]!.body).toStrictEqual({ prompt: "Hi", model: "glm-4-6" })
    })
  )

  it.effect("chatCompletion (collectStream: false): full parameter set in snake_case", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => json(chatBody), { collectStream: false })
      const messages = [
        { role: "system" as const, content: "You are helpful." },
        { role: "user" as const, content: "Hello!", name: "ann" }
      ]
      const result = yield* OpenAI.chatCompletion({ messages, enableThinking: true, ...fullSampling }).pipe(
        Effect.provide(layer)
      )
      expect(result.choices[0]!.message.content).toBe("Hello there")
      expect(result.object).toBe("chat.completion")
      expect(recorded[0]!.url).toBe("https://text.novelai.net/oa/v1/chat/completions")
      expect(recorded[0]!.body).toStrictEqual({ messages, enable_thinking: true, ...fullSamplingWire })
      expectHeaders(recorded[0]!.headers, "application/json", true)
    })
  )

  it.effect("chatCompletion (collectStream: false): minimal parameters", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => json(chatBody), {
        defaultModel: "glm-4-5",
        collectStream: false
      })
      yield* OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }).pipe(
        Effect.provide(layer)
      )
      expect(recorded[0]!.body).toStrictEqual({
        messages: [{ role: "user", content: "Hi" }],
        model: "glm-4-5"
      })
    })
  )

  it.effect("chatCompletion by default streams and collects: one request, the whole reply", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() =>
        sse(
          `data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"glm-4-6","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}\n\n` +
            `data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"glm-4-6","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":2,"total_tokens":4}}\n\n` +
            "data: [DONE]\n\n"
        )
      )
      const result = yield* OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }).pipe(
        Effect.provide(layer)
      )
      expect(recorded).toHaveLength(1)
      expect(recorded[0]!.body).toMatchObject({ stream: true })
      expect(recorded[0]!.headers.accept).toBe("text/event-stream")
      expect(result).toMatchObject({
        object: "chat.completion",
        id: "c1",
        choices: [
          { index: 0, message: { role: "assistant", content: "Hello there" }, finish_reason: "stop" }
        ],
        usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 }
      })
      // Per call, and for completions the other way round.
      const plain = makeTestClient(() => json(chatBody))
      yield* OpenAI.chatCompletion(
        { messages: [{ role: "user", content: "Hi" }] },
        { collectStream: false }
      ).pipe(Effect.provide(plain.layer))
      expect(plain.recorded[0]!.body).not.toHaveProperty("stream")
    })
  )

  it.effect("streams send stream: true and accept text/event-stream", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient((request) =>
        sse(
          request.url.endsWith("/chat/completions")
            ? `${chatChunk("Hello", "stop")}data: [DONE]\n\n`
            : `data: {"id":"c","object":"text_completion","created":1,"model":"glm-4-6","choices":[{"index":0,"text":"Hello","finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`
        )
      )
      yield* OpenAI.chatCompletionStream({ messages: [{ role: "user", content: "Hi" }] }).pipe(
        OpenAI.collectChatCompletion,
        Effect.provide(layer)
      )
      yield* OpenAI.completionStream({ prompt: "Hi", seed: 1 }).pipe(
        OpenAI.collectCompletion,
        Effect.provide(layer)
      )
      expect(recorded[0]!.body).toStrictEqual({
        messages: [{ role: "user", content: "Hi" }],
        model: "glm-4-6",
        stream: true
      })
      expect(recorded[1]!.body).toStrictEqual({ prompt: "Hi", seed: 1, model: "glm-4-6", stream: true })
      expect(recorded[1]!.url).toBe("https://text.novelai.net/oa/v1/completions")
      expectHeaders(recorded[0]!.headers, "text/event-stream", true)
    })
  )

  it.effect("tokenCount: POST /oa/v1/internal/token-count, decoded to a number", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() =>
        json({ length: 9, encoded: [1, 2, 3, 4, 5, 6, 7, 8, 9] })
      )
      const count = yield* OpenAI.tokenCount({ prompt: "Hello, world!", model: "llama-3-erato-v1" }).pipe(
        Effect.provide(layer)
      )
      expect(count).toBe(9)
      expect(recorded[0]!.url).toBe("https://text.novelai.net/oa/v1/internal/token-count")
      expect(recorded[0]!.body).toStrictEqual({ prompt: "Hello, world!", model: "llama-3-erato-v1" })
    })
  )

  it.effect("baseUrl, userAgent and a trailing /oa/v1 in the base URL", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => json([{ id: "glm-4-6" }]), {
        baseUrl: "https://proxy.example.com/novelai/oa/v1/",
        userAgent: "my-app/2.0",
        headers: { "x-proxy-token": "abc" }
      })
      yield* OpenAI.listModels().pipe(Effect.provide(layer))
      expect(recorded[0]!.url).toBe("https://proxy.example.com/novelai/oa/v1/models")
      expect(recorded[0]!.headers["user-agent"]).toBe("my-app/2.0")
      expect(recorded[0]!.headers["x-proxy-token"]).toBe("abc")
    })
  )
})

describe("local validation: InvalidRequestError naming the field, nothing sent", () => {
  const cases: ReadonlyArray<[string, Record<string, unknown>, string, RegExp]> = [
    ["maxTokens above 2048", { maxTokens: 4096 }, "maxTokens", /from 1 to 2048.*4096/],
    ["maxTokens not an integer", { maxTokens: 10.5 }, "maxTokens", /integer from 1 to 2048/],
    ["maxTokens zero", { maxTokens: 0 }, "maxTokens", /from 1 to 2048/],
    ["temperature above 2", { temperature: 2.5 }, "temperature", /from 0 to 2/],
    ["temperature NaN", { temperature: Number.NaN }, "temperature", /from 0 to 2/],
    ["topP above 1", { topP: 1.5 }, "topP", /from 0 to 1/],
    ["topK negative", { topK: -1 }, "topK", /integer >= 0/],
    ["minP negative", { minP: -0.1 }, "minP", /from 0 to 1/],
    ["frequencyPenalty below -2", { frequencyPenalty: -3 }, "frequencyPenalty", /from -2 to 2/],
    ["presencePenalty a string", { presencePenalty: "1" }, "presencePenalty", /from -2 to 2.*"1"/],
    ["seed fractional", { seed: 1.5 }, "seed", /integer/],
    ["stop a number", { stop: 5 }, "stop", /string or an array of strings/],
    ["model empty", { model: "" }, "model", /model id/],
    ["unifiedLinear infinite", { unifiedLinear: Number.POSITIVE_INFINITY }, "unifiedLinear", /finite/],
    ["enableThinking a string", { enableThinking: "yes" }, "enableThinking", /true or false/],
    ["no messages", { messages: [] }, "messages", /at least one message/],
    [
      "array content",
      { messages: [{ role: "user", content: [{ type: "text" }] }] },
      "messages[0].content",
      /part 0 is a text part without a string text, and NovelAI takes text only/
    ],
    [
      "unknown role",
      { messages: [{ role: "tool", content: "x" }] },
      "messages[0].role",
      /"system", "user" or "assistant"/
    ]
  ]
  for (const [name, patch, field, message] of cases) {
    it.effect(`chatCompletion: ${name}`, () =>
      Effect.gen(function* () {
        const { recorded, layer } = makeTestClient(() => json({}))
        const error = yield* OpenAI.chatCompletion({
          messages: [{ role: "user", content: "Hi" }],
          ...patch
        } as never).pipe(Effect.flip, Effect.provide(layer))
        expect(error).toBeInstanceOf(InvalidRequestError)
        expect(error._tag).toBe("InvalidRequestError")
        if (error._tag !== "InvalidRequestError") return
        expect(error.field).toBe(field)
        expect(error.message).toMatch(message)
        expect(error.message).toContain(field)
        expect(recorded).toHaveLength(0)
      })
    )
  }

  it.effect("completion: n below 1, missing prompt, non-object params; streams too", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => json({}))
      const n = yield* OpenAI.completion({ prompt: "x", n: 0 }).pipe(Effect.flip, Effect.provide(layer))
      expect(n).toMatchObject({ _tag: "InvalidRequestError", field: "n" })
      const prompt = yield* OpenAI.completion({} as never).pipe(Effect.flip, Effect.provide(layer))
      expect(prompt).toMatchObject({ _tag: "InvalidRequestError", field: "prompt" })
      const notObject = yield* OpenAI.completion(null as never).pipe(Effect.flip, Effect.provide(layer))
      expect(notObject.message).toMatch(/parameters must be an object/)
      const stream = yield* OpenAI.completionStream({ prompt: "x", temperature: 9 }).pipe(
        OpenAI.collectCompletion,
        Effect.flip,
        Effect.provide(layer)
      )
      expect(stream).toMatchObject({ _tag: "InvalidRequestError", field: "temperature" })
      const count = yield* OpenAI.tokenCount({ prompt: 5 } as never).pipe(Effect.flip, Effect.provide(layer))
      expect(count).toMatchObject({ _tag: "InvalidRequestError", field: "prompt" })
      expect(recorded).toHaveLength(0)
    })
  )
})

describe("bad per-call options: InvalidRequestError, nothing sent", () => {
  const bad: ReadonlyArray<[string, Record<string, unknown>, RegExp]> = [
    ["a timeout that is not a duration", { timeout: "soon" }, /timeout must be a positive duration/],
    ["a negative idle timeout", { idleTimeout: -5 }, /idleTimeout must be a positive duration/],
    ["a fractional retry count", { maxRetries: 1.5 }, /maxRetries must be an integer >= 0/],
    ["a negative retry count", { maxRetries: -1 }, /maxRetries must be an integer >= 0/]
  ]
  for (const [name, options, message] of bad) {
    it.effect(name, () =>
      Effect.gen(function* () {
        const { recorded, layer } = makeTestClient(() => json({}))
        const hi = { messages: [{ role: "user" as const, content: "Hi" }] }
        const call = yield* OpenAI.chatCompletion(hi, options as never).pipe(
          Effect.flip,
          Effect.provide(layer)
        )
        expect(call).toBeInstanceOf(InvalidRequestError)
        expect(call.message).toMatch(message)
        const stream = yield* OpenAI.chatCompletionStream(hi, options as never).pipe(
          OpenAI.collectChatCompletion,
          Effect.flip,
          Effect.provide(layer)
        )
        expect(stream).toBeInstanceOf(InvalidRequestError)
        const models = yield* OpenAI.listModels(options as never).pipe(Effect.flip, Effect.provide(layer))
        expect(models).toBeInstanceOf(InvalidRequestError)
        expect(recorded).toHaveLength(0)
      })
    )
  }
})
