/**
 * Client options, checked once when the client is made. Input is `unknown`: whatever a caller
 * passes (from JavaScript, from configuration) is checked here, and a refusal is a
 * `ConfigurationError` that names the option, before any request.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type * as RateLimiter from "effect/RateLimiter"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { ConfigurationError, type NovelAIError } from "../../Errors.js"
import type { Host } from "./endpoint.js"
import { type GenerationGate, isGenerationGate, makeLocalGate } from "./gate.js"
import { makeScrub } from "./scrub.js"
import { VERSION } from "./version.js"

export const DEFAULT_BASE_URL = "https://text.novelai.net"
export const DEFAULT_IMAGE_BASE_URL = "https://image.novelai.net"
/** Sent outside browsers, where a `User-Agent` is allowed (see `http.ts`). */
export const DEFAULT_USER_AGENT = `effect-novelai/${VERSION}`
/** Long enough for a 2048-token generation, short enough that a dead connection is noticed. */
export const DEFAULT_TIMEOUT = Duration.minutes(10)
/** NovelAI streams tokens steadily once it starts; two quiet minutes means something is wrong. */
export const DEFAULT_IDLE_TIMEOUT = Duration.minutes(2)

/** Per-call settings, over the client's: one call's last argument, or a block's (`withCallOptions`). */
export interface CallOptions {
  /** Retries of transient failures; 0 disables. It caps a `retrySchedule` given with it or more widely. Default: the client's (2). */
  readonly maxRetries?: number | undefined
  /** Your own retry policy, replacing the default one (see `Retry.schedule`, `Retry.isRetryable`). */
  readonly retrySchedule?: Schedule.Schedule<unknown, NovelAIError> | undefined
  /**
   * Each attempt's deadline: the wait for a free slot, the response, and for non-streaming calls its
   * body. `Infinity` for none. Default: the client's (10 minutes).
   */
  readonly timeout?: Duration.DurationInput | undefined
  /** Longest wait for a stream's next data while you wait for it; `Infinity` for none. Default: the client's (2 minutes). */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /**
   * Answer `chatCompletion` / `completion` by streaming and collecting (one request, the same
   * result): `true` by default for chats, whose non-streaming answers NovelAI has been seen to send
   * empty, `false` for completions. Default: the client's.
   */
  readonly collectStream?: boolean | undefined
  /**
   * How long the default retry policy waits out the account's generation lock (429 "concurrent
   * generation is locked"), apart from `maxRetries`; 0 treats it as any other 429. `maxRetries: 0`
   * turns every retry off, this one included. Default: the client's (60 seconds).
   */
  readonly lockWait?: Duration.DurationInput | undefined
  /**
   * The largest response body this call reads, in bytes after decompression, and the largest reply
   * a collected stream gathers; more fails with a `ResponseTooLargeError`, not retried. A stream
   * handed to you is not capped (you hold what you keep). Default: the client's, else the
   * endpoint's (16 MiB for text).
   */
  readonly maxResponseBytes?: number | undefined
  /**
   * The most Anlas a paid call (an image generation) may cost: a call estimated above it fails
   * with a `BudgetExceededError` before anything is sent. Priced for the client's `account`, or,
   * without one, as for an account Opus's free rule does not cover (the upper bound).
   */
  readonly maxAnlas?: number | undefined
  /**
   * Refuse any paid call that would not be free for the client's `account` (Opus's free rule), with
   * a `BudgetExceededError` before anything is sent. Without an `account` nothing is known to be
   * free, so every paid call is refused.
   */
  readonly freeOnly?: boolean | undefined
}

/**
 * The account a budget (`maxAnlas`, `freeOnly`) prices for: `{ tier }` (0 Paper, 1 Tablet, 2 Scroll,
 * 3 Opus; an active subscription), or the `Account.subscription()` answer as it is.
 */
export interface BudgetAccount {
  readonly tier: number
  readonly active?: boolean | undefined
  readonly battery?: { readonly negative: boolean } | undefined
}

