/**
 * The NovelAI client service: configuration, the `make` constructor and its layers.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { flow, identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RateLimiter from "effect/RateLimiter"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  ChatCompletionParams,
  ChatWire,
  normaliseChatChunk,
  normaliseChatCompletion
} from "./ChatCompletions.js"
import {
  Completion,
  type CompletionChunk,
  CompletionParams,
  CompletionWire,
  normaliseCompletion
} from "./Completions.js"
import { ConfigurationError, InvalidRequestError, type NovelAIError } from "./Errors.js"
import * as Deadline from "./internal/deadline.js"
import { paramsEncoder, responseDecoder } from "./internal/decode.js"
import type { ErrorContext } from "./internal/errors.js"
import * as defaults from "./internal/options.js"
import { duration, resolveOptions, retries } from "./internal/options.js"
import { requestJson, requestSse, type Timeouts } from "./internal/transport.js"
import { type Model, ModelListFromWire } from "./Models.js"
import * as Retry from "./Retry.js"
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
    readonly listModels: (options?: CallOptions) => Effect.Effect<ReadonlyArray<Model>, NovelAIError>
    /** `POST /oa/v1/completions`: a text completion. */
    readonly completion: (
      params: CompletionParams,
      options?: CallOptions
    ) => Effect.Effect<Completion, NovelAIError>
    /** `POST /oa/v1/completions` with `stream: true`: completion chunks as they arrive. */
    readonly completionStream: (
      params: CompletionParams,
      options?: CallOptions
    ) => Stream.Stream<CompletionChunk, NovelAIError>
    /** `POST /oa/v1/chat/completions`: a chat completion. */
    readonly chatCompletion: (
      params: ChatCompletionParams,
      options?: CallOptions
    ) => Effect.Effect<ChatCompletion, NovelAIError>
    /** `POST /oa/v1/chat/completions` with `stream: true`: chat chunks as they arrive. */
    readonly chatCompletionStream: (
      params: ChatCompletionParams,
      options?: CallOptions
    ) => Stream.Stream<ChatCompletionChunk, NovelAIError>
    /** `POST /oa/v1/internal/token-count`: how many tokens `prompt` is for `model`. */
    readonly tokenCount: (
      params: TokenCountParams,
      options?: CallOptions
    ) => Effect.Effect<number, NovelAIError>
  }
}

