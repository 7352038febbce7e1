/**
 * The NovelAI client service: configuration, the `make` constructor and its layers.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { flow, identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  ChatCompletionChunkFromWire,
  ChatCompletionFromWire,
  ChatCompletionParams
} from "./ChatCompletions.js"
import {
  type Completion,
  type CompletionChunk,
  CompletionChunkFromWire,
  CompletionFromWire,
  CompletionParams
} from "./Completions.js"
import { ConfigurationError, type NovelAIError } from "./Errors.js"
import { paramsEncoder, responseDecoder } from "./internal/decode.js"
import type { ErrorContext } from "./internal/errors.js"
import * as defaults from "./internal/options.js"
import { resolveOptions } from "./internal/options.js"
import { requestJson, requestSse } from "./internal/transport.js"
import { type Model, ModelListFromWire } from "./Models.js"
import { TokenCountFromWire, TokenCountParams } from "./TokenCount.js"

/**
 * The default host; paths `/oa/v1/...` are appended to it.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BASE_URL = defaults.DEFAULT_BASE_URL

/**
 * The model used when a call names none.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MODEL = defaults.DEFAULT_MODEL

/**
 * The NovelAI client service. Provide it with {@link layer} or {@link layerConfig}.
 *
 * @since 0.1.0
 * @category tags
 */
export class NovelAIClient extends Context.Tag("effect-novelai/NovelAIClient")<
  NovelAIClient,
  NovelAIClient.Service
>() {}

/**
 * @since 0.1.0
 */
export declare namespace NovelAIClient {
  /**
   * The service: the six `/oa/v1` calls under `openai`, as in the spec's `client.openai.*`.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    readonly openai: OpenAIApi
    /** The model used when a call names none. */
    readonly defaultModel: string
    /** The host the client talks to (without the key). */
    readonly baseUrl: string
  }

  /**
   * The `/oa/v1` calls. Every failure is a {@link NovelAIError}.
   *
   * @since 0.1.0
   * @category models
   */
  export interface OpenAIApi {
    /** `GET /oa/v1/models`: the available models. */
    readonly listModels: () => Effect.Effect<ReadonlyArray<Model>, NovelAIError>
    /** `POST /oa/v1/completions`: a text completion. */
    readonly completion: (params: CompletionParams) => Effect.Effect<Completion, NovelAIError>
    /** `POST /oa/v1/completions` with `stream: true`: completion chunks as they arrive. */
    readonly completionStream: (params: CompletionParams) => Stream.Stream<CompletionChunk, NovelAIError>
    /** `POST /oa/v1/chat/completions`: a chat completion. */
    readonly chatCompletion: (params: ChatCompletionParams) => Effect.Effect<ChatCompletion, NovelAIError>
    /** `POST /oa/v1/chat/completions` with `stream: true`: chat chunks as they arrive. */
    readonly chatCompletionStream: (
      params: ChatCompletionParams
    ) => Stream.Stream<ChatCompletionChunk, NovelAIError>
    /** `POST /oa/v1/internal/token-count`: how many tokens `prompt` is for `model`. */
    readonly tokenCount: (params: TokenCountParams) => Effect.Effect<number, NovelAIError>
  }
}

/**
 * Client options.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The NovelAI API key (`pst-...`). A string is wrapped in `Redacted` at once. */
  readonly apiKey: Redacted.Redacted | string
  /** Host to talk to; default `https://text.novelai.net`. A trailing `/oa/v1` is tolerated. */
  readonly baseUrl?: string | undefined
  /** Model used when a call names none; default `glm-4-6`. */
  readonly defaultModel?: string | undefined
  /** `User-Agent` header; default `effect-novelai/<version>`. */
  readonly userAgent?: string | undefined
  /** Applied to the configured `HttpClient` last: add retries, logging, middleware. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
  /** Send W3C/B3 trace headers to the server. Default false: NovelAI has no use for them. */
  readonly tracePropagation?: boolean | undefined
  /** Allow a plain `http://` base URL to a host that is not loopback. Default false: the key would travel in clear. */
  readonly allowInsecureHttp?: boolean | undefined
}

const gen_ai = (operation: string, model: unknown) => ({
  "gen_ai.system": "novelai",
  "gen_ai.operation.name": operation,
  "gen_ai.request.model": typeof model === "string" ? model : "unknown"
})

