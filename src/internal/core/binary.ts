/**
 * One attempt of a call answered by a binary body (a ZIP archive), or of a stream of frames
 * (length-prefixed msgpack maps, or SSE events carrying the same objects as JSON): admitted by the
 * gate, sent, read under the same deadlines as `attempt.ts`'s calls and streams, each bounded by a
 * byte limit. Retrying, spans and parameters are the caller's.
 */

import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Errors from "../../Errors.js"
import {
  type Exchange,
  endedError,
  failureFrom,
  isOk,
  type Pull,
  race,
  readFailure,
  type StreamTimeouts,
  sendInScope,
  type Transport
} from "./attempt.js"
import * as Body from "./body.js"
import { Ended } from "./deadline.js"
import { truncate } from "./decode.js"
import * as Encoding from "./decompress.js"
import {
  type ErrorContext,
  fromFailure,
  isErrorPayload,
  type Phase,
  parseBody,
  toTransportError
} from "./errors.js"
import { FrameTooLarge, loadMsgpack, makeLengthPrefixedFramer } from "./frames.js"
import { Progress } from "./progress.js"
import { makeFramer } from "./sse.js"
import { readZip, type ZipEntry } from "./zip.js"

/** Statuses of a gateway in front of the server: the request may never have reached it. */
const GATEWAY: ReadonlySet<number> = new Set([502, 503, 504])

/**
 * `error` marked not to be retried by the default policy when the attempt ran a paid generation
 * that the server had taken: its answer had started (`answered`), or the server itself failed on it
 * (a 5xx other than a gateway's). A retry would run, and bill, the generation again; a policy of
 * the caller's own that ignores `shouldRetry` still may.
 */
const once = (error: Errors.NovelAIError, answered: boolean): Errors.NovelAIError => {
  if (error.shouldRetry !== undefined) return error
  const failed = error._tag === "ServerError" && error.status !== undefined && !GATEWAY.has(error.status)
  if (!answered && !failed) return error
  const fields = { ...error, shouldRetry: false }
  switch (error._tag) {
    case "ServerError":
      return new Errors.ServerError(fields)
    case "TransportError":
      return new Errors.TransportError(fields as ConstructorParameters<typeof Errors.TransportError>[0])
    case "TimeoutError":
      return new Errors.TimeoutError(fields as ConstructorParameters<typeof Errors.TimeoutError>[0])
    default:
      return error
  }
}

/**
 * One attempt of a call answered by a ZIP archive: the entries `keep` accepts, at most the
 * exchange's `limit` bytes of body and of contents, given to `decode`. Its deadline (`timeout`) covers the wait for a
 * slot, the response and its body.
 */
export const archive = <A>(
  transport: Transport,
  exchange: Exchange,
  read: {
    /** A paid generation (see {@link once}). */
    readonly paid: boolean
    readonly keep: (name: string) => boolean
    /** The body is the answer's bytes themselves, not a ZIP: one entry named `body`. */
    readonly raw?: boolean | undefined
    readonly decode: (entries: ReadonlyArray<ZipEntry>) => Either.Either<A, Errors.NovelAIError>
  },
  timeout: Duration.Duration
): Effect.Effect<A, Errors.NovelAIError> =>
  Effect.flatMap(transport.deadlines.make, (deadline) => {
    const { context } = exchange
    let phase: Phase = "queue"
    let answered = false
    deadline.set(timeout)
    const send = Effect.suspend(() => {
      phase = "request"
      return Effect.flatMap(
        Effect.mapError(transport.http.client.execute(exchange.request), toTransportError(context)),
        (response) => {
          phase = "body"
          if (!isOk(response.status)) return readFailure(context, response, exchange.limit)
          answered = true
          const type = (response.headers["content-type"] ?? "").toLowerCase()
          // An error in a 2xx JSON body, as NovelAI's text API has sent.
          if (type.includes("json")) return readJsonFailure(context, response, exchange.limit)
          const entries = read.raw
            ? Effect.map(Encoding.bounded(context, response, exchange.limit), (bytes) => [
                { name: "body", bytes }
              ])
            : readZip(context, response, exchange.limit, read.keep)
          return Effect.flatMap(entries, (entries) => read.decode(entries))
        }
      )
    })
    return race(transport, deadline, transport.gate.call(send, exchange.slot)).pipe(
      Effect.onExit(() => Effect.sync(() => deadline.cancel())),
      Effect.mapError((error) =>
        error instanceof Ended ? endedError(context, error, phase, timeout) : error
      ),
      Effect.mapError((error) => (read.paid ? once(error, answered) : error))
    )
  })

