import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Errors from "../Errors.js"
import type { Deadlines } from "./deadline.js"
import { truncate } from "./decode.js"
import { type ErrorContext, fromFailure, isErrorPayload, parseBody } from "./errors.js"
import { decodeSse } from "./sse.js"

/** The one place an `HttpClientError` becomes one of ours. */
export const toTransportError =
  (context: ErrorContext) =>
  (error: HttpClientError.HttpClientError): Errors.TransportError => {
    const underlying = error.cause instanceof Error ? error.cause : undefined
    const detail = underlying ? `${underlying.message}${causeCode(underlying)}` : error.reason
    const what =
      error._tag === "RequestError"
        ? "the request could not be sent"
        : "the connection failed while reading the response"
    return new Errors.TransportError({
      message: context.scrub(`${context.endpoint}: ${what} (${detail})`),
      status: error._tag === "ResponseError" ? error.response.status : undefined,
      endpoint: context.endpoint,
      cause: underlying
    })
  }

const causeCode = (error: Error): string => {
  const inner = (error as { cause?: unknown }).cause
  if (typeof inner === "object" && inner !== null && "code" in inner && typeof inner.code === "string") {
    return `: ${inner.code}`
  }
  return ""
}

/** A failure from a response: its status, or `undefined` for an error carried in a 2xx body. */
const failureFrom = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  body: unknown,
  status: number | undefined
) =>
  Effect.flatMap(Clock.currentTimeMillis, (nowMillis) =>
    Effect.fail(fromFailure(context, { status, body, headers: response.headers, nowMillis }))
  )

const isOk = (status: number) => status >= 200 && status < 300

/** How long to wait, per call. */
export interface Timeouts {
  /** Until the response headers, and for non-streaming calls until the body is read. */
  readonly request: Duration.Duration
  /** Longest gap between two reads of a streaming body. */
  readonly idle: Duration.Duration
}

const timeoutError = (context: ErrorContext, phase: "request" | "body" | "idle", after: Duration.Duration) =>
  new Errors.TimeoutError({
    message: `${context.endpoint}: ${
      phase === "request"
        ? "no response"
        : phase === "body"
          ? "the response body did not complete"
          : "the stream sent nothing"
    } within ${Duration.format(after)}; the connection was closed`,
    endpoint: context.endpoint,
    phase
  })

/**
 * Executes a request whose answer is one JSON document, decoded by `decode`. The client's requests
 * are scoped (`HttpClient.withScope`): the deadline, a failure or an interruption closes the scope,
 * which aborts the request.
 */
export const requestJson = <A>(
  client: HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope>,
  deadlines: Deadlines,
  context: ErrorContext,
  request: HttpClientRequest.HttpClientRequest,
  decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>,
  timeouts: Timeouts
): Effect.Effect<A, Errors.NovelAIError> =>
  Effect.suspend(() => {
    // Whether the headers came decides if a timeout is retryable (nothing was generated for us yet).
    let responded = false
    return deadlines.within(
      Effect.flatMap(Effect.mapError(client.execute(request), toTransportError(context)), (response) => {
        responded = true
        return isOk(response.status)
          ? decodeJsonBody(context, response, decode)
          : Effect.flatMap(Effect.mapError(response.text, toTransportError(context)), (text) =>
              failureFrom(context, response, parseBody(text), response.status)
            )
      }),
      {
        after: timeouts.request,
        onTimeout: () => timeoutError(context, responded ? "body" : "request", timeouts.request),
        name: `NovelAI.${context.endpoint}`
      }
    )
  })

/**
 * Executes a streaming request and decodes its SSE body. The request lives in the stream, in a
 * scope of its own: when the consumer stops (take, timeout, interruption), `[DONE]` arrives or a
 * deadline passes, the scope closes and the connection is aborted. One deadline covers the wait
 * for the headers (`timeouts.request`), then each wait for the next read (`timeouts.idle`); it is
 * paused while the consumer works.
 */
export const requestSse = <A>(
  client: HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope>,
  deadlines: Deadlines,
  context: ErrorContext,
  request: HttpClientRequest.HttpClientRequest,
  decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>,
  isFinal: (chunk: A) => boolean,
  timeouts: Timeouts
): Stream.Stream<A, Errors.NovelAIError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const clock = yield* Effect.clock
      const scope = yield* Effect.acquireRelease(Scope.make(), (scope, exit) => Scope.close(scope, exit))
      const deadline = deadlines.start(scope, timeouts.request, `NovelAI.${context.endpoint}`)
      yield* Effect.addFinalizer(() => Effect.sync(deadline.end))
      // Which wait a passed deadline cut short.
      let phase: "request" | "body" | "idle" = "request"
      const timedOut = (error: Errors.NovelAIError) =>
        deadline.expired()
          ? timeoutError(context, phase, phase === "idle" ? timeouts.idle : timeouts.request)
          : error

      const response = yield* Effect.mapError(
        Effect.provideService(client.execute(request), Scope.Scope, scope),
        (error) => timedOut(toTransportError(context)(error))
      )
      // Headers that came as the deadline passed: the request has been aborted all the same.
      if (deadline.expired()) return yield* Effect.fail(timeoutError(context, "request", timeouts.request))
      phase = "body"
      const contentType = response.headers["content-type"] ?? ""
      if (!isOk(response.status) || contentType.includes("application/json")) {
        // An error, or a whole result sent as one JSON chunk: read under the request deadline.
        const chunk = yield* Effect.mapError(
          isOk(response.status)
            ? decodeJsonBody(context, response, decode)
            : Effect.flatMap(Effect.mapError(response.text, toTransportError(context)), (text) =>
                failureFrom(context, response, parseBody(text), response.status)
              ),
          timedOut
        )
        return Stream.succeed(chunk)
      }
      phase = "idle"
      deadline.pause()
      return response.stream.pipe(
        Stream.mapError(toTransportError(context)),
        decodeSse({
          context,
          headers: response.headers,
          nowMillis: () => clock.unsafeCurrentTimeMillis(),
          decode,
          isFinal,
          beforeRead: () => deadline.restart(timeouts.idle),
          afterRead: deadline.pause
        }),
        Stream.mapError(timedOut)
      )
    })
  )

/**
 * Reads a 2xx body as JSON: an `{ "error": ... }` body (seen with status 200) is a failure, not a
 * result; anything else goes through `decode`.
 */
const decodeJsonBody = <A>(
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>
): Effect.Effect<A, Errors.NovelAIError> =>
  Effect.flatMap(Effect.mapError(response.text, toTransportError(context)), (text) => {
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return Effect.fail(
        new Errors.ResponseDecodeError({
          message: `${context.endpoint}: the response was not JSON: ${JSON.stringify(truncate(context.scrub(text), 200))}`,
          status: response.status,
          endpoint: context.endpoint
        })
      )
    }
    if (isErrorPayload(body)) return failureFrom(context, response, body, undefined)
    return decode(body)
  })
