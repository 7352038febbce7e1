/**
 * `effect-novelai/testing`: a local NovelAI simulator (`/oa/v1`, the native API and image generation), a real HTTP server on loopback that
 * follows the wire behaviour of the real API (bearer auth, models per tier, completions, chat, the
 * native API's generate and generate-stream, SSE
 * streaming, token count, 400/402/404/409/429 errors, a per-key generation lock, CORS) and can
 * inject faults. By default it also does what public client code found the real server doing that a
 * well-behaved one would not (see {@link Quirks}); `quirks: false` makes it well-behaved. Use it to
 * run the client, the examples and your own tests with no key and no network.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NovelAIClient from "../NovelAIClient.js"
import type { Fault } from "./internal/faults.js"
import { type Quirks, resolveKeys, resolveQuirks, type Tier } from "./internal/quirks.js"
import { type RecordedRequest, startServer } from "./internal/server.js"

export type {
  /**
   * A fault the simulator injects into one request (a reset, a stall, an error status, ...).
   *
   * @since 0.1.0
   */
  Fault
} from "./internal/faults.js"
export type {
  /**
   * NovelAI's known departures from a well-behaved OpenAI-style server, each on or off.
   *
   * @since 0.1.0
   */
  Quirks,
  /**
   * A subscription tier: `free`, `tablet`, `scroll` or `opus`.
   *
   * @since 0.1.0
   */
  Tier
} from "./internal/quirks.js"
export type {
  /**
   * What the simulator saw of one request, and how it ended.
   *
   * @since 0.1.0
   */
  RecordedRequest
} from "./internal/server.js"

/**
 * Simulator options.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number | undefined
  /**
   * Accepted API keys, each a string (a Scroll key) or `{ key, tier }`; others get 401. Default: a
   * Scroll key `"pst-simulator"` (the simulator's `apiKey`) and an Opus key `"pst-simulator-opus"`.
   * A `free` key gets 402 for generations; only `opus` keys see and may use `xialong-v1` (409).
   */
  readonly apiKeys?: ReadonlyArray<string | { readonly key: string; readonly tier: Tier }> | undefined
  /**
   * Anlas each key starts with: one number for every key, or by key; a key not named starts with its tier's monthly allowance
   * (free 0, Tablet and Scroll 1,000, Opus 10,000). Image calls charge what NovelAI's formula
   * says (nothing for what Opus's free rule covers) and answer 402 "Not enough Anlas" when the
   * balance is short.
   */
  readonly anlas?: number | Readonly<Record<string, number>> | undefined
  /** Delay between streamed chunks (and per token for non-streaming calls), ms; default 0. */
  readonly chunkDelayMs?: number | undefined
  /** Generations one key may run at once before 429 "concurrent generation is locked"; default 1. */
  readonly concurrencyLimit?: number | undefined
  /** Model ids served; default `["glm-4-5", "glm-4-6", "xialong-v1"]` (the last for Opus keys only). */
  readonly models?: ReadonlyArray<string> | undefined
  /** Model ids the native API (`/ai/generate`) serves; default `["llama-3-erato-v1", "kayra-v1", "clio-v1"]`. */
  readonly textModels?: ReadonlyArray<string> | undefined
  /**
   * NovelAI's departures from a well-behaved server: `true` (default) does them all, as NovelAI
   * does; `false` none; an object sets those it names (the others stay on). See {@link Quirks}.
   */
  readonly quirks?: boolean | Partial<Quirks> | undefined
  /** Idle keep-alive time for connections, ms; default 5000. */
  readonly keepAliveTimeoutMs?: number | undefined
}

/**
 * A running simulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Simulator {
  /** `http://127.0.0.1:<port>`: use it as the client's `baseUrl`. */
  readonly url: string
  /** An accepted API key: the first of `apiKeys` (by default a Scroll key). */
  readonly apiKey: string
  /**
   * What a client needs to reach the simulator for every family: the key, and the simulator as
   * both the text host and the image host (`new NovelAI(sim.clientOptions)`).
   */
  readonly clientOptions: { readonly apiKey: string; readonly baseUrl: string; readonly imageBaseUrl: string }
  /** The quirks in effect. */
  readonly quirks: Quirks
  /** Every request received, in order. */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** Failures of the simulator itself (each also answered with a 500 and logged): empty unless it has a bug. */
  readonly errors: ReadonlyArray<Error>
  /** Connections currently open. */
  readonly openConnections: () => number
  /**
   * Resolves once the request at `index` of `requests` has closed (answered, or its client went
   * away), waiting for it to arrive if it has not: what a test waits on instead of a time.
   */
  readonly closed: (index: number) => Promise<RecordedRequest>
  /** Generations currently holding a key's lock. */
  readonly activeGenerations: () => number
  /** The Anlas `key` has left (undefined for a key the simulator does not accept). */
  readonly anlas: (key: string) => number | undefined
  /** Queues a fault for the next request (optionally only the next one to `path`). */
  readonly enqueueFault: (fault: Fault, path?: string) => void
  /** Forgets recorded requests and queued faults. */
  readonly reset: () => void
  /** Stops listening, closes every connection and ends every wait, so nothing keeps the process alive. */
  readonly close: () => Promise<void>
}