const modelOf = (params: unknown, fallback: string): unknown => {
  if (typeof params !== "object" || params === null) return fallback
  return (params as { model?: unknown }).model ?? fallback
}

const withModel = (params: unknown, model: unknown): unknown =>
  typeof params === "object" && params !== null && !Array.isArray(params) ? { ...params, model } : params

const hasFinishReason = (chunk: {
  readonly choices: ReadonlyArray<{ readonly finish_reason: string | null }>
}) => chunk.choices.some((choice) => choice.finish_reason !== null)

/**
 * Builds the service from options, on the `HttpClient` in the context (Fetch, Node, or a test
 * client). Fails with a {@link ConfigurationError} when the options are refused.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<NovelAIClient.Service, ConfigurationError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const resolved = yield* resolveOptions(options)
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(
        flow(
          HttpClientRequest.prependUrl(resolved.baseUrl),
          HttpClientRequest.bearerToken(resolved.apiKey),
          HttpClientRequest.setHeader("user-agent", resolved.userAgent)
        )
      ),
      HttpClient.withTracerPropagation(options.tracePropagation ?? false),
      options.transformClient ?? identity
    )
    const context = (endpoint: string): ErrorContext => ({ endpoint, scrub: resolved.scrub })

    const endpoint = <P, I>(name: string, schema: Schema.Schema<P, I>, path: string) => {
      const ctx = context(name)
      const encode = paramsEncoder(schema, name)
      return (params: unknown, model: unknown, stream: boolean) =>
        Effect.map(encode(withModel(params, model)), (body) =>
          HttpClientRequest.post(path).pipe(
            HttpClientRequest.setHeader("accept", stream ? "text/event-stream" : "application/json"),
            HttpClientRequest.bodyUnsafeJson(stream ? { ...(body as object), stream: true } : body)
          )
        ).pipe(Effect.map((request) => ({ request, ctx })))
    }

    const completionRequest = endpoint("completion", CompletionParams, "/oa/v1/completions")
    const completionStreamRequest = endpoint("completionStream", CompletionParams, "/oa/v1/completions")
    const chatRequest = endpoint("chatCompletion", ChatCompletionParams, "/oa/v1/chat/completions")
    const chatStreamRequest = endpoint(
      "chatCompletionStream",
      ChatCompletionParams,
      "/oa/v1/chat/completions"
    )
    const tokenCountRequest = endpoint("tokenCount", TokenCountParams, "/oa/v1/internal/token-count")

    const decodeModels = responseDecoder(ModelListFromWire, "listModels", "model list")
    const decodeCompletion = responseDecoder(CompletionFromWire, "completion", "completion")
    const decodeCompletionChunk = responseDecoder(
      CompletionChunkFromWire,
      "completionStream",
      "completion chunk"
    )
    const decodeChat = responseDecoder(ChatCompletionFromWire, "chatCompletion", "chat completion")
    const decodeChatChunk = responseDecoder(ChatCompletionChunkFromWire, "chatCompletionStream", "chat chunk")
    const decodeTokenCount = responseDecoder(TokenCountFromWire, "tokenCount", "token count")

    const listModelsRequest = HttpClientRequest.get("/oa/v1/models").pipe(HttpClientRequest.acceptJson)
    const listModelsContext = context("listModels")

    const openai: NovelAIClient.OpenAIApi = {
      listModels: () =>
        requestJson(client, listModelsContext, listModelsRequest, decodeModels).pipe(
          Effect.withSpan("NovelAI.listModels", {
            kind: "client",
            attributes: { "gen_ai.system": "novelai", "gen_ai.operation.name": "list_models" }
          })
        ),
      completion: (params) => {
        const model = modelOf(params, resolved.defaultModel)
        return Effect.flatMap(completionRequest(params, model, false), ({ ctx, request }) =>
          requestJson(client, ctx, request, decodeCompletion)
        ).pipe(
          Effect.tap(annotateUsage),
          Effect.withSpan("NovelAI.completion", {
            kind: "client",
            attributes: gen_ai("text_completion", model)
          })
        )
      },
      completionStream: (params) => {
        const model = modelOf(params, resolved.defaultModel)
        return Stream.unwrap(
          Effect.map(completionStreamRequest(params, model, true), ({ ctx, request }) =>
            requestSse(client, ctx, request, decodeCompletionChunk, hasFinishReason)
          )
        ).pipe(withStreamSpan("NovelAI.completionStream", gen_ai("text_completion", model)))
      },
      chatCompletion: (params) => {
        const model = modelOf(params, resolved.defaultModel)
        return Effect.flatMap(chatRequest(params, model, false), ({ ctx, request }) =>
          requestJson(client, ctx, request, decodeChat)
        ).pipe(
          Effect.tap(annotateUsage),
          Effect.withSpan("NovelAI.chatCompletion", { kind: "client", attributes: gen_ai("chat", model) })
        )
      },
      chatCompletionStream: (params) => {
        const model = modelOf(params, resolved.defaultModel)
        return Stream.unwrap(
          Effect.map(chatStreamRequest(params, model, true), ({ ctx, request }) =>
            requestSse(client, ctx, request, decodeChatChunk, hasFinishReason)
          )
        ).pipe(withStreamSpan("NovelAI.chatCompletionStream", gen_ai("chat", model)))
      },
      tokenCount: (params) => {
        const model = modelOf(params, resolved.defaultModel)
        return Effect.flatMap(tokenCountRequest(params, model, false), ({ ctx, request }) =>
          requestJson(client, ctx, request, decodeTokenCount)
        ).pipe(
          Effect.withSpan("NovelAI.tokenCount", { kind: "client", attributes: gen_ai("token_count", model) })
        )
      }
    }

    return { openai, defaultModel: resolved.defaultModel, baseUrl: resolved.baseUrl }
  })

const annotateUsage = (result: {
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number } | undefined
}) =>
  result.usage === undefined
    ? Effect.void
    : Effect.annotateCurrentSpan({
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": result.usage.completion_tokens
      })

const withStreamSpan =
  (name: string, attributes: Record<string, unknown>) =>
  <A, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
    Stream.withSpan(stream, name, { kind: "client", attributes })

/**
 * A layer providing {@link NovelAIClient} from options. Requires an `HttpClient`: provide
 * `FetchHttpClient.layer`, `NodeHttpClient.layerUndici`, or a test client.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { NovelAIClient } from "effect-novelai"
 *
 * const NovelAILive = NovelAIClient.layer({ apiKey: process.env.NOVELAI_API_KEY! }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 */
