/**
 * The native text API (`client.text`, `Text.*`): every parameter on the wire, tokenization against
 * known Llama 3 ids, the answers and stream frames NovelAI sends, its errors, and end to end
 * against the simulator from the Effect API and the facade.
 */
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Layer, Stream, TestClock } from "effect"
import {
  AuthenticationError,
  InvalidRequestError,
  NovelAI,
  NovelAIClient,
  OpenAI,
  ServerError,
  StreamTruncatedError,
  Text,
  type TextGenerateParams,
  TimeoutError
} from "effect-novelai"
import { startSimulator } from "effect-novelai/testing"
import { controlledBody, json, makeTestClient, sse, withSimulator } from "../support.js"

const generated = (output = " and so it went.") => json({ output })

/** The `parameters` the client sends for `params`, through a test HttpClient. */
const wireOf = (params: Record<string, unknown>, options?: Partial<NovelAIClient.Options>) =>
  Effect.gen(function* () {
    const { recorded, layer } = makeTestClient(() => generated(), options)
    yield* Text.generate({ input: "Once", ...params } as TextGenerateParams).pipe(Effect.provide(layer))
    return recorded[0]!.body as {
      input: string
      model: string
      prefix?: string
      parameters: Record<string, unknown>
    }
  })

const refusal = (params: Record<string, unknown>, options?: Partial<NovelAIClient.Options>) =>
  Effect.gen(function* () {
    const { recorded, layer } = makeTestClient(() => generated(), options)
    const result = yield* Effect.either(
      Text.generate({ input: "Once", ...params } as TextGenerateParams).pipe(Effect.provide(layer))
    )
    expect(recorded).toHaveLength(0)
    return Either.isLeft(result) ? result.left : undefined
  })

