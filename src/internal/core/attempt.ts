/**
 * One attempt of a call, or of a stream: admitted by the gate, sent on the configured client, its
 * answer read under a deadline and decoded. Retrying, spans and parameters are the caller's.
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Errors from "../../Errors.js"
import * as Body from "./body.js"
import { type Deadline, type Deadlines, Ended } from "./deadline.js"
import { truncate } from "./decode.js"
import * as Encoding from "./decompress.js"
import type { Rewrite } from "./endpoint.js"
import {
  closedError,
  type ErrorContext,
  fromFailure,
  isErrorPayload,
  type Phase,
  parseBody,
  timeoutError,
  toTransportError
} from "./errors.js"
import type { Gate, GenerationSlot } from "./gate.js"
import type { Clients } from "./pipeline.js"
import * as Events from "./progress.js"
import { makeFramer } from "./sse.js"
import { annotateResponse } from "./telemetry.js"

/** What every attempt needs from its client. */
export interface Transport {
  readonly http: Clients
  /**
   * Whether an attempt's work, which runs on a fiber of the client's (see `deadline.ts`), needs the
   * caller's span: when the platform's own HTTP spans are on, they are its children.
   */
  readonly inheritSpan: boolean
  readonly deadlines: Deadlines
  readonly gate: Gate
}

/** One attempt's request. */
export interface Exchange {
  readonly context: ErrorContext
  readonly request: HttpClientRequest.HttpClientRequest
  /** The generation slot it takes (completions, chats, images), besides the general gate. */
  readonly slot: GenerationSlot | undefined
  /** The largest body it reads, and the largest reply a collected stream gathers, in bytes. */
  readonly limit: number
}

/** A single event larger than this many characters is refused rather than buffered without bound. */
const MAX_EVENT_CHARS = 8 * 1024 * 1024

/** The most events decoded into one chunk; batches start at one event and double up to this. */
const MAX_BATCH = 1024

/** How long a stream whose every choice has finished may stay open without `[DONE]`. */
const FINISHED_GRACE = Duration.seconds(1)

export const isOk = (status: number) => status >= 200 && status < 300

/** A deadline's end as the error its call fails with. */
export const endedError = (context: ErrorContext, ended: Ended, phase: Phase, after: Duration.Duration) =>
  ended.reason === "closed" ? closedError(context) : timeoutError(context, phase, after)

/** A failure from a response: its status, or `undefined` for an error carried in a 2xx body. */
export const failureFrom = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  body: unknown,
  status: number | undefined
): Effect.Effect<never, Errors.NovelAIError> =>
  Effect.flatMap(Clock.currentTimeMillis, (nowMillis) =>
    Effect.fail(fromFailure(context, { status, body, headers: response.headers, nowMillis }))
  )

/**
 * Reads an error status's body into the typed error it describes; a body over the cap is dropped,
 * and the status speaks alone.
 */
export const readFailure = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  limit: number
) =>
  Effect.flatMap(
    Effect.catchTag(Encoding.text(context, response, limit), "ResponseTooLargeError", () =>
      Effect.succeed("")
    ),
    (text) => failureFrom(context, response, parseBody(text), response.status)
  )

/**
 * Reads a 2xx body as JSON: an `{ "error": ... }` body (seen with status 200) is a failure, not a
 * result; a body that is not JSON names its content type; anything else goes through `decode`.
 */
const readJson = <A>(
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  limit: number,
  decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>
): Effect.Effect<A, Errors.NovelAIError> =>
  Effect.flatMap(Encoding.text(context, response, limit), (text) => {
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      const type = response.headers["content-type"]
      return Effect.fail(
        new Errors.ResponseDecodeError({
          message: `${context.endpoint}: the response was not JSON${type ? ` (content-type ${type})` : ""}: ${JSON.stringify(truncate(context.scrub(text), 200))}`,
          status: response.status,
          endpoint: context.endpoint
        })
      )
    }
    if (isErrorPayload(body)) return failureFrom(context, response, body, undefined)
    return decode(body)
  })

/** `effect` raced against `deadline`, with the caller's span as its parent when its worker needs one. */
export const race = <A, E>(transport: Transport, deadline: Deadline, effect: Effect.Effect<A, E>) =>
  transport.inheritSpan
    ? Effect.flatMap(Effect.option(Effect.currentSpan), (span) =>
        deadline.race(Option.isSome(span) ? Effect.withParentSpan(effect, span.value) : effect)
      )
    : deadline.race(effect)

/**
 * A stream's request: admitted by the gate, whose slots `scope` holds, then sent in `scope` (closing
 * it aborts the connection), under `deadline`. `sending` is told when the request goes out;
 * `cut`, when the scope closes, whether the stream stopped before its end (see `Gate.enter`).
 */
