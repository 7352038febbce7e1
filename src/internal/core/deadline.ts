/**
 * Every timeout of the client, calls and streams, in one place.
 *
 * A deadline is an alarm on the caller's `Clock`. Work raced against it runs on a fiber of its own
 * (`race`): when the alarm goes off, the caller resumes at once with the reason, whatever the work
 * is doing, and the work's fiber is interrupted, which aborts its request. So a transport that
 * ignores its `AbortSignal` cannot hold a caller past its deadline. The same happens, with another
 * reason, when the client is closed.
 *
 * A fiber per raced effect (`Effect.timeout` would fork two; see BENCHMARKS.md for costs). The
 * fibers are forked from the client's runtime, made once, rather than from the caller's, which
 * would copy the caller's fiber refs twice per call; what a worker needs of its caller (the scope
 * of a stream, the span of a call) is given to it explicitly. On the live clock the alarm is the
 * `setTimeout` the clock's own `sleep` would use, without a fiber; on any other clock (`TestClock`)
 * it is a fiber sleeping on that clock. A paused or finished deadline holds no timer, so it never
 * keeps a process alive.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"

/** Why a deadline ended the work: its alarm went off, or the client was closed. */
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
   * Runs `effect` on a fiber of the client's own. If the deadline ends first, fails with
   * {@link Ended} at once and interrupts that fiber.
   */
  readonly race: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E | Ended>
  /**
   * Waits, with no fiber of its own, for `register`'s callback to say how to go on. If the deadline
   * ends first, fails with {@link Ended} at once and calls the canceler `register` returned. For
   * waits the client drives itself (a body read from its socket), which cannot hang past it.
   */
  readonly wait: <A, E>(
    register: (resume: (effect: Effect.Effect<A, E>) => void) => () => void
  ) => Effect.Effect<A, E | Ended>
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

/** The largest delay a JavaScript timer takes; longer ones mean never, as for the live clock. */
const MAX_TIMER_MILLIS = 2 ** 31 - 1

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

interface Registry {
  readonly runtime: Runtime.Runtime<never>
  readonly running: Set<DeadlineImpl>
}

/** A pending race or wait: the caller to resume, and how to stop what it waits for. */
interface Pending {
  readonly stop: () => void
  readonly resume: (effect: Effect.Effect<any, any>) => void
}

const fire = (deadline: DeadlineImpl) => {
  deadline.timer = undefined
  deadline.end("timeout")
}

class DeadlineImpl implements Deadline {
  reason: Reason | undefined = undefined
  pending: Pending | undefined = undefined
  /** The live clock's timer, while set. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  /** On any other clock, the fiber sleeping until the deadline, while set. */
  sleeper: Fiber.RuntimeFiber<void> | undefined = undefined

  constructor(
    readonly clock: Clock.Clock,
    readonly registry: Registry
  ) {}

  set(after: Duration.Duration) {
    if (this.reason !== undefined) return
    this.pause()
    const millis = Duration.toMillis(after)
    if (millis > MAX_TIMER_MILLIS) return
    if (this.clock === liveClock) {
      this.timer = setTimeout(fire, millis, this)
      return
    }
    const sleeper: Fiber.RuntimeFiber<void> = Runtime.runFork(this.registry.runtime)(
      Effect.zipRight(
        this.clock.sleep(Duration.millis(millis)),
        Effect.sync(() => {
          if (this.sleeper === sleeper) this.sleeper = undefined
          this.end("timeout")
        })
      )
    )
    this.sleeper = sleeper
  }

  pause() {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.sleeper !== undefined) {
      this.sleeper.unsafeInterruptAsFork(FiberId.none)
      this.sleeper = undefined
    }
  }

  cancel() {
    this.pause()
    this.registry.running.delete(this)
  }

  ended() {
    return this.reason
  }

  end(reason: Reason) {
    if (this.reason !== undefined) return
    this.reason = reason
    this.pause()
    const pending = this.pending
    this.pending = undefined
    if (pending !== undefined) {
      pending.resume(Effect.fail(new Ended(reason)))
      pending.stop()
    }
  }

  race<A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E | Ended> {
    return Effect.async<A, E | Ended>((resume) => {
      if (this.reason !== undefined) return resume(Effect.fail(new Ended(this.reason)))
      const worker = Runtime.runFork(this.registry.runtime)(effect)
      const pending: Pending = { stop: () => worker.unsafeInterruptAsFork(FiberId.none), resume }
      this.pending = pending
      worker.addObserver((exit: Exit.Exit<A, E>) => {
        if (this.pending !== pending) return
        this.pending = undefined
        resume(exit)
      })
      return Effect.sync(() => {
        if (this.pending === pending) this.pending = undefined
        worker.unsafeInterruptAsFork(FiberId.none)
      })
    })
  }

  wait<A, E>(
    register: (resume: (effect: Effect.Effect<A, E>) => void) => () => void
  ): Effect.Effect<A, E | Ended> {
    return Effect.async<A, E | Ended>((resume) => {
      if (this.reason !== undefined) return resume(Effect.fail(new Ended(this.reason)))
      let stop = noop
      const pending: Pending = { stop: () => stop(), resume }
      this.pending = pending
      stop = register((effect) => {
        if (this.pending !== pending) return
        this.pending = undefined
        resume(effect)
      })
      return Effect.sync(() => {
        if (this.pending === pending) this.pending = undefined
        stop()
      })
    })
  }
}

const noop = () => {}

export const makeDeadlines: Effect.Effect<Deadlines, never, Scope.Scope> = Effect.gen(function* () {
  const client = yield* Effect.runtime<never>()
  // A worker's failure is its caller's to handle: the fiber must not also log it as unhandled.
  const runtime = Runtime.make({
    context: client.context,
    runtimeFlags: Runtime.defaultRuntimeFlags,
    fiberRefs: FiberRefs.updateAs(client.fiberRefs, {
      fiberId: FiberId.none,
      fiberRef: FiberRef.unhandledErrorLogLevel,
      value: Option.none()
    })
  })
  const registry: Registry = { runtime, running: new Set() }
  let closed = false
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      closed = true
      for (const deadline of registry.running) deadline.end("closed")
      registry.running.clear()
    })
  )
  const make = Effect.clockWith((clock) => {
    const deadline = new DeadlineImpl(clock, registry)
    if (closed) deadline.end("closed")
    else registry.running.add(deadline)
    return Effect.succeed<Deadline>(deadline)
  })
  return {
    make,
    guard: (effect) =>
      Effect.flatMap(make, (deadline) =>
        Effect.ensuring(
          deadline.race(effect),
          Effect.sync(() => deadline.cancel())
        )
      )
  }
})
