/**
 * Streams as the pull of their chunks. Every layer of `Stream` between the body and the consumer
 * (an `unwrap`, a `mapError`, a `withSpan`, a retry's `catchAll`) costs time to build and to pass
 * each chunk through: opening a stream through six of them cost more than its request. So the
 * client's streams are one `Stream` over one pull, opened in the stream's scope, and keep that
 * opener: the accessors and the facade's iterators open it directly, with no `Stream` at all.
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
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
  Object.assign(Stream.fromChannel(channelOf(open)), { [OPEN]: open })

/**
 * The channel of `open`'s chunks: the stream's scope made on the first pull and closed with the
 * channel's exit, however it ends (its end, a failure, the consumer stopping, an interruption).
 * `Stream.unwrapScoped` over `Stream.repeatEffectChunkOption` does the same through two more
 * layers of channel, which cost about a third of a short stream's time to run.
 */
const channelOf = <A, E, R>(
  open: Open<A, E, R>
): Channel.Channel<Chunk.Chunk<A>, unknown, E, unknown, void, unknown, R> =>
  Channel.suspend(() => {
    let scope: Scope.CloseableScope | undefined
    let pull: Pull<A, E, R> | undefined
    const next: Effect.Effect<Chunk.Chunk<A> | undefined, E, R> = Effect.suspend(() => {
      if (pull === undefined) {
        return Effect.flatMap(Scope.make(), (made) => {
          scope = made
          return Effect.flatMap(Scope.extend(open, made), (opened) => {
            pull = opened
            return next
          })
        })
      }
      return Effect.catchAll(pull, (end) =>
        Option.isNone(end) ? Effect.succeed(undefined) : Effect.fail(end.value)
      )
    })
    const loop: Channel.Channel<Chunk.Chunk<A>, unknown, E, unknown, void, unknown, R> = Channel.flatMap(
      Channel.fromEffect(next),
      (chunk) => (chunk === undefined ? Channel.void : Channel.zipRight(Channel.write(chunk), loop))
    )
    return Channel.ensuringWith(loop, (exit) =>
      scope === undefined ? Effect.void : Scope.close(scope, exit)
    )
  })

/** How `stream` opens: its own opener if it is one of {@link fromOpen}'s, else `Stream.toPull`. */
export const openOf = <A, E, R = never>(stream: Stream.Stream<A, E, R>): Open<A, E, R> =>
  OPEN in stream ? (stream as Opened<A, E, R>)[OPEN] : Stream.toPull(stream)

/** `stream` with `f` applied to each element, still one pull. */
export const map = <A, B, E, R = never>(
  stream: Stream.Stream<A, E, R>,
  f: (a: A) => B
): Stream.Stream<B, E, R> => fromOpen(Effect.map(openOf(stream), (pull) => Effect.map(pull, Chunk.map(f))))