describe("the request", () => {
  it.effect(
    "goes to POST /ai/generate as { input, model, parameters } with use_string and the site's lengths",
    () =>
      Effect.gen(function* () {
        const { recorded, layer } = makeTestClient(() => generated())
        const result = yield* Text.generate({ input: "The lighthouse" }).pipe(Effect.provide(layer))
        expect(result).toEqual({ output: " and so it went." })
        expect(recorded[0]!.method).toBe("POST")
        expect(new URL(recorded[0]!.url).pathname).toBe("/ai/generate")
        expect(recorded[0]!.body).toEqual({
          input: "The lighthouse",
          model: "llama-3-erato-v1",
          parameters: { use_string: true, max_length: 40, min_length: 1 }
        })
      })
  )

  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, Record<string, unknown>]> = [
    ["maxLength", { maxLength: 120 }, { max_length: 120 }],
    ["minLength", { minLength: 5 }, { min_length: 5 }],
    ["temperature", { temperature: 1.25 }, { temperature: 1.25 }],
    ["topK", { topK: 20 }, { top_k: 20 }],
    ["topP", { topP: 0.9 }, { top_p: 0.9 }],
    ["topA", { topA: 0.1 }, { top_a: 0.1 }],
    ["typicalP", { typicalP: 0.95 }, { typical_p: 0.95 }],
    ["tailFreeSampling", { tailFreeSampling: 0.97 }, { tail_free_sampling: 0.97 }],
    ["minP", { minP: 0.05 }, { min_p: 0.05 }],
    ["repetitionPenalty", { repetitionPenalty: 1.15 }, { repetition_penalty: 1.15 }],
    ["repetitionPenaltyRange", { repetitionPenaltyRange: 2048 }, { repetition_penalty_range: 2048 }],
    ["repetitionPenaltySlope", { repetitionPenaltySlope: 0.5 }, { repetition_penalty_slope: 0.5 }],
    [
      "repetitionPenaltyFrequency",
      { repetitionPenaltyFrequency: 0.02 },
      { repetition_penalty_frequency: 0.02 }
    ],
    ["repetitionPenaltyPresence", { repetitionPenaltyPresence: 0.1 }, { repetition_penalty_presence: 0.1 }],
    [
      "repetitionPenaltyWhitelist",
      { repetitionPenaltyWhitelist: [13, 11] },
      { repetition_penalty_whitelist: [13, 11] }
    ],
    [
      "repetitionPenaltyDefaultWhitelist",
      { repetitionPenaltyDefaultWhitelist: true },
      { repetition_penalty_default_whitelist: true }
    ],
    ["phraseRepPen", { phraseRepPen: "very_light" }, { phrase_rep_pen: "very_light" }],
    ["order by name", { order: ["temperature", "minP", "unified"] }, { order: [0, 10, 9] }],
    ["order by id", { order: [2, 1, 0] }, { order: [2, 1, 0] }],
    ["cfgScale", { cfgScale: 1.5 }, { cfg_scale: 1.5 }],
    ["mirostatTau", { mirostatTau: 5 }, { mirostat_tau: 5 }],
    ["mirostatLr", { mirostatLr: 0.1 }, { mirostat_lr: 0.1 }],
    ["unifiedLinear", { unifiedLinear: 0.3 }, { math1_temp: 0.3 }],
    ["unifiedQuadratic", { unifiedQuadratic: 0.19 }, { math1_quad: 0.19 }],
    [
      "unifiedIncreaseLinearWithEntropy",
      { unifiedIncreaseLinearWithEntropy: 0.4 },
      { math1_quad_entropy_scale: 0.4 }
    ],
    ["stopSequences as ids", { stopSequences: [[271], [13, 198]] }, { stop_sequences: [[271], [13, 198]] }],
    [
      "stopSequences as text",
      { stopSequences: ["\n\n", "Hello world"] },
      { stop_sequences: [[271], [9906, 1917]] }
    ],
    ["badWords as text and ids", { badWords: ["Hello", [42]] }, { bad_words_ids: [[9906], [42]] }],
    [
      "logitBias",
      {
        logitBias: [
          { sequence: " world", bias: -2, generateOnce: true },
          { sequence: [9906], bias: 1 }
        ]
      },
      {
        logit_bias_exp: [
          { sequence: [1917], bias: -2, ensure_sequence_finish: false, generate_once: true },
          { sequence: [9906], bias: 1, ensure_sequence_finish: false, generate_once: false }
        ]
      }
    ],
    ["numLogprobs", { numLogprobs: 5 }, { num_logprobs: 5 }],
    ["generateUntilSentence", { generateUntilSentence: true }, { generate_until_sentence: true }],
    ["extraBody", { extraBody: { use_cache: false } }, { use_cache: false }]
  ]

  it.effect.each(cases)("%s", ([, params, wire]) =>
    Effect.gen(function* () {
      const body = yield* wireOf(params)
      expect(body.parameters).toMatchObject(wire)
      expect(body.parameters.use_string).toBe(true)
    })
  )

  it.effect("model and prefix go beside the parameters; defaultTextModel picks the model", () =>
    Effect.gen(function* () {
      const body = yield* wireOf({ model: "kayra-v1", prefix: "vanilla" })
      expect(body.model).toBe("kayra-v1")
      expect(body.prefix).toBe("vanilla")
      expect(body.parameters).not.toHaveProperty("prefix")
      expect((yield* wireOf({}, { defaultTextModel: "kayra-v1" })).model).toBe("kayra-v1")
    })
  )

  const refused: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
    ["a GLM model", { model: "glm-4-6" }, "glm-4-6 is an /oa/v1 model"],
    ["maxLength out of range", { maxLength: 4096 }, "maxLength must be an integer from 1 to 2048"],
    ["minLength over maxLength", { minLength: 50, maxLength: 10 }, "minLength must not exceed maxLength"],
    ["topP out of range", { topP: 1.5 }, "topP must be a number from 0 to 1"],
    ["numLogprobs out of range", { numLogprobs: 31 }, "numLogprobs must be an integer from 0 to 30"],
    ["an unknown sampler", { order: ["temperature", "bogus"] }, "order must be an array of samplers"],
    ["a sampler twice", { order: ["topK", 1] }, "must name each sampler once"],
    ["an unknown phraseRepPen", { phraseRepPen: "extreme" }, 'phraseRepPen must be one of "off"'],
    ["an empty stop sequence", { stopSequences: [""] }, "stopSequences"],
    ["too many stop sequences", { stopSequences: Array.from({ length: 1025 }, () => [1]) }, "at most 1024"],
    ["an /oa/v1 name", { maxTokens: 10 }, "the native API calls it maxLength"],
    ["the cubic unified term", { unifiedCubic: 1 }, "has no cubic term"],
    ["stream", { stream: true }, "use generateStream"],
    ["input over 100,000 characters", { input: "x".repeat(100_001) }, "at most 100,000 characters"],
    [
      "extraBody setting a typed parameter",
      { maxLength: 10, extraBody: { max_length: 20 } },
      "extraBody.max_length"
    ]
  ]

  it.effect.each(refused)("refuses %s before sending", ([, params, message]) =>
    Effect.gen(function* () {
      const error = yield* refusal(params)
      expect(error).toBeInstanceOf(InvalidRequestError)
      expect(error!.message).toContain(message)
    })
  )

  it.effect(
    "text for Kayra is refused (no verified nerdstash tokenizer); ids pass; a loader of its own works",
    () =>
      Effect.gen(function* () {
        const error = yield* refusal({ model: "kayra-v1", stopSequences: ["\n"] })
        expect(error?.message).toContain("kayra-v1's tokenizer (nerdstash v2)")
        expect(
          (yield* wireOf({ model: "kayra-v1", stopSequences: [[85]] })).parameters.stop_sequences
        ).toEqual([[85]])
        const own = { encode: (text: string) => [...text].map((c) => c.charCodeAt(0)) }
        const body = yield* wireOf(
          { model: "kayra-v1", badWords: ["ab"] },
          { tokenizers: { "kayra-v1": () => own } }
        )
        expect(body.parameters.bad_words_ids).toEqual([[97, 98]])
      })
  )

  it.effect(
    "a tokenizer loads once, only when a call has text to tokenize, and a failed load is retried",
    () =>
      Effect.gen(function* () {
        let loads = 0
        let fail = true
        const loader = () => {
          loads++
          if (fail) throw new Error("not there yet")
          return { default: { encode: () => [7] } }
        }
        const options = { tokenizers: { "kayra-v1": loader } }
        yield* wireOf({ model: "kayra-v1", stopSequences: [[1]] }, options)
        expect(loads).toBe(0)
        const error = yield* refusal({ model: "kayra-v1", stopSequences: ["x"] }, options)
        expect(error?.message).toContain("could not be loaded: not there yet")
        fail = false
        yield* wireOf({ model: "kayra-v1", stopSequences: ["x"] }, options)
        yield* wireOf({ model: "kayra-v1", badWords: ["y"] }, options)
        expect(loads).toBe(2)
      })
  )
})

