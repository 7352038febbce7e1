/**
 * The one place where failures become {@link Errors.NovelAIError}s: HTTP statuses and error bodies
 * (`fromFailure`), errors reported inside a 2xx body or stream (`isErrorPayload`), and the
 * platform's `HttpClientError` (`toTransportError`).
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Duration from "effect/Duration"
import * as Errors from "../../Errors.js"

/** What an error needs to know about the call it came from. */
export interface ErrorContext {
  readonly endpoint: string
  /** Removes the API key from any text before it reaches an error. */
  readonly scrub: (text: string) => string
}

const MAX_MESSAGE = 1000

const asRecord = (u: unknown): Record<string, unknown> | undefined =>
  typeof u === "object" && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : undefined

const nonEmpty = (u: unknown): string | undefined =>
  typeof u === "string" && u.trim() !== "" ? u : undefined

/** The server's message from any error body shape seen on the wire. */
const messageOf = (body: unknown): string | undefined => {
  const text = nonEmpty(body)
  if (text !== undefined) return text
  const record = asRecord(body)
  if (record === undefined) return undefined
  const error = record.error
  const nested = asRecord(error)
  return (
    nonEmpty(nested?.message) ??
    nonEmpty(error) ??
    nonEmpty(record.message) ??
    nonEmpty(record.detail) ??
    nonEmpty(nested?.type) ??
    (error !== undefined && error !== null ? safeStringify(error) : undefined)
  )
}

const safeStringify = (u: unknown): string | undefined => {
  try {
    return JSON.stringify(u)
  } catch {
    return undefined
  }
}

const asStatus = (u: unknown): number | undefined => {
  const n = typeof u === "string" && /^\d{3}$/.test(u) ? Number(u) : u
  return typeof n === "number" && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined
}

/** A status code carried inside a JSON body (`statusCode`, `status`, `error.code`, ...). */
const statusOf = (body: unknown): number | undefined => {
  const record = asRecord(body)
  if (record === undefined) return undefined
  const nested = asRecord(record.error)
  return (
    asStatus(record.statusCode) ??
    asStatus(record.status) ??
    asStatus(record.code) ??
    asStatus(nested?.statusCode) ??
    asStatus(nested?.status) ??
    asStatus(nested?.code)
  )
}

/**
 * Whether a successfully-parsed JSON body (status 200, or an SSE data frame) is really an error:
 * an `error` field, or a `statusCode`/`message` pair.
 */
export const isErrorPayload = (body: unknown): boolean => {
  const record = asRecord(body)
  if (record === undefined) return false
  // A falsy `error` (`false`, `""`, `0`, `null`) says there is none.
  if (record.error) return true
  return record.statusCode !== undefined && typeof record.message === "string" && !("choices" in record)
}

const REQUEST_ID_HEADERS = ["x-request-id", "request-id", "x-amzn-requestid", "cf-ray"] as const

/** The request id a response carries, from the first header that has one. */
const requestIdOf = (headers: Readonly<Record<string, string | undefined>>): string | undefined => {
  for (const name of REQUEST_ID_HEADERS) {
    const value = headers[name]
    if (value !== undefined && value !== "") return value
  }
  return undefined
}

const DIGITS = /^\s*\d+\s*$/
const DECIMAL = /^\s*\d+(\.\d+)?\s*$/

/**
 * How long the server asked us to wait: `retry-after-ms` (milliseconds), else `retry-after` as
 * whole seconds (HTTP allows digits only) or an HTTP date. Undefined when absent, unreadable or
 * zero: a zero wait is no instruction, and the client's own backoff applies.
 */
const retryAfterOf = (
  headers: Readonly<Record<string, string | undefined>>,
  nowMillis: number
): Duration.Duration | undefined => {
  const positive = (millis: number) => (millis > 0 ? Duration.millis(millis) : undefined)
  const ms = headers["retry-after-ms"]
  if (ms !== undefined && DECIMAL.test(ms)) return positive(Number(ms))
  const after = headers["retry-after"]
  if (after === undefined || after.trim() === "") return undefined
  if (DIGITS.test(after)) return positive(Number(after) * 1000)
  // An HTTP date names a weekday and a month: a bare number in another notation is not one.
  if (!/[a-z]/i.test(after)) return undefined
  const date = Date.parse(after)
  return Number.isNaN(date) ? undefined : positive(date - nowMillis)
}