export const sendInScope = (
  transport: Transport,
  exchange: Exchange,
  deadline: Deadline,
  scope: Scope.Scope,
  request: Scope.Scope,
  on: {
    readonly ended: (error: Ended) => Errors.NovelAIError
    readonly sending: () => void
    readonly cut?: (() => boolean) | undefined
  }
): Effect.Effect<HttpClientResponse.HttpClientResponse, Errors.NovelAIError> =>
  race(
    transport,
    deadline,
    Effect.zipRight(
      transport.gate.enter(exchange.slot, scope, on.cut),
      Effect.suspend(() => {
        on.sending()
        return Effect.provideService(transport.http.scoped.execute(exchange.request), Scope.Scope, request)
      })
    )
  ).pipe(
    Effect.mapError((error) =>
      error instanceof Ended
        ? on.ended(error)
        : error instanceof Errors.GenerationGateError
          ? error
          : toTransportError(exchange.context)(error)
    )
  )

/**
 * One attempt of a call whose answer is one JSON document. Its deadline (`timeout`) covers the
 * wait for a slot, the response and its body.
 */
export const call = <A>(
  transport: Transport,
  exchange: Exchange,
  decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>,
  timeout: Duration.Duration
): Effect.Effect<A, Errors.NovelAIError> =>
  Effect.flatMap(transport.deadlines.make, (deadline) => {
    const { context } = exchange
    let phase: Phase = "queue"
    deadline.set(timeout)
    const send = Effect.suspend(() => {
      phase = "request"
      return Effect.flatMap(
        Effect.mapError(transport.http.client.execute(exchange.request), toTransportError(context)),
        (response) => {
          phase = "body"
          return isOk(response.status)
            ? readJson(context, response, exchange.limit, decode)
            : readFailure(context, response, exchange.limit)
        }
      )
    })
    return race(transport, deadline, transport.gate.call(send, exchange.slot)).pipe(
      Effect.onExit(() => Effect.sync(() => deadline.cancel())),
      Effect.mapError((error) =>
        error instanceof Ended ? endedError(context, error, phase, timeout) : error
      )
    )
  })

/** How one stream's events become chunks, how many parts it asked for, and how its chunks are rewritten. */
export interface StreamSpec<A> extends Events.EventSpec<A> {
  readonly parts: number
  /** Makes the rewrite of one run of the stream. */
  readonly rewrite: (() => Rewrite<A>) | undefined
}

/** A stream's chunks as they are pulled: the next batch, or `None` at its end, or the error that ended it. */
export type Pull<A> = Effect.Effect<Chunk.Chunk<A>, Option.Option<Errors.NovelAIError>>

/** The deadlines of a stream: `timeout` until the headers, then `idleTimeout` for each wait for data. */
export interface StreamTimeouts {
  readonly timeout: Duration.Duration
  readonly idleTimeout: Duration.Duration
}

/** A pull that gives `chunks` once, then ends. */
const once = <A>(chunks: ReadonlyArray<A>): Pull<A> => {
  let given = false
  return Effect.suspend(() => {
    if (given) return Effect.fail(Option.none())
    given = true
    return Effect.succeed(Chunk.unsafeFromArray(chunks))
  })
}

/**
 * One attempt of a streaming call, opened in the current scope: the request sent and its answer
 * checked, then the pull of its chunks. The request lives in the scope: when it closes (the
 * consumer stopped, `[DONE]` arrived, a deadline passed), the connection is aborted. One deadline
 * covers the wait for a slot and for the headers (`timeout`), then each wait for data
 * (`idleTimeout`: comments and other events do not count); it is paused while the consumer works,
 * and once every choice has finished, a quiet connection ends the stream successfully after a
 * short grace. `collecting`: the whole reply is being gathered into one value, so `timeout` covers
 * all of it, not only the wait for the headers, and its bytes are capped by the exchange's limit.
 */
