import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Redacted from "effect/Redacted"
import { ConfigurationError } from "../Errors.js"
import type { Options } from "../NovelAIClient.js"
import { DEFAULT_MAX_RETRIES } from "../Retry.js"
import { VERSION } from "./version.js"

export const DEFAULT_BASE_URL = "https://text.novelai.net"
export const DEFAULT_MODEL = "glm-4-6"
/** Long enough for a 2048-token generation, short enough that a dead connection is noticed. */
export const DEFAULT_TIMEOUT = Duration.minutes(10)
/** NovelAI streams tokens steadily once it starts; two quiet minutes means something is wrong. */
export const DEFAULT_IDLE_TIMEOUT = Duration.minutes(2)

export const duration = (
  name: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration
): Either.Either<Duration.Duration, string> => {
  if (input === undefined) return Either.right(fallback)
  const decoded = Duration.decodeUnknown(input)
  if (decoded._tag === "None" || !Duration.isFinite(decoded.value) || Duration.toMillis(decoded.value) <= 0) {
    return Either.left(
      `${name} must be a positive duration such as "30 seconds" or 30000 (got ${JSON.stringify(input)})`
    )
  }
  return Either.right(decoded.value)
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i
const HEADER_UNSAFE = /[\r\n\0]/

export interface Resolved {
  readonly headers: Readonly<Record<string, string>>
  readonly maxRetries: number
  readonly maxConcurrency: number | undefined
  readonly timeout: Duration.Duration
  readonly idleTimeout: Duration.Duration
  readonly apiKey: Redacted.Redacted
  readonly baseUrl: string
  readonly defaultModel: string
  readonly userAgent: string
  readonly scrub: (text: string) => string
}

/** Checks a retry count, client-wide or per call. */
export const retries = (input: unknown): string | undefined =>
  input === undefined || (typeof input === "number" && Number.isSafeInteger(input) && input >= 0)
    ? undefined
    : `maxRetries must be an integer >= 0 (got ${JSON.stringify(input)})`

export const resolveOptions = (options: Options): Either.Either<Resolved, ConfigurationError> => {
  const fail = (message: string) => Either.left(new ConfigurationError({ message }))
  if (options === null || typeof options !== "object") return fail("options must be an object with an apiKey")
  const apiKey =
    typeof options.apiKey === "string"
      ? Redacted.make(options.apiKey)
      : Redacted.isRedacted(options.apiKey)
        ? options.apiKey
        : undefined
  if (apiKey === undefined) return fail("apiKey is missing: pass your NovelAI API key or set NOVELAI_API_KEY")
  const key = Redacted.value(apiKey)
  if (typeof key !== "string" || key.trim() === "") return fail("apiKey is empty: pass your NovelAI API key")
  if (HEADER_UNSAFE.test(key)) return fail("apiKey contains a line break or NUL character and was refused")
  let url: URL
  try {
    url = new URL(options.baseUrl ?? DEFAULT_BASE_URL)
  } catch {
    return fail(`baseUrl is not a valid URL: ${JSON.stringify(String(options.baseUrl))}`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return fail(`baseUrl must use https:// (got ${url.protocol})`)
  }
  if (url.protocol === "http:" && !LOOPBACK.test(url.hostname) && options.allowInsecureHttp !== true) {
    return fail(
      `baseUrl ${url.origin} is plain http to a remote host: the API key would be sent unencrypted. Use https, or set allowInsecureHttp: true`
    )
  }
  const userAgent = options.userAgent ?? `effect-novelai/${VERSION}`
  if (HEADER_UNSAFE.test(userAgent)) return fail("userAgent contains a line break and was refused")
  const headers = options.headers ?? {}
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== "string" || HEADER_UNSAFE.test(value) || HEADER_UNSAFE.test(name)) {
      return fail(`headers.${name} must be a string without line breaks`)
    }
    if (name.toLowerCase() === "authorization") return fail("headers may not set authorization: pass apiKey")
  }
  const defaultModel = options.defaultModel ?? DEFAULT_MODEL
  if (typeof defaultModel !== "string" || defaultModel === "")
    return fail("defaultModel must be a non-empty string")
  const path = url.pathname.replace(/\/+$/, "").replace(/\/oa\/v1$/, "")
  const baseUrl = `${url.origin}${path}`
  const scrub = key.length >= 4 ? (text: string) => text.split(key).join("[redacted]") : identity<string>
  const badRetries = retries(options.maxRetries)
  if (badRetries !== undefined) return fail(badRetries)
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES
  const maxConcurrency = options.maxConcurrency
  if (maxConcurrency !== undefined && (!Number.isSafeInteger(maxConcurrency) || maxConcurrency < 1)) {
    return fail(`maxConcurrency must be an integer >= 1 (got ${maxConcurrency})`)
  }
  const timeout = duration("timeout", options.timeout, DEFAULT_TIMEOUT)
  if (Either.isLeft(timeout)) return fail(timeout.left)
  const idleTimeout = duration("idleTimeout", options.idleTimeout, DEFAULT_IDLE_TIMEOUT)
  if (Either.isLeft(idleTimeout)) return fail(idleTimeout.left)
  return Either.right({
    headers,
    apiKey,
    baseUrl,
    defaultModel,
    userAgent,
    scrub,
    maxRetries,
    maxConcurrency,
    timeout: timeout.right,
    idleTimeout: idleTimeout.right
  })
}