const CONCURRENCY_LOCK = /concurrent generation is locked|too many (concurrent )?requests|rate limit/i
/** NovelAI's answer while the account's one generation slot is taken. */
const GENERATION_LOCK = /concurrent generation is locked/i

/**
 * Parses an error body as JSON when it is JSON, else keeps the text. An error body framed as SSE
 * (`data: {"statusCode":429,...}`, as NovelAI sends with an error status) is read from its first
 * event's data.
 */
export const parseBody = (text: string): unknown => {
  let trimmed = text.trim()
  if (/^(data|event):/.test(trimmed)) {
    const event = trimmed.split(/\r\n\r\n|\n\n|\r\r/).find((frame) => /^data:/m.test(frame)) ?? ""
    trimmed = event
      .split(/\r\n|\n|\r/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).replace(/^ /, ""))
      .join("\n")
      .trim()
  }
  if (trimmed.startsWith("{") || trimmed.startsWith("[") || trimmed.startsWith('"')) {
    try {
      return JSON.parse(trimmed)
    } catch {
      return text
    }
  }
  return text
}

/** NovelAI's 402 for a balance too small for the call ("Not enough Anlas"). */
const ANLAS = /\banlas\b/i

const describe = (status: number | undefined): string => {
  switch (status) {
    case 401:
      return "The API key was refused (missing, wrong or expired); check NOVELAI_API_KEY."
    case 402:
      return "An active NovelAI subscription is required for this request."
    case 403:
      return "This key's subscription tier is not allowed to do this (permission denied)."
    case 404:
      return "Not found: unknown model or path."
    case 408:
      return "The server timed out waiting for the request."
    case 409:
      return "The model is not available to this key's subscription tier."
    case 429:
      return "Rate limited: too many requests or generations at once for this account; retry later."
    default:
      return status === undefined
        ? "The server reported an error."
        : `The server answered with HTTP ${status}.`
  }
}

export interface FailureInput {
  readonly status: number | undefined
  readonly body: unknown
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly nowMillis: number
}

/**
 * The one place where an HTTP status and an error body become a {@link Errors.NovelAIError}.
 * `status` is undefined for errors reported inside a 200 body or stream.
 */
export const fromFailure = (ctx: ErrorContext, input: FailureInput): Errors.NovelAIError => {
  const serverMessage = messageOf(input.body)
  const status = input.status ?? statusOf(input.body)
  let message = serverMessage === undefined ? describe(status) : ctx.scrub(serverMessage)
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`
  const anlas = status === 402 && serverMessage !== undefined && ANLAS.test(serverMessage)
  if (status === 402 && serverMessage !== undefined && !anlas) {
    message = `An active NovelAI subscription is required: ${message}`
  }
  if (status === 403 && serverMessage !== undefined) message = `Permission denied: ${message}`
  if (status === 409 && serverMessage !== undefined) {
    message = `The model is not available to this key's subscription tier: ${message}`
  }
  const should = input.headers["x-should-retry"]
  const fields = {
    message,
    status,
    requestId: requestIdOf(input.headers),
    endpoint: ctx.endpoint,
    shouldRetry: should === "true" ? true : should === "false" ? false : undefined
  }
  if (status !== undefined && (status === 0 || (status >= 300 && status < 400))) {
    // The client follows no redirect, on any transport: the key must not go to another host.
    const location = input.headers.location
    return new Errors.InvalidRequestError({
      ...fields,
      message: ctx.scrub(
        `${ctx.endpoint}: the server redirected the request${location ? ` to ${location}` : ""} (HTTP ${status === 0 ? "3xx" : status}); the client does not follow redirects, so that the key never goes to another host. If you trust the new address, set baseUrl to it.`
      )
    })
  }
  if (status === 429 || (status === undefined && CONCURRENCY_LOCK.test(message))) {
    return new Errors.RateLimitError({
      ...fields,
      retryAfter: retryAfterOf(input.headers, input.nowMillis),
      generationLock: GENERATION_LOCK.test(message)
    })
  }
  if (status === undefined) return new Errors.ServerError(fields)
  if (anlas) return new Errors.InsufficientAnlasError(fields)
  if (status === 401 || status === 402 || status === 403) return new Errors.AuthenticationError(fields)
  if (status === 408) return new Errors.TimeoutError({ ...fields, phase: "server" })
  if (status >= 500) return new Errors.ServerError(fields)
  if (status >= 400) return new Errors.InvalidRequestError(fields)
  return new Errors.ServerError(fields)
}

