import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import type * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/** The error a Promise caller sees when their AbortSignal fired: `name === "AbortError"`. */
export const abortError = (signal: AbortSignal | undefined): Error => {
  const error = new DOMException("The operation was aborted", "AbortError")
  if (signal?.reason !== undefined && !(signal.reason instanceof DOMException)) {
    Object.defineProperty(error, "cause", { value: signal.reason })
  }
  return error
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

/**
 * An async iterator over a stream, pulling one chunk of elements per run (not one run per element)
 * and serving the elements from that chunk. The stream's scope, and so its HTTP request, is closed
 * when the iteration ends, fails, is left early (`break` calls `return()`), or `signal` aborts.
 */
export const iterate = <A, E, R, ER>(
  runtime: ManagedRuntime.ManagedRuntime<R, ER>,
  stream: Stream.Stream<A, E, R>,
  signal: AbortSignal | undefined
): AsyncIterableIterator<A> => {
  let scope: Scope.CloseableScope | undefined
  let pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<E>, R> | undefined
  let buffer: ReadonlyArray<A> = []
  let index = 0
  let finished = false
  let failure: { error: unknown } | undefined

  const close = () => {
    finished = true
    signal?.removeEventListener("abort", onAbort)
    const open = scope
    scope = undefined
    pull = undefined
    return open === undefined ? Promise.resolve() : runtime.runPromise(Scope.close(open, Exit.void))
  }
  // Abort closes the connection at once, even while the caller is busy between two `next()` calls.
  const onAbort = () => {
    failure ??= { error: abortError(signal) }
    void close()
  }

  const start = async () => {
    if (signal?.aborted) throw abortError(signal)
    signal?.addEventListener("abort", onAbort, { once: true })
    scope = await runtime.runPromise(Scope.make())
    pull = await runtime.runPromise(Scope.extend(Stream.toPull(stream), scope))
  }

  const iterator: AsyncIterableIterator<A> = {
    async next(): Promise<IteratorResult<A>> {
      if (index < buffer.length) return { done: false, value: buffer[index++]! }
      if (failure !== undefined) {
        const { error } = failure
        failure = undefined
        throw error
      }
      if (finished) return { done: true, value: undefined }
      if (pull === undefined) {
        try {
          await start()
        } catch (error) {
          await close()
          throw error
        }
      }
      while (pull !== undefined) {
        const exit = await runtime.runPromiseExit(pull, signal ? { signal } : undefined)
        if (Exit.isSuccess(exit)) {
          if (Chunk.isEmpty(exit.value)) continue
          buffer = Chunk.toReadonlyArray(exit.value)
          index = 1
          return { done: false, value: buffer[0]! }
        }
        const failed: Option.Option<unknown> = Cause.failureOption(exit.cause)
        await close()
        // The pull fails with None when the stream has ended.
        if (Option.isSome(failed) && Option.isOption(failed.value) && Option.isNone(failed.value)) {
          return { done: true, value: undefined }
        }
        throw toThrown(
          Cause.map(exit.cause, (e) => (Option.isOption(e) && Option.isSome(e) ? e.value : e)),
          signal
        )
      }
      if (failure !== undefined) return iterator.next()
      return { done: true, value: undefined }
    },
    async return(): Promise<IteratorResult<A>> {
      buffer = []
      await close()
      return { done: true, value: undefined }
    },
    [Symbol.asyncIterator]() {
      return iterator
    }
  }
  return iterator
}
