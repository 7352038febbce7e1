/**
 * The default retry policy: which failures are retried, the backoff, the server's `retry-after`,
 * and the patience for the account's generation lock. `Retry.ts` is its public face.
 */ import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import type { NovelAIError, RateLimitError } from "../../Errors.js"

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
  /** Retries after the first attempt; default 2. 0 disables retrying. The lock's retries do not count. */
  readonly maxRetries?: number | undefined
  /** First backoff delay; default 500 ms, doubled each retry. */
  readonly initialDelay?: Duration.DurationInput | undefined
  /** Largest backoff delay; default 8 s. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** Largest server-requested wait (`retry-after`) honoured; default 60 s. Longer ones fail at once. */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
  /**
   * How long to keep retrying while NovelAI says the account's generation is locked (429
   * "concurrent generation is locked", see `RateLimitError.generationLock`): long enough for a
   * generation abandoned earlier to end on the server. Default 60 s; 0 treats it as any other 429.
   */
  readonly lockWait?: Duration.DurationInput | undefined
}

/**
 * The default patience with the account's generation lock.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_LOCK_WAIT: Duration.Duration = Duration.seconds(60)

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

/** Backoff while the lock holds: from 1 s, doubling to 8 s. */
const LOCK_INITIAL_MILLIS = 1_000
const LOCK_MAX_MILLIS = 8_000

const isLocked = (error: NovelAIError): boolean =>
  error._tag === "RateLimitError" && error.generationLock === true

interface State {
  /** Retries of failures other than the lock. */
  readonly retries: number
  /** When the lock was first met, and how many times it has been retried since. */
  readonly lockedSince: number | undefined
  readonly lockRetries: number
}

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
export const schedule = (
  options?: ScheduleOptions
): Schedule.Schedule<[number, NovelAIError], NovelAIError> => {
  const maxRetries = options?.maxRetries ?? DEFAULT_MAX_RETRIES
  const lockWait = Duration.toMillis(options?.lockWait ?? DEFAULT_LOCK_WAIT)
  return Schedule.makeWithState<State, NovelAIError, [number, NovelAIError]>(
    { retries: 0, lockedSince: undefined, lockRetries: 0 },
    (now, error, state) =>
      Effect.map(Random.next, (random) => {
        const done = [state, [state.retries, error] as [number, NovelAIError], ScheduleDecision.done] as const
        if (!isRetryable(error)) return done
        if (lockWait > 0 && isLocked(error)) {
          const since = state.lockedSince ?? now
          const retryAfter = (error as RateLimitError).retryAfter
          const backoff = Math.min(LOCK_INITIAL_MILLIS * 2 ** state.lockRetries, LOCK_MAX_MILLIS)
          const wanted =
            retryAfter !== undefined && Duration.toMillis(retryAfter) <= lockWait
              ? Duration.toMillis(retryAfter)
              : Math.round(backoff * (1 - 0.25 * random))
          // Wait up to what is left of the patience, however short: a lockWait under the first
          // backoff still gets its one wait, rather than none.
          const left = lockWait - (now - since)
          if (left <= 0) return done
          const delay = Math.min(wanted, left)
          const next = { ...state, lockedSince: since, lockRetries: state.lockRetries + 1 }
          return [
            next,
            [state.retries + state.lockRetries + 1, error],
            ScheduleDecision.continueWith(ScheduleInterval.after(now + delay))
          ] as const
        }
        if (state.retries >= maxRetries) return done
        const delay = delayFor(error, state.retries, random, options)
        if (delay === undefined) return done
        return [
          { ...state, retries: state.retries + 1 },
          [state.retries + 1, error],
          ScheduleDecision.continueWith(ScheduleInterval.after(now + Duration.toMillis(delay)))
        ] as const
      })
  )
}
