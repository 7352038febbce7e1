/**
 * Retry building blocks: which failures are worth retrying, and the default backoff. The client
 * applies them by default; export them to compose your own policy with `Effect.retry`.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Schedule from "effect/Schedule"
import type { NovelAIError } from "./Errors.js"
import * as internal from "./internal/core/retry.js"

/**
 * The default number of retries after the first attempt.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_RETRIES: number = internal.DEFAULT_MAX_RETRIES

/**
 * Whether a failure is transient and worth retrying: 429 (and "concurrent generation is locked"),
 * 408, 5xx, transport errors, and timeouts before any byte of the response. A server's
 * `x-should-retry` header overrides this.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable: (error: NovelAIError) => boolean = internal.isRetryable

/**
 * Options of {@link schedule}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScheduleOptions extends internal.ScheduleOptions {}

/**
 * The default patience with the account's generation lock.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_LOCK_WAIT: Duration.Duration = internal.DEFAULT_LOCK_WAIT

/**
 * The default retry policy as a `Schedule` over {@link NovelAIError}: retries retryable failures
 * (see {@link isRetryable}) up to `maxRetries` times, with exponential backoff and jitter, honouring
 * `retry-after-ms` / `retry-after` within a cap; works when no such header comes (NovelAI sends none).
 * The account's generation lock is retried apart, patiently, for up to `lockWait`. Its output is the
 * number of retries so far and the error.
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
 *   Effect.retry(Retry.schedule({ maxRetries: 5, lockWait: "2 minutes" }))
 * )
 * ```
 */
export const schedule: (
  options?: ScheduleOptions
) => Schedule.Schedule<[number, NovelAIError], NovelAIError> = internal.schedule
