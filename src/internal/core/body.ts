/**
 * A streamed body's reads, raced against the stream's deadline.
 *
 * The platform's body `Stream` (a channel over the socket's readable, pulled through a worker fiber
 * per read so that the deadline can cut it) costs most of what opening and collecting a stream
 * costs. The platform's undici client hands over its undici response, whose body is a Node
 * readable: that body is read here directly, its chunks queued as they arrive and each wait a
 * {@link Deadline.wait}, with no fiber and no `Stream`. Any other response (the Fetch client, a
 * user's own client, a compressed body) is read through the platform's stream as before.
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Errors from "../../Errors.js"
import { type Deadline, Ended } from "./deadline.js"
import * as Encoding from "./decompress.js"
import { type ErrorContext, toTransportError } from "./errors.js"

/** The next bytes of a body (`None` at its end), or the error that ended it, or the deadline's end. */
export type Read = Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<Errors.NovelAIError> | Ended>

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
): Effect.Effect<Read> => {
  const body = (response as { readonly source?: { readonly body?: unknown } }).source?.body
  if (isReadable(body) && Encoding.encodingOf(response) === undefined) {
    return Effect.succeed(nodeReads(context, response, body, deadline))
  }
  return Effect.map(Scope.extend(Stream.toPull(Encoding.bytes(context, response)), reading), (read) =>
    deadline.race(read)
  )
}

/** The reads of a Node readable body (exported for its tests). */
export const nodeReads = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  body: Readable,
  deadline: Deadline
): Read => {
  let queue: Array<Uint8Array> = []
  let paused = false
  let ended = false
  let failure: Errors.NovelAIError | undefined
  let wake: (() => void) | undefined
  body.on("data", (bytes: Uint8Array) => {
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
  })
  body.on("error", (cause: unknown) => {
    // As the platform's stream reports it, so the error reads the same on either path.
    failure ??= toTransportError(context)(
      new HttpClientError.ResponseError({ request: response.request, response, reason: "Decode", cause })
    )
    wake?.()
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
  return read
}