export const open = <A>(
  transport: Transport,
  exchange: Exchange,
  spec: StreamSpec<A>,
  timeouts: StreamTimeouts,
  collecting = false
): Effect.Effect<Pull<A>, Errors.NovelAIError, Scope.Scope> =>
  Effect.gen(function* () {
    const { context } = exchange
    const clock = yield* Effect.clock
    const timeoutMillis = Duration.toMillis(timeouts.timeout)
    const endAt =
      collecting && Number.isFinite(timeoutMillis)
        ? clock.unsafeCurrentTimeMillis() + timeoutMillis
        : undefined
    const scope = yield* Effect.scope
    const span = Option.getOrUndefined(yield* Effect.option(Effect.currentSpan))
    const progress = new Events.Progress(spec.parts)
    const summarise = () =>
      annotateResponse(span, {
        id: progress.id,
        model: progress.model,
        usage: progress.usage,
        finishReasons: [...progress.finished.values()]
      })
    const deadline = yield* transport.deadlines.make
    yield* Scope.addFinalizer(
      scope,
      Effect.sync(() => deadline.cancel())
    )
    let phase: Phase = "queue"
    const ended = (error: Ended) =>
      endedError(context, error, phase, phase === "idle" ? timeouts.idleTimeout : timeouts.timeout)

    // Whether the server may still be generating when the stream ends: set once its body is read,
    // cleared when it ends complete. A shared gate keeps the slot a while after such an end.
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
    const type = (response.headers["content-type"] ?? "").toLowerCase()
    if (!isOk(response.status)) {
      return yield* Effect.mapError(deadline.race(readFailure(context, response, exchange.limit)), (error) =>
        error instanceof Ended ? ended(error) : error
      )
    }
    if (type !== "" && !type.includes("text/event-stream")) {
      // Not an event stream: a whole result as one JSON chunk, an error body, or something else
      // (a proxy's HTML page), which fails as it would on a non-streaming call.
      const chunk = yield* Effect.mapError(
        deadline.race(readJson(context, response, exchange.limit, spec.decode)),
        (error) => (error instanceof Ended ? ended(error) : error)
      )
      spec.observe(chunk, progress)
      summarise()
      const rewrite = spec.rewrite?.()
      return once(rewrite === undefined ? [chunk] : [rewrite.map(chunk), ...rewrite.flush()])
    }
    phase = "idle"
    cut = true
    deadline.pause()
    reader = yield* Body.reads(context, response, deadline, scopes.reading)
    return decodeEvents(spec, spec.rewrite?.(), progress, reader.read, deadline, {
      failure: (body) =>
        fromFailure(context, {
          status: undefined,
          body,
          headers: response.headers,
          nowMillis: clock.unsafeCurrentTimeMillis()
        }),
      ended,
      idleTimeout: timeouts.idleTimeout,
      finished: (complete) => {
        if (complete) cut = false
        summarise()
      },
      endAt,
      timedOut: () => timeoutError(context, "body", timeouts.timeout),
      limit: collecting ? exchange.limit : undefined,
      tooLarge: (limit) => Encoding.tooLarge(context, limit, response.status),
      now: () => clock.unsafeCurrentTimeMillis()
    })
  })

/**
 * One attempt of a streaming call, its chunks handed to `add` as they are decoded, in a scope of
 * its own: a whole reply collected with no `Stream` around the body's (each layer of `Stream`
 * costs tens of microseconds to run; collecting through the public stream cost twice as much).
 * The deadlines are the stream's.
 */
export const collect = <A>(
  transport: Transport,
  exchange: Exchange,
  spec: StreamSpec<A>,
  timeouts: StreamTimeouts,
  add: (chunks: Chunk.Chunk<A>) => void
): Effect.Effect<void, Errors.NovelAIError> =>
  Effect.scoped(
    Effect.flatMap(open(transport, exchange, spec, timeouts, true), (pull) => {
      const loop: Effect.Effect<void, Errors.NovelAIError> = Effect.matchEffect(pull, {
        onSuccess: (chunks) => {
          add(chunks)
          return loop
        },
        onFailure: (end) => (Option.isNone(end) ? Effect.void : Effect.fail(end.value))
      })
      return loop
    })
  )

/**
 * The pull of a stream's chunks: frames events from the body's bytes as the consumer asks for them
 * and decodes them with {@link Events.step}, in batches that start at one event and double up to
 * {@link MAX_BATCH}, so that the first event of a large read is not held back while the rest are
 * decoded. Fails with `None` when the stream ends.
 */
