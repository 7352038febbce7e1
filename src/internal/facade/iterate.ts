/**
 * The facade's async iterators over streams, and how a failed Effect becomes what a Promise caller
 * catches.
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as Pull from "../core/pull.js"

/**
 * What a Promise caller sees when their AbortSignal fired, as fetch does: the signal's `reason`
 * (`abort()` makes it a DOMException named "AbortError", `AbortSignal.timeout` one named
 * "TimeoutError", `abort(reason)` your reason).
 */
export const abortError = (signal: AbortSignal | undefined): unknown =>
  signal?.reason !== undefined ? signal.reason : new DOMException("The operation was aborted", "AbortError")

const watchers = new WeakMap<AbortSignal, Set<() => void>>()

/**
 * Calls `f` when `signal` aborts, through one listener per signal however many calls share it (a
 * listener per call would pass Node's limit of 10 and warn). Returns the unsubscription.
 */
export const onAbort = (signal: AbortSignal, f: () => void): (() => void) => {
  let waiting = watchers.get(signal)
  if (waiting === undefined) {
    const set = new Set<() => void>()
    waiting = set
    watchers.set(signal, set)
    signal.addEventListener(
      "abort",
      () => {
        watchers.delete(signal)
        for (const g of set) g()
      },
      { once: true }
    )
  }
  const set = waiting
  set.add(f)
  return () => {
    set.delete(f)
  }
}

/** Runs `effect` to its exit, interrupted when `signal` aborts. */
export const runExit = <A, E, R, ER>(
  runtime: ManagedRuntime.ManagedRuntime<R, ER>,
  effect: Effect.Effect<A, E, R>,
  signal: AbortSignal | undefined
): Promise<Exit.Exit<A, E | ER>> => {
  if (signal === undefined) return runtime.runPromiseExit(effect)
  return new Promise((resolve) => {
    const fiber = runtime.runFork(effect)
    const stop = onAbort(signal, () => fiber.unsafeInterruptAsFork(FiberId.none))
    fiber.addObserver((exit) => {
      stop()
      resolve(exit)
    })
  })
}

/**
 * What a failed Effect throws to a Promise caller: the typed error itself (so `instanceof` works),
 * an AbortError for an interruption, else the defect.
 */
export const toThrown = (cause: Cause.Cause<unknown>, signal: AbortSignal | undefined): unknown => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return failure.value
  if (Cause.isInterruptedOnly(cause)) return abortError(signal)
  return Cause.squash(cause)
}

/** Where an iterator stands; it never refers to the iterator, so a dropped iterator can be collected. */
class Iteration<A, E, R, ER> {
  scope: Scope.CloseableScope | undefined = undefined
  pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<E>, R> | undefined = undefined
  buffer: ReadonlyArray<A> = []
  index = 0
  finished = false
  failure: { readonly error: unknown } | undefined = undefined
  /** `next()` and `return()` calls run one after another, in order, as an async generator's do. */
  queue: Promise<unknown> = Promise.resolve()
  /** Ends the watch of the signal. */
  unwatch: (() => void) | undefined = undefined

  constructor(
    readonly runtime: ManagedRuntime.ManagedRuntime<R, ER>,
    readonly stream: Stream.Stream<A, E, R>,
    readonly signal: AbortSignal | undefined,
    /** The error to throw once the client is closed, if it is. */
    readonly closed: () => unknown,
    /** The iterations of the client whose streams are open, which closing the client closes. */
    readonly open: Set<{ abandon(error: unknown): Promise<void> }>
  ) {}

  enqueue<B>(f: () => Promise<B>): Promise<B> {
    const result = this.queue.then(f)
    this.queue = result.then(
      () => undefined,
      () => undefined
    )
    return result
  }

  /** Closes the stream's scope, and so its HTTP request; later `next()` calls report the end. */
  /**
   * `exit`: how the stream ended (its end, or the failure that ended it); none when it was left
   * before its end (a `return()`, an abort, the client's close, a dropped iterator).
   */
  close(exit?: Exit.Exit<unknown, unknown>): Promise<void> {
    this.finished = true
    this.unwatch?.()
    this.unwatch = undefined
    this.open.delete(this)
    const open = this.scope
    this.scope = undefined
    this.pull = undefined
    if (open === undefined) return Promise.resolve()
    // Closing the scope needs nothing of the client: once the client's runtime is gone it runs on
    // the default one, so the request is aborted and its generation slot given back all the same.
    // A stream left before its end was cut: a shared gate keeps its slot as NovelAI keeps the lock.
    // Its span ends with this exit, and a shared gate keeps the slot of a stream that was cut.
    const close = Effect.uninterruptible(Scope.close(open, exit ?? Exit.interrupt(FiberId.none)))
    return (this.closed() === undefined ? this.runtime.runPromise(close) : Effect.runPromise(close)).catch(
      () => undefined
    )
  }

  /** Ends the iteration from outside (its client closed): the next `next()` throws `error`, once. */
  abandon(error: unknown): Promise<void> {
    this.failure ??= { error }
    return this.close()
  }

