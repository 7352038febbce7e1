/**
 * NovelAI as an `@effect/ai` provider, end to end against the simulator (as NovelAI behaves, and
 * well-behaved where it matters): text, thinking as reasoning parts, streams, `Chat` history,
 * `generateObject`, refusals before sending, errors as `AiError`s with the original as `cause`,
 * and the `gen_ai.*` span annotations.
 */
import { Chat, LanguageModel, Prompt, Tool, Toolkit } from "@effect/ai"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Option, Schema, Stream } from "effect"
import { type NovelAIClient, RateLimitError } from "effect-novelai"
import { NovelAILanguageModel } from "effect-novelai/ai"
import type { Simulator, SimulatorOptions } from "effect-novelai/testing"
import { traced, withSimulator } from "../support.js"

/** A simulator, a client on it, and NovelAI's `LanguageModel` for glm-4-6 with `config`. */
const withModel = <A, E>(
  simOptions: SimulatorOptions,
  config: NovelAILanguageModel.Config.Service,
  body: (sim: Simulator) => Effect.Effect<A, E, LanguageModel.LanguageModel | NovelAIClient.NovelAIClient>,
  clientOptions: Partial<NovelAIClient.Options> = {}
) =>
  withSimulator(simOptions, clientOptions, (sim) =>
    body(sim).pipe(Effect.provide(NovelAILanguageModel.model("glm-4-6", config)))
  )

const bodies = (sim: Simulator) => sim.requests.map((r) => r.body as Record<string, any>)

describe.each([
  ["as NovelAI does", true],
  ["well-behaved", false]
] as const)("the provider against the simulator %s", (_, quirks) => {
  it.live("generateText: the answer as text, the thinking as a reasoning part, the finish with usage", () =>
    withModel({ quirks }, { enableThinking: true, maxTokens: 40 }, (sim) =>
      Effect.gen(function* () {
        const reply = yield* LanguageModel.generateText({ prompt: "Tell me a story" })
        expect(reply.text).toMatch(/^[A-Z]\w* /)
        expect(reply.text).not.toContain("think>")
        expect(reply.reasoningText).toBe("The user wants a short story. Keep it gentle.")
        expect(reply.finishReason).toBe("length")
        expect(reply.usage.outputTokens).toBe(40)
        const metadata = reply.content.find((part) => part.type === "response-metadata")
        expect(metadata && Option.getOrUndefined(metadata.modelId)).toBe("glm-4-6")
        expect(metadata && Option.getOrUndefined(metadata.id)).toMatch(/^chatcmpl-/)
        expect(bodies(sim)[0]).toMatchObject({ model: "glm-4-6", enable_thinking: true, max_tokens: 40 })
      })
    )
  )

  it.live("streamText: reasoning parts, then text parts, then finish; the same text as generateText", () =>
    withModel({ quirks }, { enableThinking: true, maxTokens: 40 }, () =>
      Effect.gen(function* () {
        const parts = Chunk.toReadonlyArray(
          yield* Stream.runCollect(LanguageModel.streamText({ prompt: "Tell me a story" }))
        )
        const types = parts.map((part) => part.type)
        const collapsed = types.filter((type, i) => type !== types[i - 1])
        expect(collapsed).toEqual([
          "response-metadata",
          "reasoning-start",
          "reasoning-delta",
          "reasoning-end",
          "text-start",
          "text-delta",
          "text-end",
          "finish"
        ])
        const text = parts.flatMap((part) => (part.type === "text-delta" ? [part.delta] : [])).join("")
        const reasoning = parts
          .flatMap((part) => (part.type === "reasoning-delta" ? [part.delta] : []))
          .join("")
        const whole = yield* LanguageModel.generateText({ prompt: "Tell me a story" })
        expect(text).toBe(whole.text)
        expect(reasoning).toBe(whole.reasoningText)
        const finish = parts.at(-1)
        expect(finish).toMatchObject({ type: "finish", reason: "length" })
        expect(finish?.type === "finish" && finish.usage.outputTokens).toBe(40)
      })
    )
  )
})