/** The client's settings, checked. */
export interface Resolved {
  readonly apiKey: Redacted.Redacted<string>
  /** The text host (`/oa/v1`, the native text API). */
  readonly baseUrl: string
  /** The image host. */
  readonly imageBaseUrl: string
  /** As given; undefined: the default, outside browsers. */
  readonly userAgent: string | undefined
  readonly headers: Readonly<Record<string, string>>
  /** As given; the default (2) applies where no level sets it. */
  readonly maxRetries: number | undefined
  readonly retrySchedule: Schedule.Schedule<unknown, NovelAIError> | undefined
  readonly timeout: Duration.Duration
  readonly idleTimeout: Duration.Duration
  readonly maxConcurrency: number | undefined
  /** The account's generation slots: the client's own (default one), or shared with other clients. */
  readonly generations: GenerationGate
  /** As given: how long the default retry policy waits out the account's generation lock. */
  readonly lockWait: Duration.Duration | undefined
  readonly rateLimit: RateLimiter.RateLimiter.Options | undefined
  /** As given: whether chats and completions collect a stream (each endpoint has its default). */
  readonly collectStream: boolean | undefined
  /** As given: the largest body a call reads (each endpoint has its default). */
  readonly maxResponseBytes: number | undefined
  /** As given: the client's budget for paid calls. */
  readonly maxAnlas: number | undefined
  readonly freeOnly: boolean | undefined
  /** The account budgets price for, if given. */
  readonly account: BudgetAccount | undefined
  readonly tracePropagation: boolean
  readonly httpSpans: boolean
  readonly transformClient: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
  /** Removes the API key from any text before it reaches an error. */
  readonly scrub: (text: string) => string
}

export const show = (u: unknown): string => {
  if (typeof u === "number") return Number.isNaN(u) ? "NaN" : String(u)
  if (typeof u === "string") return JSON.stringify(u)
  if (u === null || u === undefined || typeof u === "boolean") return String(u)
  return typeof u
}

/**
 * A duration option: positive, or infinite to turn the timeout off. A number is milliseconds.
 * The error text names the option and what was given.
 */
export const duration = (
  name: string,
  input: unknown,
  fallback: Duration.Duration
): Either.Either<Duration.Duration, string> => {
  if (input === undefined) return Either.right(fallback)
  const decoded = Duration.decodeUnknown(input)
  if (decoded._tag === "None" || !(Duration.toMillis(decoded.value) > 0)) {
    return Either.left(
      `${name} must be a positive duration such as "30 seconds" or 30000 (ms), or Infinity for none (got ${show(input)})`
    )
  }
  return Either.right(decoded.value)
}

/** A retry count, client-wide or per call. */
export const retries = (input: unknown): string | undefined =>
  input === undefined || (typeof input === "number" && Number.isSafeInteger(input) && input >= 0)
    ? undefined
    : `maxRetries must be an integer >= 0 (got ${show(input)})`

/** A retry policy of the caller's own. */
export const schedule = (
  input: unknown
): Either.Either<Schedule.Schedule<unknown, NovelAIError> | undefined, string> =>
  input === undefined || Schedule.isSchedule(input)
    ? Either.right(input as Schedule.Schedule<unknown, NovelAIError> | undefined)
    : Either.left(`retrySchedule must be a Schedule (got ${show(input)})`)

export const positiveInteger = (name: string, input: unknown): Either.Either<number | undefined, string> =>
  input === undefined || (typeof input === "number" && Number.isSafeInteger(input) && input >= 1)
    ? Either.right(input as number | undefined)
    : Either.left(`${name} must be an integer >= 1 (got ${show(input)})`)

/** Anlas: a finite number >= 0. */
export const anlas = (name: string, input: unknown): Either.Either<number | undefined, string> =>
  input === undefined || (typeof input === "number" && Number.isFinite(input) && input >= 0)
    ? Either.right(input as number | undefined)
    : Either.left(`${name} must be a number of Anlas >= 0 (got ${show(input)})`)

const account = (input: unknown): Either.Either<BudgetAccount | undefined, string> => {
  if (input === undefined) return Either.right(undefined)
  const tier = (input as { tier?: unknown } | null)?.tier
  return typeof input === "object" && typeof tier === "number" && Number.isInteger(tier) && tier >= 0
    ? Either.right(input as BudgetAccount)
    : Either.left(
        `account must be { tier } (0 Paper, 1 Tablet, 2 Scroll, 3 Opus) or the Account.subscription() answer (got ${show(input)})`
      )
}

