/**
 * The Redis gate's options, checked once when it is made: a refusal is a `ConfigurationError`
 * naming the option. The account's Redis key is derived here, from a hash of the API key.
 */
import { createHash } from "node:crypto"
import * as Duration from "effect/Duration"
import * as Redacted from "effect/Redacted"
import type { Redis } from "ioredis"
import { ConfigurationError } from "../../Errors.js"
import { DEFAULT_LOCK_WAIT } from "../core/retry.js"

/** What the gate is told to connect with: a URL (its own connection) or a client of the caller's. */
export type Connection = { readonly url: string } | { readonly client: Redis }

/** Whose slots the gate shares: an API key's (its hash names the keys) or an explicit key. */
export type Account = { readonly apiKey: string | Redacted.Redacted<string> } | { readonly key: string }

export interface Tuning {
  readonly concurrency?: number | undefined
  readonly lease?: Duration.DurationInput | undefined
  readonly interruptedHold?: Duration.DurationInput | undefined
  readonly operationTimeout?: Duration.DurationInput | undefined
  readonly whenUnreachable?: "fail" | "local" | undefined
}

export type Options = Connection & Account & Tuning

/** The options, checked. */
export interface Resolved {
  readonly connection:
    | { readonly _tag: "url"; readonly url: string }
    | { readonly _tag: "client"; readonly client: Redis }
  /** The prefix of every Redis key of this account's gate. */
  readonly prefix: string
  readonly concurrency: number
  readonly leaseMillis: number
  readonly holdMillis: number
  readonly operationMillis: number
  readonly whenUnreachable: "fail" | "local"
}

export const DEFAULT_LEASE = Duration.seconds(10)
export const DEFAULT_OPERATION_TIMEOUT = Duration.seconds(2)
/** As long as the retry policy waits out NovelAI's lock: a cancelled generation may hold it that long. */
export const DEFAULT_INTERRUPTED_HOLD = DEFAULT_LOCK_WAIT

const show = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u)
  if (typeof u === "number" || typeof u === "boolean" || u === undefined || u === null) return String(u)
  return typeof u
}

/**
 * The key prefix of an API key's gate: a SHA-256 of the key, never the key, so that two accounts
 * never share a lock and nothing in Redis reveals the key. The braces are a Redis Cluster hash tag:
 * every key of the account lands on one node, as the scripts need.
 */
export const prefixOf = (apiKey: string): string =>
  `effect-novelai:gate:{${createHash("sha256").update(apiKey, "utf8").digest("hex").slice(0, 32)}}`

const millis = (name: string, input: unknown, fallback: Duration.Duration, min: number): number => {
  if (input === undefined) return Duration.toMillis(fallback)
  const decoded = Duration.decodeUnknown(input)
  const ms = decoded._tag === "Some" ? Duration.toMillis(decoded.value) : Number.NaN
  if (!Number.isFinite(ms) || ms < min) {
    throw new ConfigurationError({
      message: `RedisGenerationGate: ${name} must be a finite duration of at least ${min} ms, such as "10 seconds" or 10000 (got ${show(input)})`
    })
  }
  return Math.round(ms)
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const refuse = (message: string): never => {
  throw new ConfigurationError({ message: `RedisGenerationGate: ${message}` })
}

const isClient = (u: unknown): u is Redis =>
  isRecord(u) && typeof u.evalsha === "function" && typeof u.duplicate === "function"

/**
 * Refuses a URL ioredis could not use (it would throw a `TypeError` holding the URL, password and
 * all, or crash the process selecting a database that is not a number); never shows the URL.
 */
const checkUrl = (url: string): void => {
  const parsed = URL.canParse(url) ? new URL(url) : undefined
  if (parsed === undefined) {
    refuse(
      "url is not a URL its host and port can be read from (the URL is not shown: it may carry a password)"
    )
    return
  }
  try {
    decodeURIComponent(parsed.username)
    decodeURIComponent(parsed.password)
  } catch {
    refuse("url's user or password has a malformed %-escape (the URL is not shown: it may carry a password)")
  }
  const db = parsed.pathname.replace(/^\//, "")
  const queryDb = parsed.searchParams.get("db")
  if ((db !== "" && !/^\d+$/.test(db)) || (queryDb !== null && !/^\d+$/.test(queryDb))) {
    refuse("url's database must be a number, as in redis://127.0.0.1:6379/0")
  }
}

/** Checks the options; throws a `ConfigurationError` naming the first one refused. */
export const resolve = (input: unknown): Resolved => {
  if (!isRecord(input)) return refuse(`options must be an object (got ${show(input)})`)
  const { url, client, apiKey, key } = input
  if ((url === undefined) === (client === undefined)) {
    return refuse("give url (a redis:// or rediss:// URL) or client (an ioredis client), one of them")
  }
  if (url !== undefined && (typeof url !== "string" || !/^rediss?:\/\//.test(url))) {
    return refuse(
      `url must be a redis:// or rediss:// URL (got ${typeof url === "string" ? "another scheme" : show(url)})`
    )
  }
  if (typeof url === "string") checkUrl(url)
  if (client !== undefined && !isClient(client))
    return refuse("client must be an ioredis client (new Redis(...))")
  if ((apiKey === undefined) === (key === undefined)) {
    return refuse(
      "give apiKey (its SHA-256 names the Redis keys; the key itself is never stored) or key (the Redis key prefix), one of them"
    )
  }
  let prefix: string
  if (key !== undefined) {
    if (typeof key !== "string" || key.trim() === "")
      return refuse(`key must be a non-empty string (got ${show(key)})`)
    prefix = key
  } else {
    const secret = Redacted.isRedacted(apiKey) ? Redacted.value(apiKey as Redacted.Redacted<unknown>) : apiKey
    if (typeof secret !== "string" || secret.trim() === "") return refuse("apiKey must be a non-empty string")
    prefix = prefixOf(secret)
  }
  const concurrency = input.concurrency ?? 1
  if (typeof concurrency !== "number" || !Number.isSafeInteger(concurrency) || concurrency < 1) {
    return refuse(`concurrency must be an integer >= 1 (got ${show(concurrency)})`)
  }
  const whenUnreachable = input.whenUnreachable ?? "fail"
  if (whenUnreachable !== "fail" && whenUnreachable !== "local") {
    return refuse(`whenUnreachable must be "fail" or "local" (got ${show(whenUnreachable)})`)
  }
  return {
    connection:
      client !== undefined
        ? { _tag: "client", client: client as Redis }
        : { _tag: "url", url: url as string },
    prefix,
    concurrency,
    leaseMillis: millis("lease", input.lease, DEFAULT_LEASE, 300),
    holdMillis: millis("interruptedHold", input.interruptedHold, DEFAULT_INTERRUPTED_HOLD, 0),
    operationMillis: millis("operationTimeout", input.operationTimeout, DEFAULT_OPERATION_TIMEOUT, 1),
    whenUnreachable
  }
}