/** An `HttpClientError` as one of ours. */
export const toTransportError =
  (context: ErrorContext) =>
  (error: HttpClientError.HttpClientError): Errors.TransportError => {
    const underlying = error.cause instanceof Error ? error.cause : undefined
    const detail = underlying ? `${underlying.message}${causeCode(underlying)}` : error.reason
    const what =
      error._tag === "RequestError"
        ? "the request could not be sent"
        : "the connection failed while reading the response"
    return new Errors.TransportError({
      message: context.scrub(`${context.endpoint}: ${what} (${detail})`),
      status: error._tag === "ResponseError" ? error.response.status : undefined,
      endpoint: context.endpoint,
      cause: underlying
    })
  }

const causeCode = (error: Error): string => {
  const inner = (error as { cause?: unknown }).cause
  if (typeof inner === "object" && inner !== null && "code" in inner && typeof inner.code === "string") {
    return `: ${inner.code}`
  }
  return ""
}

/** Which wait a client-side timeout cut short. */
export type Phase = "queue" | "request" | "body" | "idle"

export const timeoutError = (context: ErrorContext, phase: Phase, after: Duration.Duration) =>
  new Errors.TimeoutError({
    message: `${context.endpoint}: ${
      phase === "queue"
        ? "still waiting for a free slot (maxConcurrency, generationConcurrency)"
        : phase === "request"
          ? "no response"
          : phase === "body"
            ? "the response body did not complete"
            : "the stream sent no data"
    } within ${Duration.format(after)}${phase === "queue" ? "" : "; the connection was closed"}`,
    endpoint: context.endpoint,
    phase
  })

export const closedError = (context: ErrorContext) =>
  new Errors.ClientClosedError({
    message: `${context.endpoint}: the client was closed; create a new one to make more calls`,
    endpoint: context.endpoint
  })

/**
 * `error` with the key removed from every string it carries (message, request id, any other text
 * field) and from its cause: whatever the server echoed or a decoder quoted, the key never leaves
 * in an error. Returns `error` itself when there was nothing to remove.
 */
export const scrubError =
  (scrub: (text: string) => string) =>
  <E extends Errors.NovelAIError>(error: E): E => {
    const fields: Record<string, unknown> = { message: error.message }
    for (const key of Object.keys(error))
      if (key !== "_tag") fields[key] = (error as unknown as Record<string, unknown>)[key]
    let changed = false
    for (const [key, value] of Object.entries(fields)) {
      if (typeof value !== "string") continue
      const clean = scrub(value)
      if (clean !== value) {
        fields[key] = clean
        changed = true
      }
    }
    const cause = scrubCause(scrub, fields.cause)
    if (cause !== fields.cause) {
      fields.cause = cause
      changed = true
    }
    return changed ? (new (error.constructor as new (fields: unknown) => E)(fields) as E) : error
  }

/** A cause, or a copy of it without the key (its message kept, scrubbed; deeper causes dropped). */
const scrubCause = (scrub: (text: string) => string, cause: unknown): unknown => {
  if (!(cause instanceof Error)) return cause
  const text = `${cause.message}\n${cause.stack ?? ""}\n${String((cause as { cause?: unknown }).cause ?? "")}`
  if (scrub(text) === text) return cause
  const copy = new Error(scrub(cause.message))
  copy.name = cause.name
  return copy
}
