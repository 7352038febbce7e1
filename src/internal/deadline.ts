import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"

/**
 * Request deadlines kept by one watchdog fiber per client, instead of timer fibers per call.
 *
 * `Effect.timeoutFail` forks two fibers per call (and `Stream.timeoutFail` two per read); at
 * concurrency 64 that cost a third of the client's throughput. Here a call only joins a set; the
 * watchdog sleeps until the earliest deadline and then closes each overdue call's scope, which
 * aborts its request through the `AbortSignal` the `HttpClient` was given (`HttpClient.withScope`).
 * The call then fails with the error its deadline names. The watchdog runs only while a deadline
 * is running (and a moment after), so an idle client holds no timer; it sleeps on the client's
 * `Clock`, so `TestClock` drives it.
 *
 * A transport that ignores its signal cannot be ended without a fiber of its own per call, the very
 * cost this avoids; such a call keeps waiting, and a warning naming the cause is logged once when it
 * is still running {@link GRACE_MILLIS} after its deadline.
 */
export interface Deadlines {
  /**
   * Starts a deadline `after` from now for the request whose aborts `scope` holds: when it passes,
   * the scope is closed.
   */
  readonly start: (scope: Scope.CloseableScope, after: Duration.Duration, name: string) => Deadline
  /**
   * Runs `effect` with a scope that is closed when `after` has passed or when `effect` fails or is
   * interrupted; after a success it is left to the garbage collector. The scope must hold only
   * aborts (what `HttpClient.withScope` puts there). A failure after the deadline is replaced by
   * `onTimeout()`: the abort caused it.
   */
  readonly within: <A, E, E2>(
    effect: Effect.Effect<A, E, Scope.Scope>,
    options: {
      readonly after: Duration.Duration
      readonly onTimeout: () => E2
      /** Names the call in the warning about a transport that did not end it. */
      readonly name: string
    }
  ) => Effect.Effect<A, E | E2>
}

/** One running deadline. */
export interface Deadline {
  /** Whether it passed: its scope was closed, and the failure that follows is a timeout. */
  readonly expired: () => boolean
  /** Runs again, `after` from now (a stream waiting for its next read). */
  readonly restart: (after: Duration.Duration) => void
  /** Stops until the next restart (a stream whose consumer is busy). */
  readonly pause: () => void
  /** No longer watched. */
  readonly end: () => void
}

/** How long an aborted call may still run before the warning. */
const GRACE_MILLIS = 1_000

/**
 * Milliseconds on the clock's monotonic time (`process.hrtime` for the live clock), so that a change
 * of the wall clock neither fires deadlines early nor delays them.
 */
const monotonicMillis = (clock: Clock.Clock): number => Number(clock.unsafeCurrentTimeNanos() / 1_000_000n)

interface Entry {
  /** The deadline (`Infinity` while paused); once expired, when to warn that the call still runs. */
  at: number
  readonly scope: Scope.CloseableScope
  readonly name: string
  expired: boolean
}

/** The deadlines of one client; the watchdog stops when the scope closes. */
export const make: Effect.Effect<Deadlines, never, Scope.Scope> = Effect.gen(function* () {
  const runtime = yield* Effect.runtime<never>()
  const clock = yield* Effect.clock
  const entries = new Set<Entry>()
  let watchdog: Fiber.RuntimeFiber<void> | undefined
  // When the watchdog will next look; a newer generation retires an older watchdog.
  let wakeAt = Number.POSITIVE_INFINITY
  let generation = 0
  let closed = false

  const retire = () => {
    generation++
    wakeAt = Number.POSITIVE_INFINITY
    if (watchdog !== undefined) {
      watchdog.unsafeInterruptAsFork(FiberId.none)
      watchdog = undefined
    }
  }
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      closed = true
      retire()
    })
  )

  const watch = (mine: number): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (mine !== generation) return Effect.void
      const now = monotonicMillis(clock)
      const due: Array<Entry> = []
      const stuck: Array<Entry> = []
      let next = Number.POSITIVE_INFINITY
      for (const entry of entries) {
        if (entry.at > now) {
          if (entry.at < next) next = entry.at
        } else if (entry.expired) {
          entries.delete(entry)
          stuck.push(entry)
        } else {
          entry.expired = true
          entry.at = now + GRACE_MILLIS
          if (entry.at < next) next = entry.at
          due.push(entry)
        }
      }
      wakeAt = next
      const expire = Effect.uninterruptible(
        Effect.zipRight(
          Effect.forEach(due, (entry) => Scope.close(entry.scope, Exit.void), { discard: true }),
          Effect.forEach(
            stuck,
            (entry) =>
              Effect.logWarning(
                `${entry.name}: the request was aborted at its deadline, but the HttpClient has not ended it; the call waits for it. An HttpClient must end its effect and its body when the AbortSignal it is given aborts.`
              ),
            { discard: true }
          )
        )
      )
      if (next === Number.POSITIVE_INFINITY) {
        watchdog = undefined
        return expire
      }
      return Effect.zipRight(expire, Effect.zipRight(Effect.sleep(next - now), watch(mine)))
    })

  /** Makes sure the watchdog looks no later than `at`. */
  const watchBy = (at: number) => {
    if (at >= wakeAt || closed) return
    retire()
    wakeAt = at
    watchdog = Runtime.runFork(runtime)(watch(generation))
  }

  // An idle client holds no timer, but back-to-back calls should not fork a watchdog each: the
  // watchdog is retired a moment after the last deadline ends, unless another has started meanwhile
  // (forking and retiring per call cost about 30 µs of latency at concurrency 1).
  let retiring = false
  const end = (entry: Entry) => {
    if (!entries.delete(entry) || entries.size > 0 || retiring) return
    retiring = true
    setTimeout(() => {
      retiring = false
      if (entries.size === 0) retire()
    }, 0)
  }

  const start = (scope: Scope.CloseableScope, after: Duration.Duration, name: string): Deadline => {
    const entry: Entry = {
      at: monotonicMillis(clock) + Duration.toMillis(after),
      scope,
      name,
      expired: false
    }
    entries.add(entry)
    watchBy(entry.at)
    return {
      expired: () => entry.expired,
      restart: (after) => {
        if (entry.expired) return
        entry.at = monotonicMillis(clock) + Duration.toMillis(after)
        watchBy(entry.at)
      },
      pause: () => {
        if (!entry.expired) entry.at = Number.POSITIVE_INFINITY
      },
      end: () => end(entry)
    }
  }

  return {
    start,
    within: (effect, { after, onTimeout, name }) =>
      Effect.flatMap(Scope.make(), (scope) => {
        const deadline = start(scope, after, name)
        return Effect.provideService(effect, Scope.Scope, scope).pipe(
          Effect.onExit((exit) => {
            deadline.end()
            // After a success the body has been read: there is nothing left to abort, and an abort
            // would only build a DOMException (about 5 % of a call's CPU time at concurrency 64).
            return Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit)
          }),
          Effect.mapError((error) => (deadline.expired() ? onTimeout() : error))
        )
      })
  }
})