export const layer = (
  options: Options
): Layer.Layer<NovelAIClient, ConfigurationError, HttpClient.HttpClient> =>
  Layer.effect(NovelAIClient, make(options))

/**
 * The configuration {@link layerConfig} reads: `NOVELAI_API_KEY` (redacted) and, optionally,
 * `NOVELAI_BASE_URL`.
 *
 * @since 0.1.0
 * @category config
 */
export const config = Config.all({
  apiKey: Config.redacted("NOVELAI_API_KEY"),
  baseUrl: Config.option(Config.string("NOVELAI_BASE_URL"))
})

const describeConfigError = (error: ConfigError.ConfigError): string =>
  ConfigError.reduceWithContext(error, undefined, {
    andCase: (_, left, right) => [left, right].filter(Boolean).join("; "),
    orCase: (_, left, right) => [left, right].filter(Boolean).join("; "),
    invalidDataCase: (_, path, message) => `${path.join(".")} is invalid: ${message}`,
    missingDataCase: (_, path) =>
      `${path.join(".")} is not set: set it to your NovelAI API key (pst-...), or use NovelAIClient.layer({ apiKey })`,
    sourceUnavailableCase: (_, path, message) => `${path.join(".")} could not be read: ${message}`,
    unsupportedCase: (_, path, message) => `${path.join(".")} is unsupported: ${message}`
  }) ?? String(error)

/**
 * A layer providing {@link NovelAIClient} from configuration: the key from `NOVELAI_API_KEY`, the
 * host from `NOVELAI_BASE_URL` unless `options.baseUrl` is given. A missing key fails the layer
 * with a {@link ConfigurationError} that says so.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Omit<Options, "apiKey">
): Layer.Layer<NovelAIClient, ConfigurationError, HttpClient.HttpClient> =>
  Layer.effect(
    NovelAIClient,
    Effect.flatMap(
      Effect.mapError(config, (error) => new ConfigurationError({ message: describeConfigError(error) })),
      (loaded) =>
        make({
          ...options,
          apiKey: loaded.apiKey,
          baseUrl: options?.baseUrl ?? Option.getOrUndefined(loaded.baseUrl)
        })
    )
  )
