/**
 * The NovelAI client service: its options, the `make` constructor and its layers, and call options
 * for a block of code.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as RateLimiter from "effect/RateLimiter"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { ConfigurationError, type NovelAIError } from "./Errors.js"
import * as Client from "./internal/client.js"
import * as Deadline from "./internal/core/deadline.js"
import * as Gate from "./internal/core/gate.js"
import type * as Options_ from "./internal/core/options.js"
import * as defaults from "./internal/core/options.js"
import * as Http from "./internal/core/pipeline.js"
import { BlockOptions } from "./internal/core/policy.js"
import * as Calls from "./internal/core/run.js"
import * as OpenAIOptions from "./internal/openai/options.js"

/**
 * The default host; paths `/oa/v1/...` are appended to it.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BASE_URL: string = defaults.DEFAULT_BASE_URL

/**
 * The model used when a call names none.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MODEL: string = OpenAIOptions.DEFAULT_MODEL

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
 * The types of the service: what `yield* NovelAIClient` gives.
 *
 * @since 0.1.0
 */
export declare namespace NovelAIClient {
  /**
   * The service: the `/oa/v1` calls under `openai`, as in the spec's `client.openai.*`.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** The `/oa/v1` calls. */
    readonly openai: OpenAIApi
    /** NovelAI's native text API (Erato, Kayra). */
    readonly text: TextApi
    /** NovelAI's image generation (NovelAI Diffusion), on the image host. */
    readonly image: ImageApi
    /** The account behind the key: its subscription and Anlas. */
    readonly account: AccountApi
    /** The model `/oa/v1` calls use when they name none. */
    readonly defaultModel: string
    /** The model native calls use when they name none. */
    readonly defaultTextModel: string
    /** The text host the client talks to (without the key). */
    readonly baseUrl: string
    /** The image host the client talks to. */
    readonly imageBaseUrl: string
  }

  /**
   * The `/oa/v1` calls. Every failure is a {@link NovelAIError}.
   *
   * @since 0.1.0
   * @category models
   */
  export type OpenAIApi = Client.Apis["openai"]

  /**
   * The native text API: NovelAI's own storytelling models. Every failure is a {@link NovelAIError}.
   *
   * @since 0.1.0
   * @category models
   */
  export type TextApi = Client.Apis["text"]

  /**
   * NovelAI's image generation (NovelAI Diffusion). Every failure is a {@link NovelAIError}.
   *
   * @since 0.1.0
   * @category models
   */
  export type ImageApi = Client.Apis["image"]

  /**
   * The account behind the key (its subscription, Anlas). Every failure is a {@link NovelAIError}.
   *
   * @since 0.1.0
   * @category models
   */
  export type AccountApi = Client.Apis["account"]
}