const decodeEvents = <A>(
  spec: StreamSpec<A>,
  rewrite: Rewrite<A> | undefined,
  progress: Events.Progress,
  read: Body.Read,
  deadline: Deadline,
  on: {
    readonly failure: (body: unknown) => Errors.NovelAIError
    readonly ended: (ended: Ended) => Errors.NovelAIError
    readonly idleTimeout: Duration.Duration
    /** Called once, when the stream ends: complete, or with a failure. */
    readonly finished: (complete: boolean) => void
    /** When the whole stream must have ended (a collected reply's `timeout`), in the clock's millis. */
    readonly endAt: number | undefined
    /** The failure of a stream that passed `endAt`. */
    readonly timedOut: () => Errors.NovelAIError
    /** The most bytes it may bring (a collected reply), if capped. */
    readonly limit: number | undefined
    readonly tooLarge: (limit: number) => Errors.NovelAIError
    readonly now: () => number
  }
): Effect.Effect<Chunk.Chunk<A>, Option.Option<Errors.NovelAIError>> => {
  const framer = makeFramer(MAX_EVENT_CHARS)
  const grace = Duration.min(FINISHED_GRACE, on.idleTimeout)
  let batch = 1
  let inputEnded = false
  let received = 0
  // Whether the deadline now set is the end of the whole stream (`endAt`), shorter than the wait.
  let cut = false
  // The outcome that ends the stream once the chunks before it have been handed over.
  let last: Option.Option<Errors.NovelAIError> | undefined
  // What the deadline is set for while the consumer waits; undefined while it works.
  let waiting: "idle" | "grace" | undefined

  const finish = (outcome: Option.Option<Errors.NovelAIError>) => {
    last = outcome
    deadline.pause()
    on.finished(Option.isNone(outcome))
  }

  const pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<Errors.NovelAIError>> = Effect.suspend(() => {
    if (last !== undefined) return Effect.fail(last)
    const out: Array<A> = []
    if (framer.overflowed()) {
      finish(
        Option.some(
          new Errors.ResponseDecodeError({
            message: `${spec.context.endpoint}: a stream event exceeded ${MAX_EVENT_CHARS} characters`,
            endpoint: spec.context.endpoint
          })
        )
      )
    }
    while (last === undefined && out.length < batch) {
      const event = framer.next()
      if (event === undefined) break
      const step = Events.step(spec, progress, event, on.failure, framer.unterminated(event))
      if (step === Events.Skip) continue
      if (step === Events.Done) {
        finish(Option.none())
        if (rewrite !== undefined) out.push(...rewrite.flush())
      } else if (step instanceof Events.Failure) finish(Option.some(step.error))
      else out.push(rewrite === undefined ? step : rewrite.map(step))
    }
    if (out.length > 0) {
      batch = Math.min(batch * 2, MAX_BATCH)
      if (waiting !== undefined) {
        waiting = undefined
        deadline.pause()
      }
      return Effect.succeed(Chunk.unsafeFromArray(out))
    }
    if (last !== undefined) return Effect.fail(last)
    if (inputEnded) {
      const truncated = Events.end(spec, progress)
      finish(truncated === undefined ? Option.none() : Option.some(truncated))
      const held = truncated === undefined && rewrite !== undefined ? rewrite.flush() : []
      return held.length > 0 ? Effect.succeed(Chunk.unsafeFromArray(held)) : Effect.fail(last!)
    }
    // Waiting for data: the deadline runs until an event becomes a chunk, across reads that bring
    // only comments or other events. Once every choice has finished it only waits a short grace.
    const want = progress.complete() ? "grace" : "idle"
    if (waiting !== want) {
      waiting = want
      let after = want === "grace" ? grace : on.idleTimeout
      cut = false
      if (on.endAt !== undefined) {
        const left = on.endAt - on.now()
        if (left < Duration.toMillis(after)) {
          after = Duration.millis(Math.max(0, left))
          cut = true
        }
      }
      deadline.set(after)
    }
    return Effect.matchEffect(read, {
      onSuccess: (bytes) => {
        for (const part of bytes) {
          if (on.limit !== undefined) {
            received += part.length
            if (received > on.limit) {
              finish(Option.some(on.tooLarge(on.limit)))
              return Effect.fail(last!)
            }
          }
          framer.feed(part)
        }
        return pull
      },
      onFailure: (error) => {
        if (error instanceof Ended) {
          // A finished generation whose connection stayed open: complete, and close it.
          const complete = error.reason === "timeout" && waiting === "grace"
          finish(
            complete
              ? Option.none()
              : Option.some(error.reason === "timeout" && cut ? on.timedOut() : on.ended(error))
          )
          const held = complete && rewrite !== undefined ? rewrite.flush() : []
          if (held.length > 0) return Effect.succeed(Chunk.unsafeFromArray(held))
        } else if (Option.isNone(error)) {
          framer.end()
          inputEnded = true
          return pull
        } else if (progress.complete()) {
          // The generation had finished (every choice's finish_reason, or the native `final`): a
          // connection that failed after it is a completed reply, not a failure to retry.
          finish(Option.none())
          const held = rewrite !== undefined ? rewrite.flush() : []
          if (held.length > 0) return Effect.succeed(Chunk.unsafeFromArray(held))
        } else {
          finish(Option.some(error.value))
        }
        return Effect.fail(last!)
      }
    })
  })
  return pull
}
