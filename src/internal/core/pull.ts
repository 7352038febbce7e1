/**
 * Streams as the pull of their chunks. Every layer of `Stream` between the body and the consumer
 * (an `unwrap`, a `mapError`, a `withSpan`, a retry's `catchAll`) costs time to build and to pass
 * each chunk through: opening a stream through six of them cost more than its request. So the
 * client's streams are one `Stream` over one pull, opened in the stream's scope, and keep that
 * opener: the accessors and the facade's iterators open it directly, with no `Stream` at all.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/** A stream's chunks as they are pulled: the next batch, or `None` at its end, or the error that ended it. */
export type Pull<A, E, R = never> = Effect.Effect<Chunk.Chunk<A>, Option.Option<E>, R>

/** How a stream opens: in the stream's scope, which closing ends its request. */
export type Open<A, E, R = never> = Effect.Effect<Pull<A, E, R>, E, Scope.Scope | R>

const OPEN: unique symbol = Symbol.for("effect-novelai/Pull/open")

interface Opened<A, E, R> extends Stream.Stream<A, E, R> {
  readonly [OPEN]: Open<A, E, R>
}

/** The stream of the pull `open` gives, which keeps `open` for {@link openOf}. */
export const fromOpen = <A, E, R = never>(open: Open<A, E, R>): Stream.Stream<A, E, R> =>
  Object.assign(Stream.unwrapScoped(Effect.map(open, Stream.repeatEffectChunkOption)), { [OPEN]: open })

/** How `stream` opens: its own opener if it is one of {@link fromOpen}'s, else `Stream.toPull`. */
export const openOf = <A, E, R = never>(stream: Stream.Stream<A, E, R>): Open<A, E, R> =>
  OPEN in stream ? (stream as Opened<A, E, R>)[OPEN] : Stream.toPull(stream)

/** `stream` with `f` applied to each element, still one pull. */
export const map = <A, B, E, R = never>(
  stream: Stream.Stream<A, E, R>,
  f: (a: A) => B
): Stream.Stream<B, E, R> => fromOpen(Effect.map(openOf(stream), (pull) => Effect.map(pull, Chunk.map(f))))
