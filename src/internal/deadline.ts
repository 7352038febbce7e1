/**
 * Every timeout of the client, calls and streams, in one place.
 *
 * A deadline is an alarm on the fiber's `Clock`. Work raced against it runs on a fiber of its own
 * (`race`): when the alarm goes off, the caller resumes at once with the reason, whatever the work
 * is doing, and the work's fiber is interrupted, which aborts its request. So a transport that
 * ignores its `AbortSignal` cannot hold a caller past its deadline. The same happens, with another
 * reason, when the client is closed.
 *
 * Costs, measured: one fiber per raced effect (about 8 µs; `Effect.timeout` costs about 30 µs, as
 * it forks the work and a sleeping fiber). On the live clock the alarm is the `setTimeout` the
 * clock's own `sleep` would use, without a fiber; on any other clock (`TestClock`) it is a fiber
 * sleeping on that clock. A paused or ended deadline holds no timer, so it never keeps a process
 * alive.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"

/** Why a deadline ended the work: its alarm went off, or its owner ended it. */
export type Reason = "timeout" | "closed"

/** What a raced effect fails with when its deadline ends it. */
export class Ended {
  readonly _tag = "Ended"
  constructor(readonly reason: Reason) {}
}

/** One deadline: set, paused, raced against. */
export interface Deadline {
  /** Goes off `after` from now, replacing any earlier setting. An infinite duration never goes off. */
  readonly set: (after: Duration.Duration) => void
  /** Will not go off until set again. */
  readonly pause: () => void
  /** Ends it now with `reason`: a pending race fails at once, and so does every later one. */
  readonly end: (reason: Reason) => void
  /** Releases its timer; it will never go off. */
  readonly cancel: () => void
  /** Why it ended, if it did. */
  readonly ended: () => Reason | undefined
  /**
   * Runs `effect` on a fiber of its own, with the context the deadline was made in. If it ends first,
   * fails with {@link Ended} at once and interrupts that fiber.
   */
  readonly race: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E | Ended>
}

/** The largest delay a JavaScript timer takes; longer ones mean never, as for the live clock. */
const MAX_TIMER_MILLIS = 2 ** 31 - 1

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

/** An alarm on `clock`: `arm(millis)` replaces any earlier one, `disarm()` stops it. */
const makeAlarm = (clock: Clock.Clock, runtime: Runtime.Runtime<never>, fire: () => void) => {
  if (clock === liveClock) {
    let handle: ReturnType<typeof setTimeout> | undefined
    return {
      arm: (millis: number) => {
        if (handle !== undefined) clearTimeout(handle)
        handle = setTimeout(() => {
          handle = undefined
          fire()
        }, millis)
      },
      disarm: () => {
        if (handle === undefined) return
        clearTimeout(handle)
        handle = undefined
      }
    }
  }
  let sleeper: Fiber.RuntimeFiber<void> | undefined
  const disarm = () => {
    sleeper?.unsafeInterruptAsFork(FiberId.none)
    sleeper = undefined
  }
  return {
    arm: (millis: number) => {
      disarm()
      const mine = Runtime.runFork(runtime)(
        Effect.zipRight(
          clock.sleep(Duration.millis(millis)),
          Effect.sync(() => {
            if (sleeper === mine) sleeper = undefined
            fire()
          })
        )
      )
      sleeper = mine
    },
    disarm
  }
}

/**
 * The deadlines of one client. When its scope closes, every deadline still running ends with
 * "closed" (its call fails at once with the error that says so), and any made later is born ended.
 */
export interface Deadlines {
  /** A deadline on the current fiber's clock, not yet set; `cancel()` it when its call is over. */
  readonly make: Effect.Effect<Deadline>
  /** Runs `effect` so that closing the client ends it at once, with {@link Ended}. */
  readonly guard: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E | Ended>
}

export const makeDeadlines: Effect.Effect<Deadlines, never, Scope.Scope> = Effect.gen(function* () {
  const running = new Set<Deadline>()
  let closed = false
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      closed = true
      for (const deadline of running) deadline.end("closed")
      running.clear()
    })
  )
  const make = Effect.withFiberRuntime<Deadline>((fiber) => {
    const runtime = Runtime.make({
      context: fiber.currentContext,
      fiberRefs: fiber.getFiberRefs(),
      runtimeFlags: Runtime.defaultRuntimeFlags
    })
    const clock = Context.get(fiber.getFiberRef(DefaultServices.currentServices), Clock.Clock)
    const deadline = build(clock, runtime, () => running.delete(deadline))
    if (closed) deadline.end("closed")
    else running.add(deadline)
    return Effect.succeed(deadline)
  })
  return {
    make,
    guard: (effect) =>
      Effect.flatMap(make, (deadline) => Effect.ensuring(deadline.race(effect), Effect.sync(deadline.cancel)))
  }
})

const build = (clock: Clock.Clock, runtime: Runtime.Runtime<never>, release: () => void): Deadline => {
  let reason: Reason | undefined
  let pending:
    | { readonly worker: Fiber.RuntimeFiber<unknown, unknown>; readonly resume: (ended: Ended) => void }
    | undefined

  const end = (why: Reason) => {
    if (reason !== undefined) return
    reason = why
    alarm.disarm()
    const waiting = pending
    pending = undefined
    if (waiting !== undefined) {
      waiting.resume(new Ended(why))
      waiting.worker.unsafeInterruptAsFork(FiberId.none)
    }
  }
  const alarm = makeAlarm(clock, runtime, () => end("timeout"))

  return {
    set: (after) => {
      if (reason !== undefined) return
      const millis = Duration.toMillis(after)
      if (millis > MAX_TIMER_MILLIS) alarm.disarm()
      else alarm.arm(millis)
    },
    pause: () => alarm.disarm(),
    cancel: () => {
      alarm.disarm()
      release()
    },
    end,
    ended: () => reason,
    race: <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.async<A, E | Ended>((resume) => {
        if (reason !== undefined) return resume(Effect.fail(new Ended(reason)))
        // The worker succeeds with the effect's exit, so that its failure is the caller's to handle
        // (a failed fiber would log it as unhandled).
        const worker = Runtime.runFork(runtime)(Effect.exit(effect))
        const mine = { worker, resume: (ended: Ended) => resume(Effect.fail(ended)) }
        pending = mine
        worker.addObserver((exit) => {
          if (pending !== mine) return
          pending = undefined
          resume(Exit.isSuccess(exit) ? exit.value : Effect.failCause(exit.cause))
        })
        return Effect.sync(() => {
          if (pending === mine) pending = undefined
          worker.unsafeInterruptAsFork(FiberId.none)
        })
      })
  }
}