const boolean = (name: string, input: unknown): Either.Either<boolean, string> =>
  input === undefined || typeof input === "boolean"
    ? Either.right(input === true)
    : Either.left(`${name} must be true or false (got ${show(input)})`)

/** A wait that may be zero (none): the lock's patience. */
export const lockWait = (input: unknown): Either.Either<Duration.Duration | undefined, string> => {
  if (input === undefined) return Either.right(undefined)
  const decoded = Duration.decodeUnknown(input)
  return decoded._tag === "Some" && Duration.toMillis(decoded.value) >= 0 && Duration.isFinite(decoded.value)
    ? Either.right(decoded.value)
    : Either.left(`lockWait must be a duration such as "60 seconds", or 0 for none (got ${show(input)})`)
}

const generations = (concurrency: unknown, gate: unknown): Either.Either<GenerationGate, string> => {
  if (gate !== undefined) {
    if (!isGenerationGate(gate)) {
      return Either.left(
        "generationGate must be a GenerationGate (NovelAIClient.makeGenerationGate, or a shared one such as effect-novelai/redis)"
      )
    }
    if (concurrency !== undefined) {
      return Either.left(
        "give generationConcurrency or generationGate, not both: the gate has its own concurrency"
      )
    }
    return Either.right(gate)
  }
  if (concurrency === undefined) return Either.right(makeLocalGate(1))
  if (
    concurrency === "unbounded" ||
    (typeof concurrency === "number" && Number.isSafeInteger(concurrency) && concurrency >= 1)
  ) {
    return Either.right(makeLocalGate(concurrency as number | "unbounded"))
  }
  return Either.left(
    `generationConcurrency must be an integer >= 1 or "unbounded" (got ${show(concurrency)})`
  )
}

const rateLimit = (input: unknown): Either.Either<RateLimiter.RateLimiter.Options | undefined, string> => {
  if (input === undefined) return Either.right(undefined)
  const usage = `rateLimit must be { limit, interval }, e.g. { limit: 10, interval: "1 second" }`
  if (typeof input !== "object" || input === null) return Either.left(`${usage} (got ${show(input)})`)
  const { limit, interval, algorithm } = input as Record<string, unknown>
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1) {
    return Either.left(`rateLimit.limit must be an integer >= 1 (got ${show(limit)})`)
  }
  const decoded = Duration.decodeUnknown(interval)
  if (decoded._tag === "None" || !Duration.isFinite(decoded.value) || Duration.toMillis(decoded.value) <= 0) {
    return Either.left(
      `rateLimit.interval must be a positive finite duration such as "1 second" (got ${show(interval)})`
    )
  }
  if (algorithm !== undefined && algorithm !== "token-bucket" && algorithm !== "fixed-window") {
    return Either.left(
      `rateLimit.algorithm must be "token-bucket" or "fixed-window" (got ${show(algorithm)})`
    )
  }
  return Either.right({ limit, interval: decoded.value, ...(algorithm !== undefined ? { algorithm } : {}) })
}