describe("tokenization (Llama 3, Erato's)", () => {
  const { layer } = makeTestClient(() => generated())
  it.effect.each([
    ["Hello world", 2],
    ["\n\n", 1],
    ["", 0],
    ["The quick brown fox jumps over the lazy dog.", 10]
  ] as const)("Text.tokenCount(%j) is %i, without BOS or EOS", ([input, count]) =>
    Effect.map(Text.tokenCount({ input }).pipe(Effect.provide(layer)), (n) => expect(n).toBe(count))
  )

  it.effect("is refused for a GLM model and for Kayra's text", () =>
    Effect.gen(function* () {
      const glm = yield* Effect.flip(
        Text.tokenCount({ input: "x", model: "glm-4-6" }).pipe(Effect.provide(layer))
      )
      expect(glm.message).toContain("glm-4-6 is an /oa/v1 model")
      const kayra = yield* Effect.flip(
        Text.tokenCount({ input: "x", model: "kayra-v1" }).pipe(Effect.provide(layer))
      )
      expect(kayra).toBeInstanceOf(InvalidRequestError)
    })
  )
})

describe("the answers", () => {
  it.effect("logprobs are kept; an { error } inside a 200 is a ServerError", () =>
    Effect.gen(function* () {
      const lp = [{ chosen: [[[1], [-0.1, -0.1]]], before: [], after: [] }]
      const ok = makeTestClient(() => json({ output: "x", logprobs: lp }))
      expect(yield* Text.generate({ input: "a" }).pipe(Effect.provide(ok.layer))).toEqual({
        output: "x",
        logprobs: lp
      })
      const bad = makeTestClient(() => json({ error: "model overloaded" }))
      const error = yield* Effect.flip(Text.generate({ input: "a" }).pipe(Effect.provide(bad.layer)))
      expect(error).toBeInstanceOf(ServerError)
      expect(error.message).toContain("model overloaded")
    })
  )

  const frames = (tokens: ReadonlyArray<string>, final = true) =>
    tokens
      .map(
        (token, ptr) =>
          `event: newToken\nid: ${ptr}\ndata: ${JSON.stringify({ token, ptr, final: final && ptr === tokens.length - 1, logprobs: null })}\n\n`
      )
      .join("")

  it.effect("a stream is its newToken frames, to the final token; textDeltas and collect read it", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() =>
        sse(`: keep-alive\n\n${frames([" Once", " upon", ""])}`)
      )
      const tokens = yield* Stream.runCollect(Text.generateStream({ input: "a" })).pipe(Effect.provide(layer))
      expect([...tokens]).toEqual([
        { token: " Once", ptr: 0, final: false },
        { token: " upon", ptr: 1, final: false },
        { token: "", ptr: 2, final: true }
      ])
      expect(new URL(recorded[0]!.url).pathname).toBe("/ai/generate-stream")
      expect(recorded[0]!.headers.accept).toBe("text/event-stream")
      const text = yield* Text.generateStream({ input: "a" }).pipe(
        Text.textDeltas,
        Stream.mkString,
        Effect.provide(layer)
      )
      expect(text).toBe(" Once upon")
      expect(yield* Text.collect(Text.generateStream({ input: "a" })).pipe(Effect.provide(layer))).toEqual({
        output: " Once upon"
      })
    })
  )

  it.effect("a stream that ends before its final token is a StreamTruncatedError", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() => sse(frames([" Once", " upon"], false)))
      const error = yield* Effect.flip(
        Stream.runDrain(Text.generateStream({ input: "a" })).pipe(Effect.provide(layer))
      )
      expect(error).toBeInstanceOf(StreamTruncatedError)
      expect(error.message).toContain("before its final token")
      expect((error as StreamTruncatedError).chunksReceived).toBe(2)
    })
  )

  it.effect("an error inside a frame fails the stream with its typed error", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() =>
        sse(`${frames([" Once"], false)}event: newToken\ndata: {"error":"boom"}\n\n`)
      )
      const error = yield* Effect.flip(
        Stream.runDrain(Text.generateStream({ input: "a" })).pipe(Effect.provide(layer))
      )
      expect(error).toBeInstanceOf(ServerError)
      expect(error.message).toContain("boom")
    })
  )

  it.effect("the stream's idle timeout ends a quiet stream, and closes the request", () =>
    Effect.gen(function* () {
      const body = controlledBody()
      const { http } = body.client()
      const layer = NovelAIClient.layer({ apiKey: "pst-x", maxRetries: 0, idleTimeout: "30 seconds" }).pipe(
        Layer.provide(http)
      )
      const fiber = yield* Effect.fork(
        Stream.runDrain(Text.generateStream({ input: "a" })).pipe(Effect.provide(layer))
      )
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
      body.push(frames([" Once"], false))
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
      yield* TestClock.adjust("31 seconds")
      const exit = yield* fiber.await
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toBeInstanceOf(
        TimeoutError
      )
      expect(body.state.aborted || body.state.cancelled).toBe(true)
    })
  )
})

