/**
 * Streams folded into the whole result a non-streaming call returns. A family gives the collector
 * (how its chunks add up); chunks are added a batch at a time, from a `Stream` or from the pull of
 * one attempt (a whole reply collected with no `Stream` in between; see `attempt.ts`).
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/**
 * Folds chunks into a whole result: `add` each batch as it comes, then `result()`. A collector is
 * for one run of a stream (one attempt).
 */
export interface Collector<C, A> {
  readonly add: (chunks: Iterable<C>) => void
  readonly result: () => A
}

/** Runs `stream` into a new collector's result. */
export const fold =
  <C, A>(make: () => Collector<C, A>) =>
  <E, R>(stream: Stream.Stream<C, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      const collector = make()
      return Effect.map(
        Stream.runForEachChunk(stream, (chunks) => Effect.sync(() => collector.add(chunks))),
        collector.result
      )
    })