/**
 * Per-call settings, over the client's. Give them to one call as its last argument, or to every
 * call in a block of code with {@link withCallOptions}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions extends Options_.CallOptions {}

/**
 * Client options.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The NovelAI API key (`pst-...`). A string is wrapped in `Redacted` at once; surrounding whitespace is dropped. */
  readonly apiKey: Redacted.Redacted | string
  /** Host to talk to; default `https://text.novelai.net`. A trailing `/oa/v1` is tolerated; a query, a fragment or an endpoint URL is refused. */
  readonly baseUrl?: string | undefined
  /** The image host; default `https://image.novelai.net`, with the same checks as `baseUrl`. */
  readonly imageBaseUrl?: string | undefined
  /**
   * The largest response body a call reads, in bytes after decompression, and the largest reply a
   * collected stream gathers; more fails with a `ResponseTooLargeError`, not retried. Default: each
   * endpoint's own (text: 16 MiB).
   */
  readonly maxResponseBytes?: number | undefined
  /**
   * The most Anlas a paid call (an image generation) may cost: one estimated above it fails with a
   * `BudgetExceededError` before anything is sent (see `Image.cost`). Per call too.
   */
  readonly maxAnlas?: number | undefined
  /** Refuse any paid call that would not be free for `account` (Opus's free rule). Per call too. */
  readonly freeOnly?: boolean | undefined
  /**
   * The account budgets price for: `{ tier }` (3 Opus), or the `Account.subscription()` answer.
   * Without it a price is the upper bound (no free rule applies), and `freeOnly` refuses every paid call.
   */
  readonly account?: Options_.BudgetAccount | undefined
  /** Model `/oa/v1` calls use when they name none; default `glm-4-6`. */
  readonly defaultModel?: string | undefined
  /** Model native calls (`client.text`) use when they name none; default `llama-3-erato-v1`. */
  readonly defaultTextModel?: string | undefined
  /**
   * Tokenizers of native models, by model id: a function loading an object with
   * `encode(text, { bos: false, eos: false })` (or a module whose default export is one), for text
   * `stopSequences`, `badWords` and `logitBias` and for `client.text.tokenCount`. On Node, Bun and
   * Deno, Erato's loads by itself from the optional package `llama3-tokenizer-js`; in browsers pass
   * `{ "llama-3-erato-v1": () => import("llama3-tokenizer-js") }` so your bundler splits it out.
   */
  readonly tokenizers?: Readonly<Record<string, () => unknown>> | undefined
  /** `User-Agent` header; default `effect-novelai/<version>`. */
  readonly userAgent?: string | undefined
  /** Extra headers sent with every request (a proxy's, a tracing id). Names and values HTTP cannot carry are refused. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Applied to the configured `HttpClient` last: add retries, logging, middleware. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
  /**
   * Also record the platform's `http.client` span under each endpoint span (method, URL, status,
   * headers with `Authorization` redacted). Default false: the endpoint span already carries the
   * model and usage, and the HTTP span has a cost on every call (see BENCHMARKS.md).
   */
  readonly httpSpans?: boolean | undefined
  /** Send W3C/B3 trace headers to the server. Default false: NovelAI has no use for them. */
  readonly tracePropagation?: boolean | undefined
  /** Retries of transient failures (429, 408, 5xx, transport, timeouts before a response); default 2, 0 disables. */
  readonly maxRetries?: number | undefined
  /** Your own retry policy, replacing the default one (see `Retry.schedule`). */
  readonly retrySchedule?: Schedule.Schedule<unknown, NovelAIError> | undefined
  /** Each attempt's deadline (see {@link CallOptions}); default 10 minutes, `Infinity` for none. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Longest wait for a stream's next data while you wait for it; default 2 minutes, `Infinity` for none. */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** Most requests in flight at once; more wait their turn (a stream holds its slot until it ends). Default unbounded. */
  readonly maxConcurrency?: number | undefined
  /** Requests started per interval, e.g. `{ limit: 10, interval: "1 second" }` (Effect's `RateLimiter`). Default none. */
  readonly rateLimit?: RateLimiter.RateLimiter.Options | undefined
  /** Allow a plain `http://` base URL to a host that is not loopback. Default false: the key would travel in clear. */
  readonly allowInsecureHttp?: boolean | undefined
  /** Answer chats and completions by streaming and collecting (see {@link CallOptions}). Default: chats yes, completions no. */
  readonly collectStream?: boolean | undefined
  /**
   * Generations (completions and chats, streamed or not) in flight at once; more wait their turn.
   * NovelAI runs one per account at a time and answers another with 429 "concurrent generation is
   * locked", so the default is 1. `"unbounded"` for a proxy or several accounts. `listModels` and
   * `tokenCount` are never queued behind a generation.
   */
  readonly generationConcurrency?: number | "unbounded" | undefined
  /**
   * A generation gate to share with other clients of the same key in this process (see
   * {@link makeGenerationGate}), in place of `generationConcurrency`.
   */
  readonly generationGate?: GenerationGate | undefined
  /** How long the default retry policy waits out the account's generation lock (see {@link CallOptions}). Default 60 seconds. */
  readonly lockWait?: Duration.DurationInput | undefined
}

/**
 * The generation slots of one account, to share between clients: the facade and an Effect program,
 * or two layers, each given it as `generationGate`. {@link makeGenerationGate} makes one for a
 * process; `effect-novelai/redis` makes one shared across processes. A gate is an interface: the
 * client calls `acquire(slot)` before each generation (`"text"` or `"image"`) and the lease's
 * `release` when it ends; implement it to share slots through another store.
 *
 * @since 0.1.0
 * @category models
 */
export type GenerationGate = Gate.GenerationGate

/**
 * A slot of a {@link GenerationGate}: NovelAI locks text and image generations separately.
 *
 * @since 0.1.0
 * @category models
 */
export type GenerationSlot = Gate.GenerationSlot

/**
 * A held slot of a {@link GenerationGate}, and how the generation that held it ended.
 *
 * @since 0.1.0
 * @category models
 */
export type GenerationLease = Gate.GenerationLease

/**
 * Makes a {@link GenerationGate}: `concurrency` generations at once (default 1, as NovelAI runs per
 * account) among every client given it.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { FetchHttpClient } from "@effect/platform"
 * import { NovelAI, NovelAIClient } from "effect-novelai"
 *
 * // One key, two clients, one generation at a time between them.
 * const gate = NovelAIClient.makeGenerationGate()
 * const promises = new NovelAI({ apiKey: "pst-...", generationGate: gate })
 * const effects = NovelAIClient.layer({ apiKey: "pst-...", generationGate: gate }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * void promises.close()
 * ```
 */
export const makeGenerationGate = (concurrency: number | "unbounded" = 1): GenerationGate => {
  if (concurrency !== "unbounded" && !(Number.isSafeInteger(concurrency) && concurrency >= 1)) {
    throw new ConfigurationError({
      message: `makeGenerationGate: concurrency must be an integer >= 1 or "unbounded" (got ${String(concurrency)})`
    })
  }
  return Gate.makeLocalGate(concurrency)
}