/** A 2xx JSON answer where bytes were expected: the error it carries, or a decode error. */
const readJsonFailure = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<never, Errors.NovelAIError> =>
  Effect.flatMap(Encoding.text(context, response, limit), (text) => {
    const body = parseBody(text)
    if (isErrorPayload(body)) return failureFrom(context, response, body, undefined)
    return Effect.fail(
      new Errors.ResponseDecodeError({
        message: `${context.endpoint}: expected binary data, got JSON: ${JSON.stringify(truncate(context.scrub(text), 200))}`,
        status: response.status,
        endpoint: context.endpoint
      })
    )
  })

/** How one frame stream's frames become chunks, and when it is complete. */
export interface FrameSpec<A> {
  readonly context: ErrorContext
  /** The most bytes one frame (or one SSE event) may have. */
  readonly limit: number
  /** A paid generation (see {@link once}). */
  readonly paid: boolean
  /**
   * One frame's object (an SSE event's JSON, its `event_type` from the event's name) into a chunk,
   * or undefined for a frame that carries none (an event type not known yet).
   */
  readonly decode: (frame: unknown) => Either.Either<A | undefined, Errors.NovelAIError>
  readonly observe: (chunk: A, progress: Progress) => void
  /** How many parts (samples) the request asked for: the stream is complete when each finished. */
  readonly parts: number
  /** What a complete stream has that a truncated one lacks, for the error's message. */
  readonly ending: string
}

/** Objects framed from a body's bytes. */
interface Source {
  readonly feed: (bytes: Uint8Array) => void
  /** The next object, undefined until more bytes arrive, or the error framing it failed with. */
  readonly next: () => unknown | undefined
  readonly end: () => void
}

class Bad {
  constructor(readonly error: Errors.NovelAIError) {}
}

const malformed = (context: ErrorContext, what: string) =>
  new Errors.ResponseDecodeError({
    message: `${context.endpoint}: a stream frame could not be decoded (${what})`,
    endpoint: context.endpoint
  })

const msgpackSource = (
  context: ErrorContext,
  limit: number,
  msgpack: typeof import("@msgpack/msgpack")
): Source => {
  const framer = makeLengthPrefixedFramer(limit)
  return {
    feed: framer.feed,
    end: () => undefined,
    next: () => {
      const frame = framer.next()
      if (frame === undefined) return undefined
      if (frame instanceof FrameTooLarge)
        return new Bad(Encoding.tooLarge(context, limit, undefined, `a stream frame (${frame.length} bytes)`))
      try {
        return msgpack.decode(frame)
      } catch (error) {
        return new Bad(malformed(context, error instanceof Error ? error.message : String(error)))
      }
    }
  }
}

const sseSource = (context: ErrorContext, limit: number): Source => {
  const framer = makeFramer(limit)
  return {
    feed: framer.feed,
    end: framer.end,
    next: () => {
      if (framer.overflowed()) return new Bad(Encoding.tooLarge(context, limit, undefined, "a stream event"))
      const event = framer.next()
      if (event === undefined) return undefined
      if (event.data.trim() === "") return Skip
      let json: unknown
      try {
        json = JSON.parse(event.data)
      } catch {
        if (framer.unterminated(event)) return Skip
        return new Bad(
          malformed(context, `not JSON: ${JSON.stringify(truncate(context.scrub(event.data), 200))}`)
        )
      }
      const name = event.event
      return typeof json === "object" &&
        json !== null &&
        !Array.isArray(json) &&
        name !== undefined &&
        name !== "message"
        ? { event_type: name, ...json }
        : json
    }
  }
}

const Skip = Symbol("effect-novelai/frames/Skip")

/** How many frames one pull decodes at most. */
const MAX_BATCH = 16

/**
 * One attempt of a frame stream, opened in the current scope: the request sent and its answer
 * checked, then the pull of its chunks. The request lives in the scope (closing it aborts the
 * connection). One deadline covers the wait for a slot and for the headers (`timeout`), then each
 * wait for data (`idleTimeout`); the stream is complete once every part has finished, and the
 * connection is then closed without waiting for its end.
 */