describe("against the simulator", () => {
  it.live("generate and generateStream give the same text; a stop sequence as text ends it", () =>
    withSimulator({}, {}, () =>
      Effect.gen(function* () {
        const whole = yield* Text.generate({ input: "The fox", maxLength: 30 })
        const streamed = yield* Text.generateStream({ input: "The fox", maxLength: 30 }).pipe(
          Text.textDeltas,
          Stream.mkString
        )
        expect(streamed).toBe(whole.output)
        expect(whole.output.length).toBeGreaterThan(0)
        const stopped = yield* Text.generate({ input: "The fox", maxLength: 100, stopSequences: ["."] })
        expect(stopped.output.endsWith(".")).toBe(true)
        expect(stopped.output.indexOf(".")).toBe(stopped.output.length - 1)
        const collected = yield* Text.generate({ input: "The fox", maxLength: 30 }, { collectStream: true })
        expect(collected).toEqual(whole)
      })
    )
  )

  it.live(
    "use_string: false (through extraBody) is token ids as base64 both ways, 4 bytes each for Erato",
    () =>
      withSimulator({}, {}, () =>
        Effect.gen(function* () {
          const ids = Buffer.alloc(8)
          ids.writeUInt32LE(9906, 0)
          ids.writeUInt32LE(1917, 4)
          const { output } = yield* Text.generate({
            input: ids.toString("base64"),
            maxLength: 5,
            extraBody: { use_string: false }
          })
          expect(Buffer.from(output, "base64").length).toBe(5 * 4)
          const kayra = yield* Text.generate({
            model: "kayra-v1",
            input: ids.toString("base64"),
            maxLength: 5,
            extraBody: { use_string: false }
          })
          expect(Buffer.from(kayra.output, "base64").length).toBe(5 * 2)
          const bad = yield* Effect.flip(
            Text.generate({ input: "not base64!", extraBody: { use_string: false } })
          )
          expect(bad).toBeInstanceOf(InvalidRequestError)
          expect(bad.message).toContain("base64")
        })
      )
  )

  it.live("covers the spec's table of models end to end", () =>
    withSimulator({}, {}, () =>
      Effect.gen(function* () {
        for (const model of ["glm-4-5", "glm-4-6"]) {
          const reply = yield* OpenAI.chatCompletion({ model, messages: [{ role: "user", content: "Hi" }] })
          expect(reply.choices[0]!.message.content.length).toBeGreaterThan(0)
        }
        for (const model of ["llama-3-erato-v1", "kayra-v1", "clio-v1"]) {
          const { output } = yield* Text.generate({ model, input: "Once", maxLength: 10 })
          expect(output.length).toBeGreaterThan(0)
        }
        const error = yield* Effect.flip(
          OpenAI.chatCompletion({ model: "kayra-v1", messages: [{ role: "user", content: "Hi" }] })
        )
        expect(error.message).toContain("kayra-v1 is a native model, not served on /oa/v1")
      })
    )
  )

  it.live(
    "the server's tier caps: maxLength over 150 is a 400 for Scroll and fine for Opus; a free key is a 402",
    () =>
      withSimulator(
        { apiKeys: ["pst-scroll", { key: "pst-opus", tier: "opus" }, { key: "pst-free", tier: "free" }] },
        { apiKey: "pst-scroll" },
        (sim) =>
          Effect.gen(function* () {
            const capped = yield* Effect.flip(Text.generate({ input: "a", maxLength: 200 }))
            expect(capped).toBeInstanceOf(InvalidRequestError)
            expect(capped.message).toContain("at most 150")
            expect(sim.requests.at(-1)!.status).toBe(400)
            const context = yield* Effect.flip(Text.generate({ input: "word ".repeat(9000) }))
            expect(context.message).toContain("8192")
            const opus = NovelAIClient.layer({ apiKey: "pst-opus", baseUrl: sim.url }).pipe(
              Layer.provide(FetchHttpClient.layer)
            )
            const long = yield* Text.generate({ input: "a", maxLength: 200 }).pipe(Effect.provide(opus))
            expect(long.output.length).toBeGreaterThan(0)
            const free = NovelAIClient.layer({ apiKey: "pst-free", baseUrl: sim.url }).pipe(
              Layer.provide(FetchHttpClient.layer)
            )
            expect(
              yield* Effect.flip(Text.generate({ input: "a" }).pipe(Effect.provide(free)))
            ).toBeInstanceOf(AuthenticationError)
          })
      )
  )

  it.live(
    "one generation gate covers both APIs: a chat stream and a native generation never meet the lock",
    () =>
      withSimulator({ chunkDelayMs: 2 }, {}, (sim) =>
        Effect.gen(function* () {
          const chat = OpenAI.chatCompletionStream({
            messages: [{ role: "user", content: "Hi" }],
            maxTokens: 20
          }).pipe(OpenAI.textDeltas, Stream.mkString)
          const [reply, story] = yield* Effect.all([chat, Text.generate({ input: "a", maxLength: 20 })], {
            concurrency: "unbounded"
          })
          expect(reply.length).toBeGreaterThan(0)
          expect(story.output.length).toBeGreaterThan(0)
          expect(sim.requests.map((r) => r.status)).toEqual([200, 200])
          const [first, second] = sim.requests
          expect(second!.receivedAt).toBeGreaterThanOrEqual(first!.closedAt!)
        })
      )
  )

  it.live("without the gate the simulator's shared lock answers 429, which the client waits out", () =>
    withSimulator({ chunkDelayMs: 2 }, { generationConcurrency: "unbounded" }, (sim) =>
      Effect.gen(function* () {
        const chat = OpenAI.chatCompletionStream({
          messages: [{ role: "user", content: "Hi" }],
          maxTokens: 20
        }).pipe(Stream.runDrain)
        yield* Effect.all([chat, Effect.delay(Text.generate({ input: "a", maxLength: 20 }), "5 millis")], {
          concurrency: "unbounded"
        })
        expect(sim.requests.map((r) => r.status)).toContain(429)
        expect(sim.requests.at(-1)!.status).toBe(200)
      })
    )
  )

  it.live("interrupting a stream closes the request; a reset before the first token is retried", () =>
    withSimulator({ chunkDelayMs: 2 }, { maxRetries: 2 }, (sim) =>
      Effect.gen(function* () {
        const two = yield* Text.generateStream({ input: "a", maxLength: 40 }).pipe(
          Stream.take(2),
          Stream.runCollect
        )
        expect(two.length).toBe(2)
        // The simulator's own event, not a time: the first request's connection closed.
        expect((yield* Effect.promise(() => sim.closed(0))).clientClosedEarly).toBe(true)
        sim.enqueueFault({ kind: "reset", after: 0 })
        const text = yield* Text.generateStream({ input: "a", maxLength: 5 }).pipe(
          Text.textDeltas,
          Stream.mkString
        )
        expect(text.length).toBeGreaterThan(0)
        expect(sim.requests.slice(1).map((r) => r.fault?.kind)).toEqual(["reset", undefined])
      })
    )
  )

  it.live("stream faults are typed errors: an error frame, a cut before the final token", () =>
    withSimulator({}, { maxRetries: 0 }, (sim) =>
      Effect.gen(function* () {
        sim.enqueueFault({ kind: "error-frame", after: 2, message: "the model hit a snag" })
        const frame = yield* Effect.flip(Stream.runDrain(Text.generateStream({ input: "a" })))
        expect(frame).toBeInstanceOf(ServerError)
        expect(frame.message).toContain("the model hit a snag")
        sim.enqueueFault({ kind: "cut", after: 3 })
        const cut = yield* Effect.flip(Stream.runDrain(Text.generateStream({ input: "a" })))
        expect(cut).toBeInstanceOf(StreamTruncatedError)
      })
    )
  )
})

describe("the facade", () => {
  it("client.text.generate, generateStream with an AbortSignal, and tokenCount", async () => {
    const sim = await startSimulator({ chunkDelayMs: 2 })
    const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url })
    try {
      const { output } = await client.text.generate({ input: "The fox", maxLength: 12 })
      let streamed = ""
      for await (const token of client.text.generateStream({ input: "The fox", maxLength: 12 }))
        streamed += token.token
      expect(streamed).toBe(output)
      const controller = new AbortController()
      const seen: Array<string> = []
      await expect(
        (async () => {
          for await (const token of client.text.generateStream(
            { input: "a", maxLength: 40 },
            controller.signal
          )) {
            seen.push(token.token)
            if (seen.length === 2) controller.abort()
          }
        })()
      ).rejects.toMatchObject({ name: "AbortError" })
      expect(seen).toHaveLength(2)
      expect(await client.text.tokenCount({ input: "Hello world" })).toBe(2)
      await expect(client.text.generate({ input: "a", model: "glm-4-6" })).rejects.toBeInstanceOf(
        InvalidRequestError
      )
    } finally {
      await client.close()
      await sim.close()
    }
    expect(sim.requests[2]!.clientClosedEarly).toBe(true)
  })
})
