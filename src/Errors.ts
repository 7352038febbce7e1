/**
 * The errors every NovelAI call can fail with. Each is a tagged class extending `Error`, so both
 * `Effect.catchTag("RateLimitError", ...)` and `error instanceof RateLimitError` work.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"

/**
 * Fields shared by every error: what a caller acts on or logs.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorFields {
  /** What happened, in the server's words where it gave any. Never contains the API key. */
  readonly message: string
  /** The HTTP status, when the failure came with one. */
  readonly status?: number | undefined
  /** The request id from the response headers, when the server sent one. */
  readonly requestId?: string | undefined
  /** The endpoint the call was made to, e.g. `chatCompletion`. */
  readonly endpoint?: string | undefined
  /** The server's `x-should-retry` header, when it sent one: it overrides the retry classification. */
  readonly shouldRetry?: boolean | undefined
}

/**
 * The key is missing, wrong or expired (401), a subscription is required (402), or the key's tier
 * may not use this model (403).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError extends Data.TaggedError("AuthenticationError")<ErrorFields> {}

/**
 * The request was refused as invalid: locally, before anything was sent (bad parameter, `field`
 * names it), or by the server (400, 404 unknown model or path, 409, 413, 422).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequestError extends Data.TaggedError("InvalidRequestError")<
  ErrorFields & {
    /** The offending parameter, e.g. `temperature` or `messages[0].content`, for local validation. */
    readonly field?: string | undefined
  }
> {}

/**
 * 429: too many requests, or NovelAI's "concurrent generation is locked" (it runs few generations
 * per account at once). `retryAfter` is set when the server said how long to wait.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitError extends Data.TaggedError("RateLimitError")<
  ErrorFields & {
    /** From `retry-after-ms` or `retry-after` (seconds or HTTP date), when present. */
    readonly retryAfter?: Duration.Duration | undefined
    /**
     * Whether it is the account's generation lock ("concurrent generation is locked"): NovelAI runs
     * one generation per account at a time, and one abandoned earlier keeps the lock until it would
     * have finished. The default retry policy waits it out (see `Retry.schedule`'s `lockWait`).
     */
    readonly generationLock?: boolean | undefined
  }
> {}

/**
 * The server failed (5xx), or reported an error inside an otherwise successful response or stream.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Data.TaggedError("ServerError")<ErrorFields> {}

/**
 * The request never got a complete answer: connection refused or reset, DNS failure, or the body
 * could not be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Data.TaggedError("TransportError")<
  ErrorFields & {
    /** The underlying platform error, for diagnostics. */
    readonly cause?: unknown
  }
> {}

/**
 * A timeout: `"queue"` when the call was still waiting for its turn (see `maxConcurrency` and
 * `generationConcurrency`), `"request"` when no response (headers) came in time, `"body"` when a
 * non-streaming response's body did not finish in time, `"idle"` when a stream sent no data for too
 * long, `"server"` for a 408 from the server. A client-side one always ends the call at its
 * deadline, and closes the connection.
 *
 * @since 0.1.0
 * @category errors
 */
export class TimeoutError extends Data.TaggedError("TimeoutError")<
  ErrorFields & {
    readonly phase: "queue" | "request" | "body" | "idle" | "server"
  }
> {}

/**
 * The client was closed (its layer's scope ended, or the facade's `close()`): calls in flight end
 * with this at once, and calls made later fail with it. Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class ClientClosedError extends Data.TaggedError("ClientClosedError")<ErrorFields> {}

/**
 * The server answered, but with a body no schema accepts. `message` says which endpoint and what did
 * not match.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseDecodeError extends Data.TaggedError("ResponseDecodeError")<ErrorFields> {}

/**
 * A stream ended before `[DONE]` and before any choice reported a `finish_reason`: the generation is
 * incomplete. `chunksReceived` says how many chunks had arrived.
 *
 * @since 0.1.0
 * @category errors
 */
