/**
 * NovelAI as an `@effect/ai` provider: a `LanguageModel` on this library's client, for
 * `LanguageModel.generateText`, `streamText`, `generateObject` and the `Chat` module.
 *
 * What NovelAI can take is text: a file part, or a toolkit with tools the model may call, is an
 * `AiError` (`MalformedInput`) before anything is sent. Thinking comes as reasoning parts, never in
 * the text. `generateObject` works by instruction (NovelAI has no JSON mode): see the README.
 *
 * @since 0.1.0
 */
import type * as AiError from "@effect/ai/AiError"
import * as AiErrorModule from "@effect/ai/AiError"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as AiModel from "@effect/ai/Model"
import type * as Response from "@effect/ai/Response"
import { addGenAIAnnotations } from "@effect/ai/Telemetry"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type { Span } from "effect/Tracer"
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionParams,
  ChatMessage
} from "../ChatCompletions.js"
import type { NovelAIError } from "../Errors.js"
import type { ModelId } from "../Models.js"
import { type CallOptions, NovelAIClient } from "../NovelAIClient.js"
import { toAiError } from "./internal/errors.js"
import { cleanReply, instruct, withInstruction } from "./internal/json.js"
import { toMessages } from "./internal/prompt.js"

/**
 * The sampling parameters of every request a model makes (this library's camelCase names:
 * `temperature`, `topK`, `minP`, `unifiedLinear`, `enableThinking`, ...), and `callOptions` for its
 * calls (timeouts, retries). Give them to {@link model} or {@link layer}, or to a block of code
 * with {@link withConfigOverride}.
 *
 * @since 0.1.0
 * @category context
 */
export class Config extends Context.Tag("effect-novelai/ai/NovelAILanguageModel/Config")<
  Config,
  Config.Service
>() {}

/**
 * The types of {@link Config}.
 *
 * @since 0.1.0
 */
export declare namespace Config {
  /**
   * The configuration: sampling parameters, and call options.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Service extends Partial<Omit<ChatCompletionParams, "messages" | "model" | "n">> {
    /** Options for each call (`timeout`, `idleTimeout`, `maxRetries`, ...). */
    readonly callOptions?: CallOptions | undefined
  }
}

/**
 * A `LanguageModel` for `modelId`, as an `AiModel` (a layer, or an effect of one), like
 * `OpenAiLanguageModel.model`. It requires a {@link NovelAIClient.NovelAIClient}.
 *
 * @since 0.1.0
 * @category ai models
 * @example
 * ```ts
 * import { LanguageModel } from "@effect/ai"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { NovelAIClient } from "effect-novelai"
 * import { NovelAILanguageModel } from "effect-novelai/ai"
 * import { startSimulator } from "effect-novelai/testing"
 *
 * const sim = await startSimulator()
 * const Glm = NovelAILanguageModel.model("glm-4-6", { temperature: 0.8 })
 * const NovelAI = NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * const reply = await LanguageModel.generateText({ prompt: "Tell me a story" }).pipe(
 *   Effect.provide(Glm),
 *   Effect.provide(NovelAI),
 *   Effect.runPromise
 * )
 * console.log(reply.text.length > 0) // true
 * await sim.close()
 * ```
 */
export const model = (
  modelId: ModelId,
  config?: Config.Service
): AiModel.Model<"novelai", LanguageModel.LanguageModel, NovelAIClient> =>
  AiModel.make("novelai", layer({ model: modelId, config }))

/**
 * The `LanguageModel` service as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: {
  readonly model: ModelId
  readonly config?: Config.Service | undefined
}): Layer.Layer<LanguageModel.LanguageModel, never, NovelAIClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))

/**
 * Runs `self` with `config` over the model's configuration (and any override around it).
 *
 * @since 0.1.0
 * @category configuration
 * @example
 * ```ts
 * import { LanguageModel } from "@effect/ai"
 * import { NovelAILanguageModel } from "effect-novelai/ai"
 *
 * // A colder sampler for this one call.
 * const exact = LanguageModel.generateText({ prompt: "2 + 2 =" }).pipe(
 *   NovelAILanguageModel.withConfigOverride({ temperature: 0.1, maxTokens: 8 })
 * )
 * ```
 */
export const withConfigOverride: {
  (config: Config.Service): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, config: Config.Service): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, overrides: Config.Service): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.serviceOption(Config), (config) =>
      Effect.provideService(self, Config, {
        ...(config._tag === "Some" ? config.value : {}),
        ...overrides,
        callOptions: {
          ...(config._tag === "Some" ? config.value.callOptions : undefined),
          ...overrides.callOptions
        }
      })
    )
)

/** A request: the chat parameters, the call options, and how to read the reply. */
interface Request {
  readonly params: ChatCompletionParams
  readonly callOptions: CallOptions | undefined
  /** For `generateObject`: the prefix the reply was made to start with (`undefined`: plain text). */
  readonly json: { readonly prefix: string | undefined } | undefined
}