/** A header name HTTP accepts: an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** A header value every transport sends as is: visible ASCII, with inner spaces and tabs. */
const FIELD_VALUE = /^[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?$/
/** An API key: visible ASCII, no spaces. */
const KEY = /^[\x21-\x7e]+$/

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i
/** The endpoint paths on each host, from the client's families: a host URL ending in one is refused. */
export type EndpointPaths = Readonly<Record<Host, ReadonlyArray<string>>>

/**
 * A host option (`baseUrl`, `imageBaseUrl`): https (or http to loopback, or when allowed), no query,
 * fragment or credentials, not an endpoint URL. A trailing directory of the endpoints' paths
 * (`/oa/v1`) is tolerated and dropped.
 */
const hostUrl = (
  name: string,
  input: unknown,
  fallback: string,
  allowInsecureHttp: boolean,
  paths: ReadonlyArray<string>
): Either.Either<string, string> => {
  if (input === undefined) return Either.right(fallback)
  if (typeof input !== "string") return Either.left(`${name} must be a string (got ${show(input)})`)
  let url: URL
  try {
    url = new URL(input.trim())
  } catch {
    return Either.left(`${name} is not a valid URL: ${JSON.stringify(input)}`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return Either.left(`${name} must use https:// (got ${url.protocol})`)
  }
  if (url.search !== "" || url.hash !== "" || input.includes("?") || input.includes("#")) {
    return Either.left(
      `${name} must be a host and optional path, without a query or fragment (got ${JSON.stringify(input)})`
    )
  }
  if (url.username !== "" || url.password !== "") {
    return Either.left(`${name} must not carry credentials: pass the key as apiKey`)
  }
  const path = url.pathname.replace(/\/+$/, "")
  const endpoint = paths.find((p) => path.endsWith(p))
  if (endpoint !== undefined) {
    return Either.left(
      `${name} is an endpoint URL; give the host it is on, e.g. ${url.origin}${path.slice(0, -endpoint.length)} (got ${JSON.stringify(input)})`
    )
  }
  if (url.protocol === "http:" && !LOOPBACK.test(url.hostname) && !allowInsecureHttp) {
    return Either.left(
      `${name} ${url.origin} is plain http to a remote host: the API key would be sent unencrypted. Use https, or set allowInsecureHttp: true`
    )
  }
  const directory = paths
    .map((p) => p.slice(0, p.lastIndexOf("/")))
    .find((dir) => dir.split("/").length > 2 && path.endsWith(dir))
  return Either.right(`${url.origin}${directory === undefined ? path : path.slice(0, -directory.length)}`)
}

const headers = (input: unknown): Either.Either<Readonly<Record<string, string>>, string> => {
  if (input === undefined) return Either.right({})
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return Either.left(`headers must be an object of header names to values (got ${show(input)})`)
  }
  for (const [name, value] of Object.entries(input)) {
    if (!TOKEN.test(name)) {
      return Either.left(
        `headers: ${JSON.stringify(name)} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only)`
      )
    }
    if (typeof value !== "string" || !FIELD_VALUE.test(value)) {
      return Either.left(
        `headers.${name} must be a non-empty string of visible ASCII characters, spaces and tabs, without leading or trailing whitespace`
      )
    }
    if (name.toLowerCase() === "authorization") {
      return Either.left("headers may not set authorization: pass apiKey")
    }
    if (name.toLowerCase() === "accept-encoding") {
      return Either.left(
        "headers may not set accept-encoding: the client asks for uncompressed answers, which every transport reads"
      )
    }
  }
  return Either.right(input as Record<string, string>)
}

/** The key: a string or `Redacted`; surrounding whitespace (a pasted newline) is dropped. */
const apiKey = (input: unknown): Either.Either<Redacted.Redacted<string>, string> => {
  const raw =
    typeof input === "string" ? input : Redacted.isRedacted(input) ? Redacted.value(input) : undefined
  if (raw === undefined || raw === null) {
    return Either.left("apiKey is missing: pass your NovelAI API key (pst-...) or set NOVELAI_API_KEY")
  }
  if (typeof raw !== "string") return Either.left("apiKey must be a string or a Redacted string")
  const key = raw.trim()
  if (key === "") return Either.left("apiKey is empty: pass your NovelAI API key (pst-...)")
  if (!KEY.test(key)) {
    return Either.left(
      "apiKey contains characters an HTTP header cannot carry (spaces, line breaks, control or non-ASCII characters) and was refused"
    )
  }
  return Either.right(
    Redacted.isRedacted(input) && key === raw ? (input as Redacted.Redacted<string>) : Redacted.make(key)
  )
}

/** Options a family adds to the client's: their names, and how they are checked. */
export interface OptionsExtension<X> {
  readonly names: ReadonlyArray<string>
  readonly resolve: (options: Record<string, unknown>) => Either.Either<X, string>
}

/** The options the core reads. */
const NAMES: ReadonlyArray<string> = [
  "apiKey",
  "baseUrl",
  "imageBaseUrl",
  "userAgent",
  "headers",
  "maxRetries",
  "retrySchedule",
  "timeout",
  "idleTimeout",
  "maxConcurrency",
  "rateLimit",
  "allowInsecureHttp",
  "collectStream",
  "generationConcurrency",
  "generationGate",
  "lockWait",
  "tracePropagation",
  "httpSpans",
  "transformClient",
  "maxResponseBytes",
  "maxAnlas",
  "freeOnly",
  "account"
]

/** The number of single-character edits from `a` to `b`. */
const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

/** A refusal of an option name nobody reads, with the nearest known name when one is close. */
export const unknownName = (what: string, name: string, known: ReadonlyArray<string>): string => {
  const near = known
    .map((k) => [k, distance(name.toLowerCase(), k.toLowerCase())] as const)
    .sort((a, b) => a[1] - b[1])[0]
  return near !== undefined && near[1] <= Math.max(2, Math.floor(name.length / 4))
    ? `unknown ${what} ${JSON.stringify(name)}: did you mean ${near[0]}?`
    : `unknown ${what} ${JSON.stringify(name)} (known: ${known.join(", ")})`
}

/**
 * The client's settings from `input`: the core's, and each family's through `extension`. `also`:
 * names read elsewhere (the facade's `fetch`), which are not refused as unknown.
 */
export const resolveOptions = <X>(
  input: unknown,
  paths: EndpointPaths,
  extension: OptionsExtension<X>,
  also: ReadonlyArray<string> = []
): Either.Either<Resolved & X, ConfigurationError> =>
  Either.mapLeft(
    Either.flatMap(resolve(input, paths, [...NAMES, ...extension.names, ...also]), (core) =>
      Either.map(extension.resolve(input as Record<string, unknown>), (family) => ({ ...core, ...family }))
    ),
    (message) => new ConfigurationError({ message })
  )

const resolve = (
  input: unknown,
  paths: EndpointPaths,
  known: ReadonlyArray<string>
): Either.Either<Resolved, string> =>
  Either.gen(function* () {
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      return yield* Either.left(`options must be an object with an apiKey (got ${show(input)})`)
    }
    const options = input as Record<string, unknown>
    for (const name of Object.keys(options)) {
      if (!known.includes(name) && options[name] !== undefined) {
        return yield* Either.left(unknownName("option", name, known))
      }
    }
    const key = yield* apiKey(options.apiKey)
    const allowInsecureHttp = yield* boolean("allowInsecureHttp", options.allowInsecureHttp)
    const url = yield* hostUrl("baseUrl", options.baseUrl, DEFAULT_BASE_URL, allowInsecureHttp, paths.text)
    const imageUrl = yield* hostUrl(
      "imageBaseUrl",
      options.imageBaseUrl,
      DEFAULT_IMAGE_BASE_URL,
      allowInsecureHttp,
      paths.image
    )
    const userAgent = options.userAgent
    if (userAgent !== undefined && (typeof userAgent !== "string" || !FIELD_VALUE.test(userAgent))) {
      return yield* Either.left("userAgent must be a non-empty string of visible ASCII characters and spaces")
    }
    const extraHeaders = yield* headers(options.headers)
    const badRetries = retries(options.maxRetries)
    if (badRetries !== undefined) return yield* Either.left(badRetries)
    const transformClient = options.transformClient
    if (transformClient !== undefined && typeof transformClient !== "function") {
      return yield* Either.left(`transformClient must be a function (got ${show(transformClient)})`)
    }
    const secret = Redacted.value(key)
    return {
      apiKey: key,
      baseUrl: url,
      imageBaseUrl: imageUrl,
      userAgent,
      headers: extraHeaders,
      maxRetries: options.maxRetries as number | undefined,
      retrySchedule: yield* schedule(options.retrySchedule),
      timeout: yield* duration("timeout", options.timeout, DEFAULT_TIMEOUT),
      idleTimeout: yield* duration("idleTimeout", options.idleTimeout, DEFAULT_IDLE_TIMEOUT),
      maxConcurrency: yield* positiveInteger("maxConcurrency", options.maxConcurrency),
      generations: yield* generations(options.generationConcurrency, options.generationGate),
      lockWait: yield* lockWait(options.lockWait),
      rateLimit: yield* rateLimit(options.rateLimit),
      collectStream:
        options.collectStream === undefined
          ? undefined
          : yield* boolean("collectStream", options.collectStream),
      maxResponseBytes: yield* positiveInteger("maxResponseBytes", options.maxResponseBytes),
      maxAnlas: yield* anlas("maxAnlas", options.maxAnlas),
      freeOnly: options.freeOnly === undefined ? undefined : yield* boolean("freeOnly", options.freeOnly),
      account: yield* account(options.account),
      tracePropagation: yield* boolean("tracePropagation", options.tracePropagation),
      httpSpans: yield* boolean("httpSpans", options.httpSpans),
      transformClient: transformClient as Resolved["transformClient"],
      scrub: makeScrub(secret)
    }
  })