/**
 * Builds the service from options, on the `HttpClient` in the context (Fetch, Node, or a test
 * client). Fails with a {@link ConfigurationError} when the options are refused. When the scope
 * closes, calls still in flight end with a `ClientClosedError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<NovelAIClient.Service, ConfigurationError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function* () {
    const resolved = yield* Client.resolve(options)
    const runner = Calls.make(
      {
        http: Http.configure(yield* HttpClient.HttpClient, resolved),
        inheritSpan: resolved.httpSpans,
        deadlines: yield* Http.withoutRedirects(Deadline.makeDeadlines),
        gate: yield* Gate.make(resolved)
      },
      resolved,
      Client.registries
    )
    const apis = Client.makeApis(runner)
    return {
      ...apis,
      imageBaseUrl: resolved.imageBaseUrl,
      defaultModel: resolved.defaultModel,
      defaultTextModel: resolved.defaultTextModel,
      baseUrl: resolved.baseUrl
    }
  })

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
 * const NovelAILive = NovelAIClient.layer({ apiKey: "pst-..." }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 */
export const layer = (
  options: Options
): Layer.Layer<NovelAIClient, ConfigurationError, HttpClient.HttpClient> =>
  Layer.scoped(NovelAIClient, make(options))

/**
 * Options of {@link layerConfig}: each may be a plain value or a `Config` read when the layer is
 * built.
 *
 * @since 0.1.0
 * @category models
 */
export type ConfigOptions = {
  readonly [K in keyof Options]?: Options[K] | Config.Config<Exclude<Options[K], undefined>>
}

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

/** An environment variable set to the empty string counts as not set, here as in the facade. */
const nonEmpty = <A>(config: Config.Config<A>, text: (a: A) => string) =>
  Config.option(config).pipe(Config.map(Option.filter((a) => text(a).trim() !== "")))

const defaultConfig = {
  apiKey: nonEmpty(Config.redacted("NOVELAI_API_KEY"), Redacted.value).pipe(
    Config.mapOrFail((key) =>
      Option.match(key, {
        onNone: () => Either.left(ConfigError.MissingData(["NOVELAI_API_KEY"], "NOVELAI_API_KEY is empty")),
        onSome: Either.right
      })
    )
  ),
  baseUrl: nonEmpty(Config.string("NOVELAI_BASE_URL"), String).pipe(Config.map(Option.getOrUndefined)),
  imageBaseUrl: nonEmpty(Config.string("NOVELAI_IMAGE_BASE_URL"), String).pipe(
    Config.map(Option.getOrUndefined)
  )
}

/**
 * A layer providing {@link NovelAIClient} from configuration. By default the key is read from
 * `NOVELAI_API_KEY` (as `Redacted`) and the host from `NOVELAI_BASE_URL` (an empty value counts as
 * unset); any option may be given as a value or as a `Config` of your own, so an app can rename or
 * nest its settings. A missing key fails the layer with a {@link ConfigurationError} that says so.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Config, Layer } from "effect"
 * import { NovelAIClient } from "effect-novelai"
 *
 * const NovelAILive = NovelAIClient.layerConfig({
 *   apiKey: Config.redacted("STORYBOT_NOVELAI_KEY"),
 *   timeout: Config.duration("STORYBOT_TIMEOUT").pipe(Config.withDefault("5 minutes")),
 *   maxRetries: 3
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 * ```
 */
export const layerConfig = (
  options?: ConfigOptions
): Layer.Layer<NovelAIClient, ConfigurationError, HttpClient.HttpClient> =>
  Layer.scoped(
    NovelAIClient,
    Effect.gen(function* () {
      const given = { ...defaultConfig, ...options } as Record<string, unknown>
      const loaded: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(given)) {
        loaded[key] = Config.isConfig(value)
          ? yield* Effect.mapError(
              value,
              (error) => new ConfigurationError({ message: describeConfigError(error) })
            )
          : value
      }
      return yield* make(loaded as unknown as Options)
    })
  )

/**
 * Runs `effect` with call options for every call made inside it (one timeout or retry policy for a
 * whole workflow). A call's own options win over these, and these over an outer block's and the
 * client's.
 *
 * @since 0.1.0
 * @category combinators
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NovelAIClient, OpenAI } from "effect-novelai"
 *
 * const nightlyBatch = Effect.gen(function* () {
 *   const models = yield* OpenAI.listModels()
 *   return yield* OpenAI.completion({ prompt: "Once upon a time", model: models[0]?.id })
 * }).pipe(NovelAIClient.withCallOptions({ maxRetries: 5, timeout: "20 minutes" }))
 * ```
 */
export const withCallOptions: {
  (options: CallOptions): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, options: CallOptions): Effect.Effect<A, E, R>
} = dual(2, <A, E, R>(effect: Effect.Effect<A, E, R>, options: CallOptions) =>
  Effect.flatMap(Effect.serviceOption(BlockOptions), (outer) =>
    Effect.provideService(effect, BlockOptions, { ...Option.getOrUndefined(outer), ...defined(options) })
  )
)

const defined = (options: CallOptions): Record<string, unknown> =>
  Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
