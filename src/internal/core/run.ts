/**
 * Endpoints made into calls for one client: parameters checked and encoded once, before anything
 * is sent; each attempt through the transport; retried by the call policy; in a span.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Errors from "../../Errors.js"
import { TextTokenCountParams } from "../../TextGeneration.js"
import type { CallEndpoint, StreamEndpoint } from "../endpoints.js"
import { refuseOnNative } from "../native/body.js"
import type { Collector } from "../openai/collect.js"
import * as Transport from "./attempt.js"
import { Ended } from "./deadline.js"
import { paramsEncoder } from "./decode.js"
import { closedError, type ErrorContext, scrubError } from "./errors.js"
import type { Resolved } from "./options.js"
import { checkNames, mergeExtra, NATIVE_HINTS, namesOf } from "./params.js"
import { type CallSettings, type Guard, makeSettings, retryCall, retryStream } from "./policy.js"
import { requestAttributes } from "./telemetry.js"

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

export const make = (transport: Transport.Transport, options: Resolved) => {
  const settings = makeSettings(options)
  const scrub = scrubError(options.scrub)

  /** The model a call names, or the endpoint's default, or the client's. */
  const modelOf = (endpoint: Pick<CallEndpoint<unknown>, "defaultModel">, params: unknown): unknown =>
    isRecord(params) && params.model !== undefined ? params.model : options[endpoint.defaultModel]

  /**
   * The request with its encoded body, or the InvalidRequestError that keeps it from being sent:
   * a name the endpoint does not take, a value out of range, a model of the other API, an
   * `extraBody` that clashes, text the model's tokenizer cannot take.
   */
  const prepare = (
    endpoint: Pick<CallEndpoint<unknown>, "defaultModel" | "hints" | "refuseModel" | "body">,
    name: string,
    encode: ((input: unknown) => Either.Either<unknown, Errors.InvalidRequestError>) | undefined,
    names: ReadonlySet<string>,
    base: HttpClientRequest.HttpClientRequest,
    params: unknown,
    stream: boolean
  ): Effect.Effect<HttpClientRequest.HttpClientRequest, Errors.InvalidRequestError> => {
    if (encode === undefined) return Either.right(base)
    if (isRecord(params)) {
      const unknown = checkNames(name, names, params, endpoint.hints)
      if (Either.isLeft(unknown)) return Either.left(unknown.left)
    }
    const model = modelOf(endpoint, params)
    const refused = endpoint.refuseModel(model)
    if (refused !== undefined) {
      return Either.left(
        new Errors.InvalidRequestError({ message: `${name}: ${refused}`, endpoint: name, field: "model" })
      )
    }
    const input = isRecord(params) ? { ...params, model } : params
    const wire = Either.flatMap(encode(input), (encoded) => {
      const body = encoded as Record<string, unknown>
      return mergeExtra(name, body, body.extraBody as Record<string, unknown> | undefined)
    })
    const finish = (wire: Record<string, unknown>) =>
      HttpClientRequest.bodyUnsafeJson(base, stream ? { ...wire, stream: true } : wire)
    if (endpoint.body === undefined) return Either.map(wire, finish)
    const body = endpoint.body(options.tokenizers)
    return Effect.map(
      Effect.flatMap(wire, (wire) => body(name, wire)),
      (wire) => HttpClientRequest.bodyUnsafeJson(base, wire)
    )
  }

  const context = (name: string): ErrorContext => ({ endpoint: name, scrub: options.scrub })

  /** The retrying part of a call, ended at once with a ClientClosedError when the client closes. */
  const guard =
    (context: ErrorContext): Guard =>
    (effect) =>
      Effect.mapError(transport.deadlines.guard(effect), (error) =>
        error instanceof Ended ? closedError(context) : error
      )

  /** The attempts of a call whose answer is one JSON document, retried by its policy. */
  const callAttempts = <A>(endpoint: CallEndpoint<A>) => {
    const exchangeContext = context(endpoint.name)
    const encode = endpoint.params === undefined ? undefined : paramsEncoder(endpoint.params, endpoint.name)
    const names = endpoint.params === undefined ? new Set<string>() : namesOf(endpoint.params)
    const decode = endpoint.decode(endpoint.name)
    const base = (endpoint.method === "GET" ? HttpClientRequest.get : HttpClientRequest.post)(
      endpoint.path
    ).pipe(HttpClientRequest.acceptJson)
    return (params: unknown, settings: CallSettings): Effect.Effect<A, Errors.NovelAIError> =>
      Effect.flatMap(prepare(endpoint, endpoint.name, encode, names, base, params, false), (request) =>
        retryCall(
          Transport.call(
            transport,
            { context: exchangeContext, request, slot: endpoint.slot },
            decode,
            settings.timeout
          ),
          settings.policy,
          guard(exchangeContext)
        )
      )
  }

  /**
   * The attempts of a streaming call, named `name` in its errors. The request lives in the stream;
   * a failure is retried only while no chunk has been emitted, so generated text is never repeated
   * or spliced.
   */
  const streamAttempts = <A>(endpoint: StreamEndpoint<A>, name: string) => {
    const exchange = streamExchange(endpoint, name)
    return (params: unknown, settings: CallSettings): Stream.Stream<A, Errors.NovelAIError> =>
      Stream.unwrap(
        Effect.map(exchange.prepare(params), ([request, spec]) =>
          retryStream(
            Transport.stream(transport, exchange.of(request), spec, settings),
            settings.policy,
            exchange.guard
          )
        )
      )
  }

  /** What each attempt of a streaming endpoint needs: its request, its spec, its guard. */
  const streamExchange = <A>(endpoint: StreamEndpoint<A>, name: string) => {
    const exchangeContext = context(name)
    const encode = endpoint.params === undefined ? undefined : paramsEncoder(endpoint.params, name)
    const names = endpoint.params === undefined ? new Set<string>() : namesOf(endpoint.params)
    const decode = endpoint.decode(name)
    const base = HttpClientRequest.post(endpoint.path).pipe(
      HttpClientRequest.setHeader("accept", "text/event-stream")
    )
    return {
      guard: guard(exchangeContext),
      of: (request: HttpClientRequest.HttpClientRequest): Transport.Exchange => ({
        context: exchangeContext,
        request,
        slot: endpoint.slot
      }),
      prepare: (
        params: unknown
      ): Effect.Effect<
        [HttpClientRequest.HttpClientRequest, Transport.StreamSpec<A>],
        Errors.InvalidRequestError
      > =>
        Effect.map(prepare(endpoint, name, encode, names, base, params, true), (request) => [
          request,
          {
            context: exchangeContext,
            chunkEvents: endpoint.chunkEvents,
            decode,
            observe: endpoint.observe,
            choices: endpoint.choices(isRecord(params) ? params : {}),
            rewrite: endpoint.rewrite,
            ending: endpoint.ending
          }
        ])
    }
  }

  /**
   * The attempts of a call answered by collecting a stream: each attempt streams and collects the
   * whole reply (with the stream's deadlines), and is retried as a call's are, since nothing of it
   * has reached the caller.
   */
  const collectAttempts = <C, A>(
    endpoint: StreamEndpoint<C>,
    name: string,
    collector: () => Collector<C, A>
  ) => {
    const exchange = streamExchange(endpoint, name)
    return (params: unknown, settings: CallSettings): Effect.Effect<A, Errors.NovelAIError> =>
      Effect.flatMap(exchange.prepare(params), ([request, spec]) =>
        retryCall(
          Effect.suspend(() => {
            const collected = collector()
            return Effect.as(
              Transport.collect(transport, exchange.of(request), spec, settings, collected.add),
              collected
            )
          }).pipe(Effect.map((collected) => collected.result())),
          settings.policy,
          exchange.guard
        )
      )
  }

  const span = (name: string, operation: string, model: unknown) => ({
    name: `NovelAI.${name}`,
    options: {
      kind: "client" as const,
      captureStackTrace: false,
      attributes: requestAttributes(operation, model)
    }
  })

  /**
   * A call whose answer is one JSON document, in a span. With `collected`, it is answered by
   * collecting a stream instead when the call's `collectStream` says so (by default, the
   * endpoint's `byDefault`): one request, the same result.
   */
  const call = <A, C = never>(
    endpoint: CallEndpoint<A>,
    collected?: {
      readonly stream: StreamEndpoint<C>
      readonly collector: () => Collector<C, A>
      readonly byDefault: boolean
    }
  ) => {
    const attempts = callAttempts(endpoint)
    const streamed =
      collected === undefined
        ? undefined
        : collectAttempts(collected.stream, endpoint.name, collected.collector)
    return (params: unknown, callOptions: unknown): Effect.Effect<A, Errors.NovelAIError> => {
      const { name, options } = span(
        endpoint.name,
        endpoint.operation,
        endpoint.params === undefined ? undefined : modelOf(endpoint, params)
      )
      return Effect.flatMap(settings(endpoint.name, callOptions), (settings) =>
        streamed !== undefined && (settings.collectStream ?? collected!.byDefault)
          ? streamed(params, settings)
          : attempts(params, settings)
      ).pipe(
        Effect.mapError(scrub),
        Effect.tap((result) =>
          endpoint.annotate === undefined
            ? Effect.void
            : Effect.map(Effect.option(Effect.currentSpan), (span) =>
                endpoint.annotate!(Option.getOrUndefined(span), result)
              )
        ),
        Effect.withSpan(name, options)
      )
    }
  }

  /** A streaming call, in a span. */
  const stream = <A>(endpoint: StreamEndpoint<A>) => {
    const attempts = streamAttempts(endpoint, endpoint.name)
    return (params: unknown, callOptions: unknown): Stream.Stream<A, Errors.NovelAIError> => {
      const { name, options } = span(endpoint.name, endpoint.operation, modelOf(endpoint, params))
      return Stream.unwrap(
        Effect.map(settings(endpoint.name, callOptions), (settings) => attempts(params, settings))
      ).pipe(Stream.mapError(scrub), Stream.withSpan(name, options))
    }
  }

  const countParams = paramsEncoder(TextTokenCountParams, "tokenCount")

  /**
   * A native model's token count, counted here with its tokenizer (there is no count endpoint for
   * native models), in a span.
   */
  const countTokens = (params: unknown): Effect.Effect<number, Errors.NovelAIError> => {
    const model = isRecord(params) && params.model !== undefined ? params.model : options.defaultTextModel
    return Effect.gen(function* () {
      if (isRecord(params))
        yield* checkNames("tokenCount", namesOf(TextTokenCountParams), params, NATIVE_HINTS)
      yield* countParams(params)
      const refused = refuseOnNative(model)
      if (refused !== undefined) {
        return yield* Effect.fail(
          new Errors.InvalidRequestError({
            message: `tokenCount: ${refused}`,
            endpoint: "tokenCount",
            field: "model"
          })
        )
      }
      const tokenizer = yield* options.tokenizers.get(model as string, "tokenCount", "input")
      return tokenizer.encode((params as { input: string }).input).length
    }).pipe(Effect.withSpan("NovelAI.text.tokenCount", span("tokenCount", "token_count", model).options))
  }

  return { call, stream, countTokens }
}
