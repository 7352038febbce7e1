/**
 * A streamed body's reads, raced against the stream's deadline.
 *
 * The platform's body `Stream` (a channel over the socket's readable, pulled through a worker fiber
 * per read so that the deadline can cut it) costs most of what opening and collecting a stream
 * costs. The platform's undici client hands over its undici response, whose body is a Node
 * readable: that body is read here directly, its chunks queued as they arrive and each wait a
 * {@link Deadline.wait}, with no fiber and no `Stream`. Any other response (the Fetch client, a
 * user's own client, a compressed body) is read through the platform's stream as before.
 *
 * Once a stream is over, {@link settle} closes its request, waiting first (off the consumer's path)
 * for the end of a complete stream's body, so that its connection is kept rather than reset.
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Errors from "../../Errors.js"
import { type Deadline, type Deadlines, Ended } from "./deadline.js"
import * as Encoding from "./decompress.js"
import { type ErrorContext, toTransportError } from "./errors.js"

/** The next bytes of a body (`None` at its end), or the error that ended it, or the deadline's end. */
export type Read = Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<Errors.NovelAIError> | Ended>

/** A body's reads, and what is needed to wait for its end once the stream is over. */
export interface Reader {
  readonly read: Read
  /** Whether the body has ended or failed: nothing is left to wait for. */
  readonly over: () => boolean
  /**
   * Waits under `deadline` for the body's end, dropping its bytes; gives up early (succeeds) once it
   * has sent more than {@link AFTER_END_BYTES}. Called once the stream is over, so that its
   * connection can be kept rather than reset.
   */
  readonly rest: (deadline: Deadline) => Effect.Effect<void, Ended>
  /** Whether the reads live in the `reading` scope (the platform's stream), closed apart. */
  readonly scoped: boolean
}

/** What the reader needs of a Node readable. */
interface Readable {
  on(event: string, listener: (...args: Array<any>) => void): unknown
  pause(): unknown
  resume(): unknown
}

const isReadable = (u: unknown): u is Readable =>
  typeof u === "object" &&
  u !== null &&
  typeof (u as Readable).on === "function" &&
  typeof (u as Readable).pause === "function" &&
  typeof (u as Readable).resume === "function"

/** Chunks queued before the socket is paused until the consumer reads them. */
const HIGH_WATER = 64

/** Bytes a body may send after its stream is over, while its end is awaited, before it is cut. */
const AFTER_END_BYTES = 64 * 1024

/**
 * The reads of `response`'s body under `deadline`: direct when the body is the undici response's
 * Node readable and not compressed, else the platform's stream, opened in `reading` (a scope the
 * caller closes without waiting for it).
 */
export const reads = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  deadline: Deadline,
  reading: Scope.Scope
): Effect.Effect<Reader> => {
  const body = (response as { readonly source?: { readonly body?: unknown } }).source?.body
  if (isReadable(body) && Encoding.encodingOf(response) === undefined) {
    return Effect.succeed(nodeReads(context, response, body, deadline))
  }
  return Effect.map(Scope.extend(Stream.toPull(Encoding.bytes(context, response)), reading), (pull) => {
    let over = false
    const read = Effect.catchAll(pull, (error) => {
      over = true
      return Effect.fail(error)
    })
    const rest = Effect.suspend(() => {
      let dropped = 0
      const loop: Effect.Effect<void> = Effect.matchEffect(read, {
        onSuccess: (chunk) => {
          for (const bytes of chunk) dropped += bytes.length
          return dropped > AFTER_END_BYTES ? Effect.void : loop
        },
        onFailure: () => Effect.void
      })
      return loop
    })
    return {
      read: deadline.race(read),
      over: () => over,
      rest: (until: Deadline) => until.race(rest),
      scoped: true
    }
  })
}