/**
 * Starts a simulator on 127.0.0.1.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { startSimulator } from "effect-novelai/testing"
 *
 * const sim = await startSimulator()
 * const response = await fetch(`${sim.url}/oa/v1/models`, {
 *   headers: { authorization: `Bearer ${sim.apiKey}` }
 * })
 * console.log(response.status) // 200
 * await sim.close()
 * ```
 */
export const startSimulator = async (options: SimulatorOptions = {}): Promise<Simulator> => {
  const apiKeys = resolveKeys(options.apiKeys)
  const quirks = resolveQuirks(options.quirks)
  const server = await startServer({
    port: options.port ?? 0,
    apiKeys,
    anlas:
      typeof options.anlas === "number"
        ? new Map([...apiKeys.keys()].map((key) => [key, options.anlas as number]))
        : new Map(Object.entries(options.anlas ?? {})),
    quirks,
    models: options.models ?? ["glm-4-5", "glm-4-6", "xialong-v1"],
    textModels: options.textModels ?? ["llama-3-erato-v1", "kayra-v1", "clio-v1"],
    chunkDelayMs: options.chunkDelayMs ?? 0,
    concurrencyLimit: options.concurrencyLimit ?? 1,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 5000
  })
  const apiKey = [...apiKeys.keys()][0] ?? "pst-simulator"
  return {
    ...server,
    apiKey,
    clientOptions: { apiKey, baseUrl: server.url, imageBaseUrl: server.url },
    quirks
  }
}

/**
 * The running simulator, as an Effect service.
 *
 * @since 0.1.0
 * @category tags
 */
export class NovelAISimulator extends Context.Tag("effect-novelai/NovelAISimulator")<
  NovelAISimulator,
  Simulator
>() {}

/**
 * Starts a simulator for the layer's scope, and closes it (and every connection) when the scope ends.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSimulator = (options?: SimulatorOptions): Layer.Layer<NovelAISimulator> =>
  Layer.scoped(
    NovelAISimulator,
    Effect.acquireRelease(
      Effect.promise(() => startSimulator(options)),
      (sim) => Effect.promise(() => sim.close())
    )
  )

/** The names of {@link SimulatorOptions}: the rest of a mixed options object is the client's. */
const SIMULATOR_OPTIONS: ReadonlySet<string> = new Set<keyof SimulatorOptions>([
  "port",
  "apiKeys",
  "anlas",
  "chunkDelayMs",
  "concurrencyLimit",
  "models",
  "textModels",
  "quirks",
  "keepAliveTimeoutMs"
])

const clientOptions = (options: object | undefined): Record<string, unknown> =>
  Object.fromEntries(Object.entries(options ?? {}).filter(([name]) => !SIMULATOR_OPTIONS.has(name)))

/**
 * A simulator and a {@link NovelAIClient.NovelAIClient} pointed at it, on the `HttpClient` you
 * provide: what a test of your own code needs.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { OpenAI } from "effect-novelai"
 * import { layerSimulatorWithClient, NovelAISimulator } from "effect-novelai/testing"
 *
 * const program = Effect.gen(function* () {
 *   const reply = yield* OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] })
 *   const sim = yield* NovelAISimulator
 *   console.log(sim.requests.length, reply.choices[0]?.message.content !== "") // 1 true
 * })
 *
 * await Effect.runPromise(
 *   program.pipe(Effect.provide(layerSimulatorWithClient().pipe(Layer.provide(FetchHttpClient.layer))))
 * )
 * ```
 */
export const layerSimulatorWithClient = (
  options?: SimulatorOptions & Omit<NovelAIClient.Options, "apiKey" | "baseUrl">
): Layer.Layer<NovelAISimulator | NovelAIClient.NovelAIClient, never, HttpClient.HttpClient> =>
  Layer.scoped(
    NovelAIClient.NovelAIClient,
    Effect.flatMap(NovelAISimulator, (sim) =>
      Effect.orDie(
        NovelAIClient.make({
          ...clientOptions(options),
          apiKey: sim.apiKey,
          baseUrl: sim.url,
          imageBaseUrl: sim.url
        })
      )
    )
  ).pipe(Layer.provideMerge(layerSimulator(options)))
