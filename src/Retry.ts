/**
 * Retry building blocks: which failures are worth retrying, and the default backoff. The client
 * applies them by default; export them to compose your own policy with `Effect.retry`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import type { NovelAIError } from "./Errors.js"

/**
 * The default number of retries after the first attempt.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_RETRIES = 2

/**
 * Whether a failure is transient and worth retrying: 429 (and "concurrent generation is locked"),
 * 408, 5xx, transport errors, and timeouts before any byte of the response. A server's
 * `x-should-retry` header overrides this.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: NovelAIError): boolean => {
  if (error.shouldRetry !== undefined) return error.shouldRetry
  switch (error._tag) {
    case "RateLimitError":
    case "TransportError":
      return true
    case "TimeoutError":
      return error.phase === "request" || error.phase === "server"
    case "ServerError":
      return error.status !== undefined && error.status >= 500
    default:
      return false
  }
}

/**
 * Options of {@link schedule}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScheduleOptions {
  /** Retries after the first attempt; default 2. 0 disables retrying. */
  readonly maxRetries?: number | undefined
  /** First backoff delay; default 500 ms, doubled each retry. */
  readonly initialDelay?: Duration.DurationInput | undefined
  /** Largest backoff delay; default 8 s. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** Largest server-requested wait (`retry-after`) honoured; default 60 s. Longer ones fail at once. */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
}

/**
 * The delay before retry `attempt` (0-based): the server's `retryAfter` when it gave one (within
 * `maxRetryAfter`), else `min(initialDelay * 2^attempt, maxDelay)` less up to 25 % jitter
 * (`random` in [0, 1)). `undefined` when the server asked for a wait longer than `maxRetryAfter`:
 * do not retry.
 */
const delayFor = (
  error: NovelAIError,
  attempt: number,
  random: number,
  options?: ScheduleOptions
): Duration.Duration | undefined => {
  const retryAfter = error._tag === "RateLimitError" ? error.retryAfter : undefined
  if (retryAfter !== undefined) {
    return Duration.lessThanOrEqualTo(retryAfter, options?.maxRetryAfter ?? "60 seconds")
      ? retryAfter
      : undefined
  }
  const initial = Duration.toMillis(options?.initialDelay ?? "500 millis")
  const max = Duration.toMillis(options?.maxDelay ?? "8 seconds")
  const backoff = Math.min(initial * 2 ** attempt, max)
  return Duration.millis(Math.round(backoff * (1 - 0.25 * random)))
}

/**
 * The default retry policy as a `Schedule` over {@link NovelAIError}: retries retryable failures
 * (see {@link isRetryable}) up to `maxRetries` times, with exponential backoff and jitter, honouring
 * `retry-after-ms` / `retry-after` within a cap; works when no such header comes (NovelAI sends none).
 *
 * @since 0.1.0
 * @category schedules
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OpenAI, Retry } from "effect-novelai"
 *
 * // Five retries instead of two, for a batch job, on a call made with retries disabled.
 * const reply = OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }, { maxRetries: 0 }).pipe(
 *   Effect.retry(Retry.schedule({ maxRetries: 5 }))
 * )
 * ```
 */
export const schedule = (
  options?: ScheduleOptions
): Schedule.Schedule<[number, NovelAIError], NovelAIError> =>
  Schedule.intersect(
    Schedule.recurs(options?.maxRetries ?? DEFAULT_MAX_RETRIES),
    Schedule.identity<NovelAIError>()
  ).pipe(
    Schedule.whileInput((error: NovelAIError) => isRetryable(error)),
    Schedule.whileOutput(([attempt, error]) => delayFor(error, attempt, 0, options) !== undefined),
    Schedule.addDelayEffect(([attempt, error]) =>
      Effect.map(Random.next, (random) => delayFor(error, attempt, random, options) ?? Duration.zero)
    )
  )