/** The reads of a Node readable body (exported for its tests). */
export const nodeReads = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  body: Readable,
  deadline: Deadline
): Reader => {
  let queue: Array<Uint8Array> = []
  let paused = false
  let ended = false
  let failure: Errors.NovelAIError | undefined
  let wake: (() => void) | undefined
  // While the end is awaited after the stream is over: called at the end, and the bytes dropped.
  let atEnd: (() => void) | undefined
  let dropped = 0
  body.on("data", (bytes: Uint8Array) => {
    if (atEnd !== undefined) {
      dropped += bytes.length
      if (dropped > AFTER_END_BYTES) atEnd()
      return
    }
    queue.push(bytes)
    if (queue.length >= HIGH_WATER && !paused) {
      paused = true
      body.pause()
    }
    wake?.()
  })
  body.on("end", () => {
    ended = true
    wake?.()
    atEnd?.()
  })
  body.on("error", (cause: unknown) => {
    // As the platform's stream reports it, so the error reads the same on either path.
    failure ??= toTransportError(context)(
      new HttpClientError.ResponseError({ request: response.request, response, reason: "Decode", cause })
    )
    wake?.()
    atEnd?.()
  })
  const read: Read = Effect.suspend(() => {
    // A deadline that has ended (the client closed, a collected reply's timeout) ends the reads
    // at once, as a race against it does, whatever is queued.
    const reason = deadline.ended()
    if (reason !== undefined) return Effect.fail(new Ended(reason))
    if (queue.length > 0) {
      const out = queue
      queue = []
      if (paused) {
        paused = false
        body.resume()
      }
      return Effect.succeed(Chunk.unsafeFromArray(out))
    }
    if (failure !== undefined) return Effect.fail(Option.some(failure))
    if (ended) return Effect.fail(Option.none())
    return deadline.wait<Chunk.Chunk<Uint8Array>, Option.Option<Errors.NovelAIError> | Ended>((resume) => {
      wake = () => {
        wake = undefined
        resume(read)
      }
      return () => {
        wake = undefined
      }
    })
  })
  const rest = (until: Deadline) =>
    // The body may have ended between the stream's end and this wait's start (a daemon's).
    until.wait<void, never>((resume) => {
      if (ended || failure !== undefined) {
        resume(Effect.void)
        return () => undefined
      }
      queue = []
      atEnd = () => {
        atEnd = undefined
        resume(Effect.void)
      }
      if (paused) {
        paused = false
        body.resume()
      }
      return () => {
        atEnd = undefined
      }
    })
  return { read, over: () => ended || failure !== undefined, rest, scoped: false }
}

/** How long a complete stream's body may take to end before its connection is reset. */
const SETTLE = Duration.millis(500)

/**
 * Closes a stream's `reading` scope (its body's reads) and `request` scope (closing it aborts the
 * request) once the stream is over. A server sends the end of its body after the stream's last
 * event, often in a packet of its own: aborting before it arrives resets the connection, and the
 * next call pays for a new one. So when the stream completed (`complete`) and its body has not yet
 * ended, the rest of the body is awaited (and dropped) for at most {@link SETTLE}, on a daemon fiber
 * under a deadline of the client's (closing the client ends it at once): the stream's end never
 * waits for it. Otherwise both close at once, `reading` without waiting: a transport whose body
 * never ends a read, even when cancelled, cannot hold the stream's end.
 */
/**
 * Closes the reading scope, without waiting when the platform's stream is in it (a transport whose
 * body never ends a read, even when cancelled, cannot hold the request's abort), then the request.
 */
const closeBoth = (
  scopes: { readonly request: Scope.CloseableScope; readonly reading: Scope.CloseableScope },
  reader: Reader | undefined,
  exit: Exit.Exit<unknown, unknown>
): Effect.Effect<void> => {
  const reading = Scope.close(scopes.reading, exit)
  return Effect.zipRight(
    reader?.scoped ? Effect.forkDaemon(reading) : reading,
    Scope.close(scopes.request, exit)
  )
}

export const settle = (
  deadlines: Deadlines,
  scopes: { readonly request: Scope.CloseableScope; readonly reading: Scope.CloseableScope },
  reader: Reader | undefined,
  complete: boolean,
  exit: Exit.Exit<unknown, unknown>
): Effect.Effect<void> => {
  if (!complete || reader === undefined || reader.over()) return closeBoth(scopes, reader, exit)
  return Effect.flatMap(deadlines.make, (deadline) => {
    deadline.set(SETTLE)
    return Effect.asVoid(
      Effect.forkDaemon(
        Effect.ensuring(
          Effect.ignore(reader.rest(deadline)),
          Effect.suspend(() => {
            deadline.cancel()
            return closeBoth(scopes, reader, Exit.void)
          })
        )
      )
    )
  })
}