const FINISH_REASONS: Readonly<Record<string, Response.FinishReason>> = {
  stop: "stop",
  length: "length",
  content_filter: "content-filter",
  tool_calls: "tool-calls",
  function_call: "tool-calls"
}

const finishReason = (reason: string | null | undefined): Response.FinishReason =>
  reason === null || reason === undefined ? "unknown" : (FINISH_REASONS[reason] ?? "other")

const refuse = (method: string, description: string) =>
  new AiErrorModule.MalformedInput({ module: "NovelAILanguageModel", method, description })

/**
 * The `LanguageModel` service, as an effect.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly model: ModelId
  readonly config?: Config.Service | undefined
}): Effect.Effect<LanguageModel.Service, never, NovelAIClient> =>
  Effect.gen(function* () {
    const client = yield* NovelAIClient
    const url = `${client.baseUrl}/oa/v1/chat/completions`

    const prepare = (provider: LanguageModel.ProviderOptions): Effect.Effect<Request, AiError.AiError> =>
      Effect.gen(function* () {
        if (provider.tools.length > 0 && provider.toolChoice !== "none") {
          return yield* refuse(
            "prepareTools",
            `NovelAI does not support tools: its chat API takes no tool definitions and returns no tool calls (${provider.tools.map((tool) => tool.name).join(", ")})`
          )
        }
        let messages: Array<ChatMessage> = yield* Either.mapLeft(
          toMessages(provider.prompt),
          (error) => error
        )
        const override = yield* Effect.serviceOption(Config)
        const { callOptions, ...sampling } = {
          ...options.config,
          ...(override._tag === "Some" ? override.value : {}),
          callOptions: {
            ...options.config?.callOptions,
            ...(override._tag === "Some" ? override.value.callOptions : undefined)
          }
        }
        let json: Request["json"]
        let prefix: Partial<ChatCompletionParams> = {}
        if (provider.responseFormat.type === "json") {
          const { instruction, prefix: start } = instruct(
            provider.responseFormat.objectName,
            provider.responseFormat.schema
          )
          messages = withInstruction(messages, instruction)
          // The reply is made to start as JSON, unless the configuration sets a prefix of its own.
          if (start !== undefined && sampling.generationPrefix === undefined)
            prefix = { generationPrefix: start }
          const sent = sampling.generationPrefix ?? start
          json = { prefix: sent === "" ? undefined : sent }
        }
        const params: ChatCompletionParams = { ...sampling, ...prefix, model: options.model, messages }
        annotateRequest(provider.span, params, client.defaultModel)
        return { params, callOptions: Object.keys(callOptions).length > 0 ? callOptions : undefined, json }
      })

    const fail = (method: string) => (error: NovelAIError) => toAiError(error, method, url)

    return yield* LanguageModel.make({
      generateText: (provider) =>
        Effect.flatMap(prepare(provider), (request) =>
          client.openai.chatCompletion(request.params, request.callOptions).pipe(
            Effect.mapError(fail("generateText")),
            Effect.flatMap((reply) => {
              annotateResponse(provider.span, reply)
              return replyParts(reply, request)
            })
          )
        ),
      streamText: (provider) =>
        Stream.unwrap(
          Effect.map(prepare(provider), (request) =>
            streamParts(
              client.openai.chatCompletionStream(request.params, request.callOptions),
              request
            ).pipe(
              Stream.mapError(fail("streamText")),
              Stream.tap((part) => Effect.sync(() => annotateStreamPart(provider.span, part)))
            )
          )
        )
    })
  })

const timestamp = (created: number) =>
  DateTime.formatIso(DateTime.unsafeFromDate(new Date(created > 0 ? created * 1000 : Date.now())))

/** A whole reply as response parts: metadata, the thinking, the text, the finish. */
const replyParts = (
  reply: ChatCompletion,
  request: Request
): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError> => {
  const choice = reply.choices[0]
  if (choice === undefined) {
    return Effect.fail(
      new AiErrorModule.MalformedOutput({
        module: "NovelAILanguageModel",
        method: "generateText",
        description: "NovelAI's reply had no choices"
      })
    )
  }
  const parts: Array<Response.PartEncoded> = [
    { type: "response-metadata", id: reply.id, modelId: reply.model, timestamp: timestamp(reply.created) }
  ]
  const reasoning = choice.message.reasoning_content
  if (reasoning !== undefined && reasoning !== "") parts.push({ type: "reasoning", text: reasoning })
  const text =
    request.json === undefined
      ? choice.message.content
      : cleanReply(choice.message.content, request.json.prefix)
  if (text !== "") parts.push({ type: "text", text })
  parts.push({
    type: "finish",
    reason: finishReason(choice.finish_reason),
    usage: {
      inputTokens: reply.usage?.prompt_tokens,
      outputTokens: reply.usage?.completion_tokens,
      totalTokens: reply.usage?.total_tokens
    }
  })
  return Effect.succeed(parts)
}

