import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Scope from "effect/Scope"

/**
 * Request deadlines kept by one watchdog fiber per client, instead of a timer fiber per call.
 *
 * `Effect.timeoutFail` forks two fibers per call; at concurrency 64 that cost a third of the
 * client's throughput. Here a call only joins a set; the watchdog sleeps until the earliest
 * deadline and then closes each overdue call's scope, which aborts its request through the
 * `AbortSignal` the `HttpClient` was given (`HttpClient.withScope`). The call then fails with the
 * error its deadline names. The watchdog runs only while calls are in flight, so an idle client
 * holds no timer, and it sleeps on the fiber's `Clock`, so `TestClock` drives it.
 */
export interface Deadlines {
  /**
   * Runs `effect` with a scope that is closed when `after` has passed or when `effect` fails or is
   * interrupted; after a success it is left to the garbage collector. The scope must hold only
   * aborts (what `HttpClient.withScope` puts there). A failure after the deadline is replaced by
   * `onTimeout()`: the abort caused it.
   */
  readonly within: <A, E, E2>(
    effect: Effect.Effect<A, E, Scope.Scope>,
    after: Duration.Duration,
    onTimeout: () => E2
  ) => Effect.Effect<A, E | E2>
}

/**
 * Milliseconds on the clock's monotonic time (`process.hrtime` for the live clock), so that a change
 * of the wall clock neither fires deadlines early nor delays them.
 */
const monotonicMillis = (clock: Clock.Clock): number => Number(clock.unsafeCurrentTimeNanos() / 1_000_000n)

interface Entry {
  readonly at: number
  readonly scope: Scope.CloseableScope
  expired: boolean
}

/** The deadlines of one client; the watchdog lives in the scope. */
export const make: Effect.Effect<Deadlines, never, Scope.Scope> = Effect.map(Effect.scope, (owner) => {
  const entries = new Set<Entry>()
  let watchdog: Fiber.RuntimeFiber<void> | undefined
  // When the watchdog will next look; a newer generation retires an older watchdog.
  let wakeAt = Number.POSITIVE_INFINITY
  let generation = 0

  const retire = () => {
    generation++
    wakeAt = Number.POSITIVE_INFINITY
    if (watchdog !== undefined) {
      watchdog.unsafeInterruptAsFork(FiberId.none)
      watchdog = undefined
    }
  }

  const watch = (mine: number): Effect.Effect<void> =>
    Effect.clockWith((clock) => {
      if (mine !== generation) return Effect.void
      const now = monotonicMillis(clock)
      const due: Array<Entry> = []
      let next = Number.POSITIVE_INFINITY
      for (const entry of entries) {
        if (entry.at <= now) due.push(entry)
        else if (entry.at < next) next = entry.at
      }
      for (const entry of due) {
        entries.delete(entry)
        entry.expired = true
      }
      wakeAt = next
      const expire = Effect.uninterruptible(
        Effect.forEach(due, (entry) => Scope.close(entry.scope, Exit.void), { discard: true })
      )
      if (next === Number.POSITIVE_INFINITY) {
        watchdog = undefined
        return expire
      }
      return Effect.zipRight(expire, Effect.zipRight(Effect.sleep(next - now), watch(mine)))
    })

  const arm = (entry: Entry): Effect.Effect<void> => {
    entries.add(entry)
    if (entry.at >= wakeAt) return Effect.void
    retire()
    wakeAt = entry.at
    const mine = generation
    return Effect.map(Effect.forkIn(watch(mine), owner), (fiber) => {
      if (mine === generation) watchdog = fiber
      else fiber.unsafeInterruptAsFork(FiberId.none)
    })
  }

  const disarm = (entry: Entry) => {
    if (entries.delete(entry) && entries.size === 0) retire()
  }

  return {
    within: <A, E, E2>(
      effect: Effect.Effect<A, E, Scope.Scope>,
      after: Duration.Duration,
      onTimeout: () => E2
    ) =>
      Effect.flatMap(Scope.make(), (scope) =>
        Effect.clockWith((clock) => {
          const entry: Entry = {
            at: monotonicMillis(clock) + Duration.toMillis(after),
            scope,
            expired: false
          }
          return Effect.zipRight(arm(entry), Effect.provideService(effect, Scope.Scope, scope)).pipe(
            Effect.onExit((exit) => {
              disarm(entry)
              // After a success the body has been read: there is nothing left to abort, and an abort
              // would only build a DOMException (about 5 % of a call's CPU time at concurrency 64).
              return Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit)
            }),
            Effect.mapError((error): E | E2 => (entry.expired ? onTimeout() : error))
          )
        })
      )
  }
})