export const openFrames = <A>(
  transport: Transport,
  exchange: Exchange,
  spec: FrameSpec<A>,
  timeouts: StreamTimeouts
): Effect.Effect<Pull<A>, Errors.NovelAIError, Scope.Scope> =>
  Effect.gen(function* () {
    const { context } = exchange
    const scope = yield* Effect.scope
    const progress = new Progress(spec.parts)
    const deadline = yield* transport.deadlines.make
    yield* Scope.addFinalizer(
      scope,
      Effect.sync(() => deadline.cancel())
    )
    let phase: Phase = "queue"
    const ended = (error: Ended) =>
      endedError(context, error, phase, phase === "idle" ? timeouts.idleTimeout : timeouts.timeout)
    const orEnded = <X>(effect: Effect.Effect<X, Errors.NovelAIError | Ended>) =>
      Effect.mapError(effect, (error) => (error instanceof Ended ? ended(error) : error))

    // Whether the server may still be generating when the stream ends (as in `attempt.ts`): set
    // once the body is read, cleared when every part finished. A shared gate keeps the slot then.
    let cut = false
    // The slot is held in a scope of its own, the request sent in another and its body read in a
    // third, closed once the stream is over (Body.settle). Finalizers run last added first: the
    // request is closed (a cut one aborted) before the slot is given back, however slow a shared
    // gate's release is. They go into the scope directly, each uninterruptible: `Effect.addFinalizer`
    // would keep a copy of the fiber's refs per finalizer for as long as the stream is open.
    const scopes = { gate: yield* Scope.make(), request: yield* Scope.make(), reading: yield* Scope.make() }
    yield* Scope.addFinalizerExit(scope, (exit) => Effect.uninterruptible(Scope.close(scopes.gate, exit)))
    let reader: Body.Reader | undefined
    yield* Scope.addFinalizerExit(scope, (exit) =>
      Effect.uninterruptible(Body.settle(transport.deadlines, scopes, reader, !cut, exit))
    )
    deadline.set(timeouts.timeout)
    const response = yield* sendInScope(transport, exchange, deadline, scopes.gate, scopes.request, {
      ended,
      sending: () => {
        phase = "request"
      },
      cut: () => cut
    })

    phase = "body"
    if (!isOk(response.status)) {
      return yield* Effect.mapError(
        orEnded(deadline.race(readFailure(context, response, exchange.limit))),
        (error) => (spec.paid ? once(error, false) : error)
      )
    }
    const type = (response.headers["content-type"] ?? "").toLowerCase()
    if (type.includes("json"))
      return yield* orEnded(deadline.race(readJsonFailure(context, response, exchange.limit)))
    const source: Source = type.includes("text/event-stream")
      ? sseSource(context, spec.limit)
      : msgpackSource(
          context,
          spec.limit,
          yield* Effect.tryPromise({
            try: loadMsgpack,
            catch: () =>
              new Errors.ResponseDecodeError({
                message: `${context.endpoint}: the msgpack reader (the @msgpack/msgpack package) could not be loaded: install @msgpack/msgpack`,
                endpoint: context.endpoint
              })
          })
        )

    phase = "idle"
    cut = true
    deadline.pause()
    reader = yield* Body.reads(context, response, deadline, scopes.reading)
    const read = reader.read
    const clock = yield* Effect.clock
    const failure = (body: unknown) =>
      fromFailure(context, {
        status: undefined,
        body,
        headers: response.headers,
        nowMillis: clock.unsafeCurrentTimeMillis()
      })

    let last: Option.Option<Errors.NovelAIError> | undefined
    let inputEnded = false
    const pull: Pull<A> = Effect.suspend(() => {
      if (last !== undefined) return Effect.fail(last)
      const out: Array<A> = []
      while (last === undefined && out.length < MAX_BATCH) {
        const next = source.next()
        if (next === undefined) break
        if (next === Skip) continue
        if (next instanceof Bad) {
          last = Option.some(next.error)
          break
        }
        if (isErrorPayload(next)) {
          last = Option.some(failure(next))
          break
        }
        const decoded = spec.decode(next)
        if (Either.isLeft(decoded)) {
          last = Option.some(decoded.left)
          break
        }
        if (decoded.right === undefined) continue
        progress.received++
        spec.observe(decoded.right, progress)
        out.push(decoded.right)
        if (progress.complete()) {
          last = Option.none()
          cut = false
        }
      }
      if (out.length > 0) return Effect.succeed(Chunk.unsafeFromArray(out))
      if (last !== undefined) return Effect.fail(last)
      if (inputEnded) {
        last = progress.complete()
          ? Option.none()
          : Option.some(
              new Errors.StreamTruncatedError({
                message: `${context.endpoint}: the stream ended ${spec.ending}; the generation is incomplete (${progress.received} ${progress.received === 1 ? "event" : "events"} received)`,
                endpoint: context.endpoint,
                chunksReceived: progress.received
              })
            )
        return Effect.fail(last)
      }
      deadline.set(timeouts.idleTimeout)
      return Effect.matchEffect(read, {
        onSuccess: (bytes) => {
          deadline.pause()
          for (const part of bytes) source.feed(part)
          return pull
        },
        onFailure: (error) => {
          deadline.pause()
          // Once the answer has started, a failure is the generation's: never run it again.
          const paid = (error: Errors.NovelAIError) => (spec.paid ? once(error, true) : error)
          if (error instanceof Ended) last = Option.some(paid(ended(error)))
          else if (Option.isNone(error)) {
            source.end()
            inputEnded = true
            return pull
          } else last = Option.some(paid(error.value))
          return Effect.fail(last)
        }
      })
    })
    return pull
  })
