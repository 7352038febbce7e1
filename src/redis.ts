/**
 * `effect-novelai/redis`: a generation gate shared through Redis, for one NovelAI account used from
 * several processes (a chat bot's shards, a job queue's consumers, a web app behind a load
 * balancer). NovelAI runs one generation at a time per account and answers another with 429; the
 * gate queues generations across every process given the same key, so none collides. Needs the
 * optional peer `ioredis`. See `docs/redis.md`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { ConfigurationError } from "./Errors.js"
import type { GenerationGate } from "./internal/core/gate.js"
import * as internal from "./internal/redis/gate.js"
import * as options from "./internal/redis/options.js"

const make = (gateOptions: RedisGenerationGate.Options): GenerationGate =>
  internal.make(options.resolve(gateOptions))

const scoped = (
  gateOptions: RedisGenerationGate.Options
): Effect.Effect<GenerationGate, ConfigurationError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => make(gateOptions),
      catch: (error) =>
        error instanceof ConfigurationError ? error : new ConfigurationError({ message: String(error) })
    }),
    (gate) => Effect.promise(() => gate.close())
  )

/**
 * The generation slots of one NovelAI account shared through Redis, as a service: provide it with
 * {@link RedisGenerationGate.layer} and give it to the client as `generationGate`. Its static
 * members make one: `make` for Promise code (the facade), `scoped` and `layer` for Effect code.
 *
 * @since 0.1.0
 * @category tags
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { NovelAIClient } from "effect-novelai"
 * import { RedisGenerationGate } from "effect-novelai/redis"
 *
 * const apiKey = "pst-..."
 * // The client layer, on the gate the Redis layer provides; the connection closes with the layer.
 * const NovelAILive = Layer.unwrapEffect(
 *   Effect.map(RedisGenerationGate, (generationGate) => NovelAIClient.layer({ apiKey, generationGate }))
 * ).pipe(
 *   Layer.provide(RedisGenerationGate.layer({ url: "redis://127.0.0.1:6379", apiKey })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 */
export class RedisGenerationGate extends Context.Tag("effect-novelai/RedisGenerationGate")<
  RedisGenerationGate,
  GenerationGate
>() {
  /**
   * Makes a gate shared through Redis: give it as `generationGate` to every client of the key, in
   * every process. It connects at its first generation; `close()` ends the connections it made (a
   * `client` given to it stays open). Throws a `ConfigurationError` for options it refuses.
   *
   * @since 0.1.0
   * @example
   * ```ts
   * import { NovelAI } from "effect-novelai"
   * import { RedisGenerationGate } from "effect-novelai/redis"
   *
   * const apiKey = "pst-..."
   * const generationGate = RedisGenerationGate.make({ url: "redis://127.0.0.1:6379", apiKey })
   * const client = new NovelAI({ apiKey, generationGate })
   * // ... every process of the bot does the same; one generation at a time among them.
   * await client.close()
   * await generationGate.close()
   * ```
   */
  static readonly make: (gateOptions: RedisGenerationGate.Options) => GenerationGate = make

  /**
   * A gate closed when the scope closes. Fails with a `ConfigurationError` for options it refuses.
   *
   * @since 0.1.0
   * @example
   * ```ts
   * import { FetchHttpClient } from "@effect/platform"
   * import { Effect, Layer } from "effect"
   * import { NovelAIClient } from "effect-novelai"
   * import { RedisGenerationGate } from "effect-novelai/redis"
   *
   * const apiKey = "pst-..."
   * const NovelAILive = Layer.unwrapScoped(
   *   Effect.map(RedisGenerationGate.scoped({ url: "redis://127.0.0.1:6379", apiKey }), (generationGate) =>
   *     NovelAIClient.layer({ apiKey, generationGate })
   *   )
   * ).pipe(Layer.provide(FetchHttpClient.layer))
   * ```
   */
  static readonly scoped: (
    gateOptions: RedisGenerationGate.Options
  ) => Effect.Effect<GenerationGate, ConfigurationError, Scope.Scope> = scoped

  /**
   * A layer providing {@link RedisGenerationGate}, closed with the layer.
   *
   * @since 0.1.0
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RedisGenerationGate } from "effect-novelai/redis"
   *
   * const program = Effect.map(RedisGenerationGate, (gate) => gate.concurrency)
   * const runnable = program.pipe(
   *   Effect.provide(RedisGenerationGate.layer({ url: "redis://127.0.0.1:6379", key: "my-app:novelai" }))
   * )
   * ```
   */
  static readonly layer = (
    gateOptions: RedisGenerationGate.Options
  ): Layer.Layer<RedisGenerationGate, ConfigurationError> =>
    Layer.scoped(RedisGenerationGate, scoped(gateOptions))
}

/**
 * The options of {@link RedisGenerationGate}.
 *
 * @since 0.1.0
 */
export declare namespace RedisGenerationGate {
  /**
   * Where Redis is: a URL (the gate makes and closes its own connection), or an `ioredis` client
   * of yours (the gate duplicates it for its one subscription and never closes it).
   *
   * @since 0.1.0
   * @category models
   */
  export type Connection =
    | { readonly url: string; readonly client?: undefined }
    | { readonly client: Redis; readonly url?: undefined }

  /**
   * Whose slots: an API key's (the Redis keys are named by its SHA-256, never by the key), or a
   * Redis key prefix of your own (every process of the account must give the same).
   *
   * @since 0.1.0
   * @category models
   */
  export type Account =
    | { readonly apiKey: string | Redacted.Redacted<string>; readonly key?: undefined }
    | { readonly key: string; readonly apiKey?: undefined }

  /**
   * How the gate behaves; every field has a default.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Tuning {
    /** Generations of each slot in flight at once among every process; default 1, as NovelAI allows. */
    readonly concurrency?: number | undefined
    /**
     * How long a slot stays held without renewal: it is renewed every third of it while the
     * generation runs, and a process that dies holds it at most this long. Default 10 seconds.
     */
    readonly lease?: Duration.DurationInput | undefined
    /**
     * How long a slot stays held after its generation was cancelled or cut short (a stream stopped
     * early), since NovelAI goes on generating and keeps the account's lock until it would have
     * finished. Default 60 seconds, the retry policy's `lockWait`; set it to your longest
     * generation's duration, or 0 to give the slot back at once (the next generation may then meet
     * the lock and wait it out with retries).
     */
    readonly interruptedHold?: Duration.DurationInput | undefined
    /** The longest wait for one answer from Redis before it counts as unreachable. Default 2 seconds. */
    readonly operationTimeout?: Duration.DurationInput | undefined
    /**
     * When Redis cannot be reached: `"fail"` (default) fails the generation with a
     * `GenerationGateError` before anything is sent; `"local"` goes on with this process's own
     * gate (generations of this process still never overlap; other processes may collide).
     */
    readonly whenUnreachable?: "fail" | "local" | undefined
  }

  /**
   * The options of {@link RedisGenerationGate.make}: a connection, an account and any tuning.
   *
   * @since 0.1.0
   * @category models
   */
  export type Options = Connection & Account & Tuning
}