/**
 * A chat stream as response parts: `response-metadata` first, the thinking as `reasoning-*` and
 * the answer as `text-*` (each part ended before the other starts), `finish` last, with the usage
 * the server reported.
 */
const streamParts = (
  chunks: Stream.Stream<ChatCompletionChunk, NovelAIError>,
  request: Request
): Stream.Stream<Response.StreamPartEncoded, NovelAIError> =>
  Stream.suspend(() => {
    let ids = 0
    let text: string | undefined
    let reasoning: string | undefined
    let metadata = false
    let reason: string | null = null
    let usage: ChatCompletionChunk["usage"]
    // generateObject streams nothing; a streamed reply is text, with its prefix put back if needed.
    let prefixPending = request.json?.prefix
    const endText = (parts: Array<Response.StreamPartEncoded>) => {
      if (text !== undefined) parts.push({ type: "text-end", id: text })
      text = undefined
    }
    const endReasoning = (parts: Array<Response.StreamPartEncoded>) => {
      if (reasoning !== undefined) parts.push({ type: "reasoning-end", id: reasoning })
      reasoning = undefined
    }
    const step = (chunk: ChatCompletionChunk): Array<Response.StreamPartEncoded> => {
      const parts: Array<Response.StreamPartEncoded> = []
      if (!metadata) {
        metadata = true
        parts.push({
          type: "response-metadata",
          id: chunk.id,
          modelId: chunk.model,
          timestamp: timestamp(chunk.created)
        })
      }
      if (chunk.usage !== undefined) usage = chunk.usage
      const choice = chunk.choices.find((c) => c.index === 0)
      if (choice === undefined) return parts
      const thought = choice.delta.reasoning_content
      if (thought !== undefined && thought !== "") {
        endText(parts)
        if (reasoning === undefined) {
          reasoning = String(ids++)
          parts.push({ type: "reasoning-start", id: reasoning })
        }
        parts.push({ type: "reasoning-delta", id: reasoning, delta: thought })
      }
      let content = choice.delta.content
      if (content !== undefined && content !== "") {
        if (prefixPending !== undefined) {
          if (!content.trimStart().startsWith(prefixPending)) content = prefixPending + content
          prefixPending = undefined
        }
        endReasoning(parts)
        if (text === undefined) {
          text = String(ids++)
          parts.push({ type: "text-start", id: text })
        }
        parts.push({ type: "text-delta", id: text, delta: content })
      }
      if (choice.finish_reason !== null) reason = choice.finish_reason
      return parts
    }
    const finish = (): Array<Response.StreamPartEncoded> => {
      const parts: Array<Response.StreamPartEncoded> = []
      endReasoning(parts)
      endText(parts)
      parts.push({
        type: "finish",
        reason: finishReason(reason),
        usage: {
          inputTokens: usage?.prompt_tokens,
          outputTokens: usage?.completion_tokens,
          totalTokens: usage?.total_tokens
        }
      })
      return parts
    }
    return Stream.concat(
      Stream.mapConcat(chunks, step),
      Stream.suspend(() => Stream.fromIterable(finish()))
    )
  })

const annotateRequest = (span: Span, params: ChatCompletionParams, defaultModel: string) =>
  addGenAIAnnotations(span, {
    system: "novelai",
    operation: { name: "chat" },
    request: {
      model: params.model ?? defaultModel,
      temperature: params.temperature,
      topK: params.topK,
      topP: params.topP,
      maxTokens: params.maxTokens,
      stopSequences:
        params.stop === undefined ? undefined : typeof params.stop === "string" ? [params.stop] : params.stop,
      frequencyPenalty: params.frequencyPenalty,
      presencePenalty: params.presencePenalty,
      seed: params.seed
    }
  })

const annotateResponse = (span: Span, reply: ChatCompletion) =>
  addGenAIAnnotations(span, {
    response: {
      id: reply.id,
      model: reply.model,
      finishReasons: reply.choices.flatMap((choice) =>
        choice.finish_reason === null ? [] : [choice.finish_reason]
      )
    },
    usage: { inputTokens: reply.usage?.prompt_tokens, outputTokens: reply.usage?.completion_tokens }
  })

const annotateStreamPart = (span: Span, part: Response.StreamPartEncoded) => {
  if (part.type === "response-metadata") {
    addGenAIAnnotations(span, { response: { id: part.id, model: part.modelId } })
  } else if (part.type === "finish") {
    addGenAIAnnotations(span, {
      response: { finishReasons: [part.reason] },
      usage: { inputTokens: part.usage.inputTokens, outputTokens: part.usage.outputTokens }
    })
  }
}