describe("the provider", () => {
  it.live("a Chat keeps its history: each turn sends the earlier ones", () =>
    withModel({}, { maxTokens: 12 }, (sim) =>
      Effect.gen(function* () {
        const chat = yield* Chat.fromPrompt([{ role: "system", content: "You tell short stories." }])
        const first = yield* chat.generateText({ prompt: "Begin a story" })
        const second = yield* chat.generateText({ prompt: "Go on" })
        yield* chat.generateText({ prompt: "End it" })
        expect(first.text).not.toBe("")
        expect(bodies(sim).map((body) => body.messages.length)).toEqual([2, 4, 6])
        expect(bodies(sim)[2]!.messages).toEqual([
          { role: "system", content: "You tell short stories." },
          { role: "user", content: "Begin a story" },
          { role: "assistant", content: first.text },
          { role: "user", content: "Go on" },
          { role: "assistant", content: second.text },
          { role: "user", content: "End it" }
        ])
      })
    )
  )

  it.live("a file part, or a toolkit the model may call, is refused before anything is sent", () =>
    withModel({}, {}, (sim) =>
      Effect.gen(function* () {
        const file = yield* LanguageModel.generateText({
          prompt: Prompt.make([
            {
              role: "user",
              content: [
                { type: "text", text: "What is in this picture?" },
                { type: "file", mediaType: "image/png", data: new Uint8Array([1, 2, 3]) }
              ]
            }
          ])
        }).pipe(Effect.flip)
        expect(file).toMatchObject({ _tag: "MalformedInput" })
        expect(file.message).toMatch(/file part \(image\/png\): NovelAI's chat takes text only/)

        const GetWeather = Tool.make("GetWeather", {
          parameters: { city: Schema.String },
          success: Schema.String
        })
        const toolkit = Toolkit.make(GetWeather)
        const handlers = toolkit.toLayer({ GetWeather: () => Effect.succeed("sunny") })
        const tools = yield* LanguageModel.generateText({ prompt: "Weather in Paris?", toolkit }).pipe(
          Effect.provide(handlers),
          Effect.flip
        )
        expect(tools).toMatchObject({ _tag: "MalformedInput" })
        expect(tools.message).toMatch(/NovelAI does not support tools.*GetWeather/)
        expect(sim.requests).toHaveLength(0)
        // With toolChoice "none" the model may not call them: nothing to refuse.
        const none = yield* LanguageModel.generateText({
          prompt: "Weather in Paris?",
          toolkit,
          toolChoice: "none"
        }).pipe(Effect.provide(handlers))
        expect(none.text).not.toBe("")
        expect(bodies(sim)[0]).not.toHaveProperty("tools")
      })
    )
  )

  it.live("config per model, overridden for a block; call options reach the client", () =>
    withModel({}, { temperature: 0.9, topK: 40 }, (sim) =>
      Effect.gen(function* () {
        yield* LanguageModel.generateText({ prompt: "x" })
        yield* LanguageModel.generateText({ prompt: "x" }).pipe(
          NovelAILanguageModel.withConfigOverride({ temperature: 0.1, minP: 0.05 })
        )
        expect(bodies(sim)[0]).toMatchObject({ temperature: 0.9, top_k: 40 })
        expect(bodies(sim)[1]).toMatchObject({ temperature: 0.1, top_k: 40, min_p: 0.05 })
        // A parameter out of range is the client's InvalidRequestError, as MalformedInput, before sending.
        const bad = yield* LanguageModel.generateText({ prompt: "x" }).pipe(
          NovelAILanguageModel.withConfigOverride({ temperature: 5 }),
          Effect.flip
        )
        expect(bad).toMatchObject({ _tag: "MalformedInput" })
        expect(bad.message).toMatch(/temperature must be a number from 0 to 2/)
        expect((bad as { cause?: unknown }).cause).toMatchObject({
          _tag: "InvalidRequestError",
          field: "temperature"
        })
        expect(sim.requests).toHaveLength(2)
      })
    )
  )

  it.live("a NovelAIError becomes the matching AiError with the original as cause", () =>
    withModel(
      {},
      {},
      (sim) =>
        Effect.gen(function* () {
          sim.enqueueFault({ kind: "rate-limit", retryAfterSeconds: 3 })
          const limited = yield* LanguageModel.generateText({ prompt: "x" }).pipe(Effect.flip)
          expect(limited).toMatchObject({
            _tag: "HttpResponseError",
            reason: "StatusCode",
            response: { status: 429 }
          })
          const cause = (limited as { cause?: unknown }).cause
          expect(cause).toBeInstanceOf(RateLimitError)
          expect((cause as RateLimitError).retryAfter).toBeDefined()
          // The request is described without its headers: the key is nowhere in the error.
          expect(JSON.stringify(limited)).not.toContain(sim.apiKey)
          expect(limited._tag === "HttpResponseError" && limited.request.url).toBe(
            `${sim.url}/oa/v1/chat/completions`
          )

          sim.enqueueFault({ kind: "cut", after: 2 })
          const cut = yield* LanguageModel.generateText({ prompt: "x" }).pipe(Effect.flip)
          expect(cut).toMatchObject({ _tag: "MalformedOutput" })
          expect((cut as { cause?: unknown }).cause).toMatchObject({ _tag: "StreamTruncatedError" })

          const missing = yield* LanguageModel.generateText({ prompt: "x" }).pipe(
            NovelAILanguageModel.withConfigOverride({ callOptions: { maxRetries: 0 } }),
            Effect.provide(NovelAILanguageModel.model("no-such-model")),
            Effect.flip
          )
          expect(missing).toMatchObject({ _tag: "HttpResponseError", response: { status: 404 } })
        }),
      { maxRetries: 0 }
    )
  )

  it.live("the span @effect/ai hands over gets the gen_ai request and response attributes", () =>
    withModel({}, { temperature: 0.7, maxTokens: 9 }, () =>
      Effect.gen(function* () {
        const { spans, exit } = yield* traced(LanguageModel.generateText({ prompt: "x" }))
        expect(Exit.isSuccess(exit)).toBe(true)
        const span = spans.find((s) => s.name === "LanguageModel.generateText")
        expect(Object.fromEntries(span!.attributes)).toMatchObject({
          "gen_ai.system": "novelai",
          "gen_ai.operation.name": "chat",
          "gen_ai.request.model": "glm-4-6",
          "gen_ai.request.temperature": 0.7,
          "gen_ai.request.max_tokens": 9,
          "gen_ai.response.model": "glm-4-6",
          "gen_ai.response.finish_reasons": ["length"],
          "gen_ai.usage.output_tokens": 9
        })
        expect(span!.attributes.get("gen_ai.response.id")).toMatch(/^chatcmpl-/)
      })
    )
  )
})

const Story = Schema.Struct({
  title: Schema.String,
  characters: Schema.Array(Schema.Struct({ name: Schema.String, species: Schema.String })),
  chapters: Schema.Number,
  happyEnding: Schema.Boolean
}).annotations({ identifier: "Story", description: "A short story's outline" })

describe("generateObject", () => {
  it.live("instructs with the JSON Schema, starts the reply with '{', and decodes it", () =>
    withModel({}, { maxTokens: 400 }, (sim) =>
      Effect.gen(function* () {
        const outline = yield* LanguageModel.generateObject({
          prompt: "Outline a story about a fox",
          schema: Story
        })
        expect(outline.value.characters.length).toBeGreaterThan(0)
        const body = bodies(sim)[0]!
        expect(body.generation_prefix).toBe("{")
        expect(body.messages[0].role).toBe("system")
        expect(body.messages[0].content).toContain('"happyEnding"')
        expect(body.messages[0].content).toContain("A short story's outline")
      })
    )
  )

  it.live(
    "how often the simulator's replies decode, over 60 prompts; one that does not is MalformedOutput",
    () =>
      withModel({ quirks: true }, { maxTokens: 400 }, () =>
        Effect.gen(function* () {
          const exits = yield* Effect.forEach(
            Array.from({ length: 60 }, (_, seed) => seed),
            (seed) =>
              Effect.exit(
                LanguageModel.generateObject({ prompt: "Outline a story about a fox", schema: Story }).pipe(
                  NovelAILanguageModel.withConfigOverride({ seed })
                )
              )
          )
          const decoded = exits.filter(Exit.isSuccess).length
          // The simulator drops a required property from about 1 reply in 20; with the reply forced
          // to start with "{", fences and sentences before it cannot occur.
          console.log(`generateObject against the simulator: ${decoded} of 60 replies decoded`)
          expect(decoded).toBeGreaterThanOrEqual(50)
          expect(decoded).toBeLessThan(60)
          const failure = exits.find(Exit.isFailure)!
          expect(
            Exit.isFailure(failure) && failure.cause._tag === "Fail" && failure.cause.error
          ).toMatchObject({
            _tag: "MalformedOutput"
          })
        })
      )
  )

  it.live('with the prefix turned off (generationPrefix: ""), a fenced or prefaced reply is cleaned', () =>
    withModel({}, { maxTokens: 400 }, () =>
      Effect.gen(function* () {
        const Names = Schema.Struct({ names: Schema.Array(Schema.String) })
        const exits = yield* Effect.forEach(
          Array.from({ length: 40 }, (_, seed) => seed),
          (seed) =>
            Effect.exit(
              LanguageModel.generateObject({ prompt: "Three names", schema: Names }).pipe(
                NovelAILanguageModel.withConfigOverride({ seed, generationPrefix: "" })
              )
            )
        )
        expect(exits.filter(Exit.isSuccess).length).toBeGreaterThanOrEqual(36)
      })
    )
  )
})