/**
 * Per-call overrides of the client's reliability settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** Retries of transient failures; 0 disables. Default: the client's (2). */
  readonly maxRetries?: number | undefined
  /** Your own retry policy, replacing the default one entirely (see `Retry.schedule`, `Retry.isRetryable`). */
  readonly retrySchedule?: Schedule.Schedule<unknown, NovelAIError> | undefined
  /** Until the response headers, and for non-streaming calls until the body is read. Default: the client's (10 minutes). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Longest silence between two reads of a stream. Default: the client's (2 minutes). */
  readonly idleTimeout?: Duration.DurationInput | undefined
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
  /** Extra headers sent with every request (a proxy's, a tracing id). Values with line breaks are refused. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Applied to the configured `HttpClient` last: add retries, logging, middleware. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
  /**
   * Also record the platform's `http.client` span under each endpoint span (method, URL, status,
   * headers with `Authorization` redacted). Default false: the endpoint span already carries the
   * model and usage, and the HTTP span costs about 20 µs a call.
   */
  readonly httpSpans?: boolean | undefined
  /** Send W3C/B3 trace headers to the server. Default false: NovelAI has no use for them. */
  readonly tracePropagation?: boolean | undefined
  /** Retries of transient failures (429, 408, 5xx, transport, timeouts before a response); default 2, 0 disables. */
  readonly maxRetries?: number | undefined
  /** Your own retry policy, replacing the default one (see `Retry.schedule`). */
  readonly retrySchedule?: Schedule.Schedule<unknown, NovelAIError> | undefined
  /**
   * Request timeout: until the headers, and for non-streaming calls the body; default 10 minutes.
   * It aborts the request through its `AbortSignal`, which the `HttpClient` must honour.
   */
  readonly timeout?: Duration.DurationInput | undefined
  /** Stream idle timeout: the longest silence between two reads of a stream; default 2 minutes. */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** Most requests in flight at once; more wait their turn (a stream holds its slot until it ends). Default unbounded. */
  readonly maxConcurrency?: number | undefined
  /** Requests started per interval, e.g. `{ limit: 10, interval: "1 second" }` (Effect's `RateLimiter`). Default none. */
  readonly rateLimit?: RateLimiter.RateLimiter.Options | undefined
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
 * client). Fails with a {@link ConfigurationError} when the options are refused. The scope holds
 * the rate limiter, when one is configured.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<NovelAIClient.Service, ConfigurationError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function* () {
    const resolved = yield* resolveOptions(options)
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(
        flow(
          HttpClientRequest.prependUrl(resolved.baseUrl),
          HttpClientRequest.bearerToken(resolved.apiKey),
          HttpClientRequest.setHeader("user-agent", resolved.userAgent),
          HttpClientRequest.setHeaders(resolved.headers)
        )
      ),
      HttpClient.withTracerPropagation(options.tracePropagation ?? false),
      options.httpSpans === true ? identity : HttpClient.withTracerDisabledWhen(() => true),
      options.transformClient ?? identity
    )

    // Requests are scoped: a deadline, a failure, an interruption or the end of a stream closes the
    // scope, aborting the request, with no timer fiber per call or per read.
    const scopedClient = HttpClient.withScope(client)
    const deadlines = yield* Deadline.make

    // Each attempt passes the gate: the rate limiter, then a slot among maxConcurrency.
    const limiter = options.rateLimit === undefined ? undefined : yield* RateLimiter.make(options.rateLimit)
    const slots =
      resolved.maxConcurrency === undefined ? undefined : yield* Effect.makeSemaphore(resolved.maxConcurrency)
    const gate = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
      const slotted = slots === undefined ? effect : slots.withPermits(1)(effect)
      return limiter === undefined ? slotted : limiter(slotted)
    }
    const gateStream = <A, E>(stream: Stream.Stream<A, E>): Stream.Stream<A, E> =>
      limiter === undefined && slots === undefined
        ? stream
        : Stream.unwrapScoped(
            Effect.gen(function* () {
              if (limiter !== undefined) yield* limiter(Effect.void)
              if (slots !== undefined) yield* Effect.acquireRelease(slots.take(1), () => slots.release(1))
              return stream
            })
          )

    const clientPolicy = options.retrySchedule ?? Retry.schedule({ maxRetries: resolved.maxRetries })

    /** The retry policy and timeouts of one call; bad per-call options are an InvalidRequestError. */
    const callSettings = (
      endpoint: string,
      call: CallOptions | undefined
    ): Either.Either<
      { readonly policy: Schedule.Schedule<unknown, NovelAIError> | undefined; readonly timeouts: Timeouts },
      InvalidRequestError
    > => {
      const invalid = (message: string) =>
        Either.left(new InvalidRequestError({ message: `${endpoint}: ${message}`, endpoint }))
      const badRetries = retries(call?.maxRetries)
      if (badRetries !== undefined) return invalid(badRetries)
      const request = duration("timeout", call?.timeout, resolved.timeout)
      if (Either.isLeft(request)) return invalid(request.left)
      const idle = duration("idleTimeout", call?.idleTimeout, resolved.idleTimeout)
      if (Either.isLeft(idle)) return invalid(idle.left)
      const maxRetries =
        call?.maxRetries ?? (options.retrySchedule === undefined ? resolved.maxRetries : undefined)
      const policy =
        call?.retrySchedule !== undefined
          ? call.retrySchedule
          : maxRetries === 0
            ? undefined
            : call?.maxRetries === undefined
              ? clientPolicy
              : Retry.schedule({ maxRetries })
      return Either.right({ policy, timeouts: { request: request.right, idle: idle.right } })
    }

    /** A non-streaming endpoint: encode, then gate, timeout and retry each attempt, in a span. */
    const call = <P, I, A>(spec: {
      readonly name: string
      readonly operation: string
      readonly method: "GET" | "POST"
      readonly path: string
      readonly params?: Schema.Schema<P, I>
      readonly decode: (json: unknown) => Either.Either<A, NovelAIError>
    }) => {
      const context: ErrorContext = { endpoint: spec.name, scrub: resolved.scrub }
      const encode = spec.params === undefined ? undefined : paramsEncoder(spec.params, spec.name)
      const base = (spec.method === "GET" ? HttpClientRequest.get : HttpClientRequest.post)(spec.path).pipe(
        HttpClientRequest.acceptJson
      )
      return (params: unknown, callOptions: CallOptions | undefined): Effect.Effect<A, NovelAIError> => {
        const model = encode === undefined ? undefined : modelOf(params, resolved.defaultModel)
        // Parameters and options are checked once, before anything is sent; only the HTTP attempt is retried.
        const prepared = Either.flatMap(callSettings(spec.name, callOptions), (settings) =>
          encode === undefined
            ? Either.right({ settings, request: base })
            : Either.map(encode(withModel(params, model)), (body) => ({
                settings,
                request: HttpClientRequest.bodyUnsafeJson(base, body)
              }))
        )
        return Effect.flatMap(prepared, ({ settings, request }) => {
          const attempt = gate(
            requestJson(scopedClient, deadlines, context, request, spec.decode, settings.timeouts)
          )
          return settings.policy === undefined ? attempt : retryAfterFailure(attempt, settings.policy)
        }).pipe(
          Effect.tap(annotateUsage),
          Effect.withSpan(`NovelAI.${spec.name}`, {
            kind: "client",
            captureStackTrace: false,
            attributes: gen_ai(spec.operation, model)
          })
        )
      }
    }

    /**
     * A streaming endpoint: the request lives in the stream. A failure is retried only while no
     * chunk has been emitted, so generated text is never repeated or spliced.
     */
    const stream = <
      P,
      I,
      A extends { readonly choices: ReadonlyArray<{ readonly finish_reason: string | null }> }
    >(spec: {
      readonly name: string
      readonly operation: string
      readonly path: string
      readonly params: Schema.Schema<P, I>
      readonly decode: (json: unknown) => Either.Either<A, NovelAIError>
    }) => {
      const context: ErrorContext = { endpoint: spec.name, scrub: resolved.scrub }
      const encode = paramsEncoder(spec.params, spec.name)
      const base = HttpClientRequest.post(spec.path).pipe(
        HttpClientRequest.setHeader("accept", "text/event-stream")
      )
      return (params: unknown, callOptions: CallOptions | undefined): Stream.Stream<A, NovelAIError> => {
        const model = modelOf(params, resolved.defaultModel)
        const prepared = Either.flatMap(callSettings(spec.name, callOptions), (settings) =>
          Either.map(encode(withModel(params, model)), (body) => ({
            settings,
            request: HttpClientRequest.bodyUnsafeJson(base, { ...(body as object), stream: true })
          }))
        )
        const retried = Stream.unwrap(
          Effect.map(prepared, ({ settings, request }) => {
            const attempt = gateStream(
              requestSse(
                scopedClient,
                deadlines,
                context,
                request,
                spec.decode,
                hasFinishReason,
                settings.timeouts
              )
            )
            const policy = settings.policy
            if (policy === undefined) return attempt
            return Stream.suspend(() => {
              let emitted = false
              return attempt.pipe(
                Stream.mapChunks((chunk) => {
                  if (!emitted && Chunk.isNonEmpty(chunk)) emitted = true
                  return chunk
                }),
                Stream.retry(Schedule.whileInput(policy, () => !emitted))
              )
            })
          })
        )
        return Stream.withSpan(retried, `NovelAI.${spec.name}`, {
          kind: "client",
          captureStackTrace: false,
          attributes: gen_ai(spec.operation, model)
        })
      }
    }

    const listModels = call({
      name: "listModels",
      operation: "list_models",
      method: "GET",
      path: "/oa/v1/models",
      decode: responseDecoder(ModelListFromWire, "listModels", "model list")
    })
    const completion = call({
      name: "completion",
      operation: "text_completion",
      method: "POST",
      path: "/oa/v1/completions",
      params: CompletionParams,
      decode: responseDecoder(CompletionWire, "completion", "completion", (wire) =>
        Completion.make(normaliseCompletion(wire), true)
      )
    })
    const chatCompletion = call({
      name: "chatCompletion",
      operation: "chat",
      method: "POST",
      path: "/oa/v1/chat/completions",
      params: ChatCompletionParams,
      decode: responseDecoder(ChatWire, "chatCompletion", "chat completion", normaliseChatCompletion)
    })
    const tokenCount = call({
      name: "tokenCount",
      operation: "token_count",
      method: "POST",
      path: "/oa/v1/internal/token-count",
      params: TokenCountParams,
      decode: responseDecoder(TokenCountFromWire, "tokenCount", "token count")
    })
    const completionStream = stream({
      name: "completionStream",
      operation: "text_completion",
      path: "/oa/v1/completions",
      params: CompletionParams,
      decode: responseDecoder(CompletionWire, "completionStream", "completion chunk", normaliseCompletion)
    })
    const chatCompletionStream = stream({
      name: "chatCompletionStream",
      operation: "chat",
      path: "/oa/v1/chat/completions",
      params: ChatCompletionParams,
      decode: responseDecoder(ChatWire, "chatCompletionStream", "chat chunk", normaliseChatChunk)
    })

    const openai: NovelAIClient.OpenAIApi = {
      listModels: (callOptions) => listModels(undefined, callOptions),
      completion: (params, callOptions) => completion(params, callOptions),
      completionStream: (params, callOptions) => completionStream(params, callOptions),
      chatCompletion: (params, callOptions) => chatCompletion(params, callOptions),
      chatCompletionStream: (params, callOptions) => chatCompletionStream(params, callOptions),
      tokenCount: (params, callOptions) => tokenCount(params, callOptions)
    }

    return { openai, defaultModel: resolved.defaultModel, baseUrl: resolved.baseUrl }
  })

/**
 * `Effect.retry`, but the schedule's driver is only set up once a first attempt has failed: most
 * calls succeed, and should not pay for it. The first error is fed to the schedule as usual.
 */
const retryAfterFailure = <A, E, R>(
  attempt: Effect.Effect<A, E, R>,
  policy: Schedule.Schedule<unknown, E>
): Effect.Effect<A, E, R> =>
  Effect.catchAll(attempt, (first) => {
    let failedOnce = false
    return Effect.retry(
      Effect.suspend(() => {
        if (failedOnce) return attempt
        failedOnce = true
        return Effect.fail(first)
      }),
      policy
    )
  })

const annotateUsage = (result: unknown) => {
  const usage = (result as { readonly usage?: { prompt_tokens: number; completion_tokens: number } } | null)
    ?.usage
  return usage === undefined
    ? Effect.void
    : Effect.annotateCurrentSpan({
        "gen_ai.usage.input_tokens": usage.prompt_tokens,
        "gen_ai.usage.output_tokens": usage.completion_tokens
      })
}

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
  Layer.scoped(NovelAIClient, make(options))

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
  Layer.scoped(
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