  /** Abort closes the connection at once, even while the caller is busy between two `next()` calls. */
  readonly onAbort = () => {
    this.failure ??= { error: abortError(this.signal) }
    void this.close()
  }

  /**
   * Sets the iteration up and gives what opens its stream and pulls the first chunk, in one run of
   * the runtime rather than two (a run costs a fiber and a promise). Opening sends the request
   * (after the wait for a slot): the signal ends it as it ends a pull, and a failure to open (a
   * 429, a refusal) ends the stream as a failed pull does.
   */
  begin(): Pull.Pull<A, E, R> {
    if (this.signal?.aborted) throw abortError(this.signal)
    if (this.signal !== undefined) this.unwatch = onAbort(this.signal, this.onAbort)
    const scope = Effect.runSync(Scope.make())
    this.scope = scope
    this.open.add(this)
    return Effect.flatMap(
      Effect.mapError(Scope.extend(Pull.openOf(this.stream), scope), Option.some),
      (pull) => {
        // Closed while it opened (the client's close): the scope has already let the request go.
        if (this.scope !== scope) return Effect.interrupt
        this.pull = pull
        return pull
      }
    )
  }

  async next(): Promise<IteratorResult<A>> {
    // An abort (or the client's close) ends the iteration at once, as fetch's reads do: chunks
    // already received but not yet handed over are dropped with it.
    if (this.failure !== undefined) {
      const { error } = this.failure
      this.failure = undefined
      this.buffer = []
      this.index = 0
      throw error
    }
    if (this.index < this.buffer.length) return { done: false, value: this.buffer[this.index++]! }
    if (this.finished) return { done: true, value: undefined }
    const closed = this.closed()
    if (closed !== undefined) {
      await this.close()
      throw closed
    }
    let step = this.pull
    if (step === undefined) {
      try {
        step = this.begin()
      } catch (error) {
        await this.close()
        throw this.closed() ?? error
      }
    }
    while (step !== undefined) {
      const exit = await runExit(this.runtime, step, this.signal)
      step = this.pull
      if (Exit.isSuccess(exit)) {
        if (Chunk.isEmpty(exit.value)) continue
        this.buffer = Chunk.toReadonlyArray(exit.value)
        this.index = 1
        return { done: false, value: this.buffer[0]! }
      }
      const failed: Option.Option<unknown> = Cause.failureOption(exit.cause)
      // The pull fails with an Option of the stream's error: None when the stream has ended.
      const ended = Option.isSome(failed) && Option.isOption(failed.value) && Option.isNone(failed.value)
      const cause = Cause.map(exit.cause, (e) => (Option.isOption(e) && Option.isSome(e) ? e.value : e))
      await this.close(ended ? Exit.void : Cause.isInterruptedOnly(cause) ? undefined : Exit.failCause(cause))
      if (ended) return { done: true, value: undefined }
      // The abort is thrown once: this error is it, and later calls report the end.
      this.failure = undefined
      throw this.closed() ?? toThrown(cause, this.signal)
    }
    if (this.failure !== undefined) return this.next()
    return { done: true, value: undefined }
  }

  async return(): Promise<IteratorResult<A>> {
    this.buffer = []
    await this.close()
    return { done: true, value: undefined }
  }
}

/** An iterator dropped while its stream was open (no `break`, no `return()`): its stream is closed. */
const dropped = new FinalizationRegistry<Iteration<unknown, unknown, unknown, unknown>>((iteration) => {
  void iteration.close()
})

class StreamIterator<A, E, R, ER> implements AsyncIterableIterator<A> {
  readonly #iteration: Iteration<A, E, R, ER>
  constructor(iteration: Iteration<A, E, R, ER>) {
    this.#iteration = iteration
    dropped.register(this, iteration as Iteration<unknown, unknown, unknown, unknown>, this)
  }
  next(): Promise<IteratorResult<A>> {
    return this.#iteration.enqueue(() => this.#iteration.next())
  }
  return(): Promise<IteratorResult<A>> {
    dropped.unregister(this)
    return this.#iteration.enqueue(() => this.#iteration.return())
  }
  [Symbol.asyncIterator](): AsyncIterableIterator<A> {
    return this
  }
}

/**
 * An async iterator over a stream, pulling one chunk of elements per run (not one run per element)
 * and serving the elements from that chunk. The stream's scope, and so its HTTP request, is closed
 * when the iteration ends, fails, is left early (`break` calls `return()`), `signal` aborts, the
 * client is closed (`open` holds it meanwhile), or the iterator is dropped and garbage-collected. `next()` calls made without awaiting the previous
 * one are served in order, one at a time. Once `closed()` returns an error (the client was
 * closed), the next `next()` throws it.
 */
export const iterate = <A, E, R, ER>(
  runtime: ManagedRuntime.ManagedRuntime<R, ER>,
  stream: Stream.Stream<A, E, R>,
  signal: AbortSignal | undefined,
  closed: () => unknown,
  open: Set<{ abandon(error: unknown): Promise<void> }>
): AsyncIterableIterator<A> => new StreamIterator(new Iteration(runtime, stream, signal, closed, open))