export class StreamTruncatedError extends Data.TaggedError("StreamTruncatedError")<
  ErrorFields & {
    readonly chunksReceived: number
  }
> {}

/**
 * A response body was larger than the call allows (`maxResponseBytes`, counted after
 * decompression), or a collected stream's reply grew past it. Not retried: the same request would
 * get the same answer. `limit` is the cap in bytes.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseTooLargeError extends Data.TaggedError("ResponseTooLargeError")<
  ErrorFields & {
    /** The cap that was passed, in bytes. */
    readonly limit: number
  }
> {}

/**
 * The generation gate could not give a slot: a shared gate's store (Redis) is unreachable, or the
 * gate was closed. Nothing was sent. Not retried by the default policy.
 *
 * @since 0.1.0
 * @category errors
 */
export class GenerationGateError extends Data.TaggedError("GenerationGateError")<
  ErrorFields & {
    /** The underlying failure, when there was one. */
    readonly cause?: unknown
  }
> {}

/**
 * The account has too few Anlas for the call (NovelAI's 402 "Not enough Anlas"): not an
 * authentication failure, and not retried. `Image.cost` says beforehand what a call will cost, and
 * `Account.subscription` what the account has.
 *
 * @since 0.1.0
 * @category errors
 */
export class InsufficientAnlasError extends Data.TaggedError("InsufficientAnlasError")<ErrorFields> {}

/**
 * A paid call refused before anything was sent: its estimated price (`anlas`) is over the
 * `maxAnlas` budget, or it would not be free under `freeOnly`. The message says why, part by part.
 *
 * @since 0.1.0
 * @category errors
 */
export class BudgetExceededError extends Data.TaggedError("BudgetExceededError")<
  ErrorFields & {
    /** The call's estimated price. */
    readonly anlas: number
    /** The budget it passed, when it was `maxAnlas`. */
    readonly maxAnlas?: number | undefined
  }
> {}

/**
 * Every error a NovelAI call can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type NovelAIError =
  | AuthenticationError
  | InvalidRequestError
  | RateLimitError
  | ServerError
  | TransportError
  | TimeoutError
  | ResponseDecodeError
  | StreamTruncatedError
  | ClientClosedError
  | ResponseTooLargeError
  | GenerationGateError
  | InsufficientAnlasError
  | BudgetExceededError

const tags: ReadonlySet<string> = new Set([
  "AuthenticationError",
  "InvalidRequestError",
  "RateLimitError",
  "ServerError",
  "TransportError",
  "TimeoutError",
  "ResponseDecodeError",
  "StreamTruncatedError",
  "ClientClosedError",
  "ResponseTooLargeError",
  "GenerationGateError",
  "InsufficientAnlasError",
  "BudgetExceededError"
])

/**
 * Whether a value is one of the {@link NovelAIError} errors.
 *
 * @since 0.1.0
 * @category guards
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { isNovelAIError, OpenAI, RateLimitError } from "effect-novelai"
 *
 * // In Effect code, recover by tag:
 * const reply = OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }).pipe(
 *   Effect.catchTag("RateLimitError", (e) =>
 *     Effect.logWarning(`busy for ${e.retryAfter ? Duration.format(e.retryAfter) : "a while"}`)
 *   )
 * )
 *
 * // From Promise code, with instanceof or the guard:
 * const error: unknown = new RateLimitError({ message: "concurrent generation is locked", status: 429 })
 * console.log(error instanceof RateLimitError, isNovelAIError(error)) // true true
 * ```
 */
export const isNovelAIError = (u: unknown): u is NovelAIError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag) && u instanceof Error

/**
 * The client options were refused when the client was made (bad base URL, plain `http://` to a
 * remote host, a key with characters HTTP cannot carry, a missing key, a bad number). Raised by
 * `make`, the layers and the `NovelAI` constructor, never by a call: a call fails with a
 * `NovelAIError`.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigurationError extends Data.TaggedError("ConfigurationError")<{
  readonly message: string
}> {}
