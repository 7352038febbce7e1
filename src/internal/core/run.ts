/**
 * Endpoints made into calls for one client: parameters checked and encoded once, before anything
 * is sent; each attempt through the transport; retried by the call policy; in a span.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import * as Errors from "../../Errors.js"
import * as Transport from "./attempt.js"
import * as Binary from "./binary.js"
import type { Collector } from "./collect.js"
import { Ended } from "./deadline.js"
import { paramsEncoder } from "./decode.js"
import {
  type ArchiveEndpoint,
  type CallEndpoint,
  type Completion,
  DEFAULT_MAX_RESPONSE_BYTES,
  type FrameStreamEndpoint,
  type ModelRegistry,
  type Price,
  type Pricing,
  refusal,
  type StreamEndpoint
} from "./endpoint.js"
import { closedError, type ErrorContext, scrubError } from "./errors.js"
import type { Runner } from "./family.js"
import type { Resolved } from "./options.js"
import { checkNames, mergeExtra, namesOf } from "./params.js"
import { type CallSettings, type Guard, makeSettings, retryCall, retryPull } from "./policy.js"
import * as Pull from "./pull.js"
import * as Telemetry from "./telemetry.js"
import { requestSpan } from "./telemetry.js"
import type { ZipEntry } from "./zip.js"

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

type Common<S> = Pick<CallEndpoint<unknown, unknown, S>, "models" | "anyModel" | "hints" | "body">

/**
 * The calls and streams of one client's endpoints, on `transport`, with its settings. `registries`:
 * the models of every family the client has, so that a call naming another family's model is
 * refused with where it goes.
 */
export const make = <S extends Resolved>(
  transport: Transport.Transport,
  options: S,
  registries: ReadonlyArray<ModelRegistry<any>>
): Runner<S> => {
  const settings = makeSettings(options)
  const scrub = scrubError(options.scrub)

  /** The model a call names, or its family's default. */
  const modelOf = (endpoint: Pick<Common<S>, "models">, params: unknown): unknown => {
    let model: unknown
    try {
      model = isRecord(params) ? params.model : undefined
    } catch {
      // A getter that throws: prepareWire refuses the parameters.
    }
    return model !== undefined ? model : endpoint.models.defaultModel(options)
  }

  /**
   * The body to send, or the InvalidRequestError that keeps it from being sent: a name the
   * endpoint does not take, a value out of range, a model of the other API, an `extraBody` that
   * clashes, text the model's tokenizer cannot take.
   */
  const prepareWire = (
    endpoint: Common<S>,
    name: string,
    encode: (input: unknown) => Either.Either<unknown, Errors.InvalidRequestError>,
    names: ReadonlySet<string>,
    given: unknown,
    stream: boolean
  ): Effect.Effect<Record<string, unknown>, Errors.InvalidRequestError> => {
    let params = given
    if (isRecord(given)) {
      // The caller's own fields, each read once (as JSON.stringify reads them): a getter asked
      // again could answer otherwise, one that throws is a refusal.
      try {
        params = { ...given }
      } catch {
        return Either.left(
          new Errors.InvalidRequestError({
            message: `${name}: parameters could not be read (reading them threw)`,
            endpoint: name
          })
        )
      }
      const unknown = checkNames(name, names, params as Record<string, unknown>, endpoint.hints)
      if (Either.isLeft(unknown)) return Either.left(unknown.left)
    }
    const model = modelOf(endpoint, params)
    const refused = endpoint.anyModel ? undefined : refusal(endpoint.models, registries, model)
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
    if (endpoint.body === undefined)
      return stream ? Either.map(wire, (wire) => ({ ...wire, stream: true })) : wire
    const body = endpoint.body(options)
    return Effect.flatMap(wire, (wire) => body(name, wire))
  }

  /** The request with its encoded body, or the InvalidRequestError that keeps it from being sent. */
  const prepare = (
    endpoint: Common<S> & { readonly method?: "GET" | "POST" },
    name: string,
    encode: ((input: unknown) => Either.Either<unknown, Errors.InvalidRequestError>) | undefined,
    names: ReadonlySet<string>,
    base: HttpClientRequest.HttpClientRequest,
    params: unknown,
    stream: boolean
  ): Effect.Effect<HttpClientRequest.HttpClientRequest, Errors.InvalidRequestError> => {
    if (encode === undefined) return Either.right(base)
    const wire = prepareWire(endpoint, name, encode, names, params, stream)
    // A GET has no body: its parameters are its query.
    const finish =
      endpoint.method === "GET"
        ? (wire: Record<string, unknown>) =>
            HttpClientRequest.setUrlParams(base, wire as Record<string, string | number | boolean>)
        : (wire: Record<string, unknown>) => HttpClientRequest.bodyUnsafeJson(base, wire)
    // An Either stays one: most calls are prepared without running an effect.
    return Either.isEither(wire)
      ? Either.map(wire as Either.Either<Record<string, unknown>, Errors.InvalidRequestError>, finish)
      : Effect.map(wire, finish)
  }

  const context = (name: string): ErrorContext => ({ endpoint: name, scrub: options.scrub })

  /** The cap on what one call of `endpoint` reads: the call's or the client's, else the endpoint's. */
  const limitOf =
    (endpoint: Pick<CallEndpoint<unknown, unknown, S>, "host" | "maxResponseBytes">) =>
    (settings: CallSettings): number =>
      settings.maxResponseBytes ?? endpoint.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES[endpoint.host]

  /**
   * A paid call's price for the client's `account` (the upper bound without one), on its span
   * (`novelai.anlas.estimated`), and its budget (`maxAnlas`, `freeOnly`), checked before anything is
   * sent.
   */
  const budget = (
    name: string,
    price: Pricing | undefined,
    params: unknown,
    settings: CallSettings
  ): Effect.Effect<void, Errors.BudgetExceededError> => {
    if (price === undefined) return Effect.void
    const estimate = price(params, options.account)
    return Effect.zipRight(
      Effect.annotateCurrentSpan("novelai.anlas.estimated", estimate.anlas),
      check(name, estimate, settings)
    )
  }

  const check = (
    name: string,
    estimate: Price,
    settings: CallSettings
  ): Either.Either<void, Errors.BudgetExceededError> => {
    const refuse = (why: string, maxAnlas?: number) =>
      Either.left(
        new Errors.BudgetExceededError({
          message: `${name}: ${why} (${estimate.detail})`,
          endpoint: name,
          anlas: estimate.anlas,
          maxAnlas
        })
      )
    if (settings.freeOnly && !estimate.free) {
      return refuse(
        options.account === undefined
          ? `freeOnly: this call costs ${estimate.anlas} Anlas unless a free rule covers it, and the client knows no account to apply one to (give the client's account option: { tier: 3 } for Opus, or the Account.subscription() answer)`
          : `freeOnly: this call is not free for this account; it is estimated at ${estimate.anlas} Anlas`
      )
    }
    if (settings.maxAnlas !== undefined && estimate.anlas > settings.maxAnlas) {
      return refuse(
        `estimated at ${estimate.anlas} Anlas, over maxAnlas ${settings.maxAnlas}${options.account === undefined ? " (priced without an account, so no free rule applied)" : ""}`,
        settings.maxAnlas
      )
    }
    return Either.void
  }

  /** The retrying part of a call, ended at once with a ClientClosedError when the client closes. */
  const guard =
    (context: ErrorContext): Guard =>
    (effect) =>
      Effect.mapError(transport.deadlines.guard(effect), (error) =>
        error instanceof Ended ? closedError(context) : error
      )

  const scrubEnd = Option.map(scrub)

  /**
   * A stream in a span named `NovelAI.<name>` that ends with it: one `Stream` over the pull `open`
   * gives in the stream's scope (see `pull.ts`), its errors scrubbed.
   */
  const spanned = <A>(
    name: string,
    spanOptions: Tracer.SpanOptions,
    open: (span: Tracer.Span | undefined) => Pull.Open<A, Errors.NovelAIError>
  ): Stream.Stream<A, Errors.NovelAIError> =>
    Pull.fromOpen(
      Effect.flatMap(Telemetry.makeSpanScoped(`NovelAI.${name}`, spanOptions), open).pipe(
        Effect.mapBoth({ onFailure: scrub, onSuccess: (pull) => Effect.mapError(pull, scrubEnd) })
      )
    )

  /** The attempts of a call whose answer is one JSON document, retried by its policy. */
  const callAttempts = <P, A>(endpoint: CallEndpoint<P, A, S>) => {
    const exchangeContext = context(endpoint.name)
    const encode =
      endpoint.params === undefined
        ? undefined
        : paramsEncoder(endpoint.params, endpoint.name, endpoint.fastFields)
    const names = endpoint.params === undefined ? new Set<string>() : namesOf(endpoint.params)
    const decode = endpoint.decode(endpoint.name)
    const limit = limitOf(endpoint)
    const base = (endpoint.method === "GET" ? HttpClientRequest.get : HttpClientRequest.post)(
      transport.http.url(endpoint.host, endpoint.path)
    ).pipe(HttpClientRequest.acceptJson)
    return (params: unknown, settings: CallSettings): Effect.Effect<A, Errors.NovelAIError> =>
      Effect.flatMap(prepare(endpoint, endpoint.name, encode, names, base, params, false), (request) =>
        retryCall(
          Transport.call(
            transport,
            { context: exchangeContext, request, slot: endpoint.slot, limit: limit(settings) },
            decode,
            settings.timeout
          ),
          settings.policy,
          guard(exchangeContext)
        )
      )
  }

  /**
   * The opening of a streaming call, named `name` in its errors, in the stream's scope: its
   * attempts are retried only while none has emitted a chunk, so generated text is never repeated
   * or spliced; each runs in `span`.
   */
  const streamAttempts = <P, A>(endpoint: StreamEndpoint<P, A, S>, name: string) => {
    const exchange = streamExchange(endpoint, name)
    return (
      params: unknown,
      settings: CallSettings,
      span: Tracer.Span | undefined
    ): Pull.Open<A, Errors.NovelAIError> =>
      Effect.flatMap(exchange.prepare(params), ([request, spec]) =>
        retryPull(
          Telemetry.withParentSpan(
            Transport.open(transport, exchange.of(request, settings), spec, settings),
            span
          ),
          settings.policy,
          exchange.guard
        )
      )
  }

  /** What each attempt of a streaming endpoint needs: its request, its spec, its guard. */
  const streamExchange = <P, A>(endpoint: StreamEndpoint<P, A, S>, name: string) => {
    const exchangeContext = context(name)
    const encode =
      endpoint.params === undefined ? undefined : paramsEncoder(endpoint.params, name, endpoint.fastFields)
    const names = endpoint.params === undefined ? new Set<string>() : namesOf(endpoint.params)
    const decode = endpoint.decode(name)
    const limit = limitOf(endpoint)
    const base = HttpClientRequest.post(transport.http.url(endpoint.host, endpoint.path)).pipe(
      HttpClientRequest.setHeader("accept", "text/event-stream")
    )
    return {
      guard: guard(exchangeContext),
      of: (request: HttpClientRequest.HttpClientRequest, settings: CallSettings): Transport.Exchange => ({
        context: exchangeContext,
        request,
        slot: endpoint.slot,
        limit: limit(settings)
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
            doneData: endpoint.doneData,
            parts: endpoint.parts(isRecord(params) ? params : {}),
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
  const collectAttempts = <P, C, A>(
    endpoint: StreamEndpoint<P, C, S>,
    name: string,
    collector: (params: Record<string, unknown>) => Collector<C, A>
  ) => {
    const exchange = streamExchange(endpoint, name)
    return (params: unknown, settings: CallSettings): Effect.Effect<A, Errors.NovelAIError> =>
      Effect.flatMap(exchange.prepare(params), ([request, spec]) =>
        retryCall(
          Effect.suspend(() => {
            const collected = collector(isRecord(params) ? params : {})
            return Effect.as(
              Transport.collect(transport, exchange.of(request, settings), spec, settings, collected.add),
              collected
            )
          }).pipe(Effect.map((collected) => collected.result())),
          settings.policy,
          exchange.guard
        )
      )
  }

  /**
   * A call whose answer is one JSON document, in a span. With `collected`, it is answered by
   * collecting a stream instead when the call's `collectStream` says so (by default, the
   * endpoint's `byDefault`): one request, the same result.
   */
  const call = <P, A>(
    endpoint: CallEndpoint<P, A, S>,
    collected?: {
      readonly stream: StreamEndpoint<P, any, S>
      readonly collector: (params: Record<string, unknown>) => Collector<any, A>
      readonly byDefault: boolean
    }
  ) => {
    const attempts = callAttempts(endpoint)
    const streamed =
      collected === undefined
        ? undefined
        : collectAttempts(collected.stream, endpoint.name, collected.collector)
    return (params: unknown, callOptions: unknown): Effect.Effect<A, Errors.NovelAIError> => {
      const spanOptions = requestSpan(
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
        Telemetry.withSpan(`NovelAI.${endpoint.name}`, spanOptions)
      )
    }
  }

  /**
   * A streaming call, in a span that ends with the stream: one `Stream` over one pull (see
   * `pull.ts`), its errors scrubbed.
   */
  const stream = <P, A>(endpoint: StreamEndpoint<P, A, S>) => {
    const attempts = streamAttempts(endpoint, endpoint.name)
    return (params: unknown, callOptions: unknown): Stream.Stream<A, Errors.NovelAIError> =>
      spanned(endpoint.name, requestSpan(endpoint.operation, modelOf(endpoint, params)), (span) =>
        Effect.flatMap(settings(endpoint.name, callOptions), (settings) => attempts(params, settings, span))
      )
  }

  /**
   * A call answered by a ZIP archive, in a span: checked and encoded once, each attempt through the
   * gate, the result made from the archive's entries and the body that was sent.
   */
  /**
   * How an archive or frame-stream endpoint's wire body is made for a call: its parameters checked and encoded, its
   * price checked against the budget, and any completion (see `completed`) run. `stream`: whether
   * the body is sent to a streaming endpoint.
   */
  const wireFor = (
    endpoint: ArchiveEndpoint<any, any, S> | FrameStreamEndpoint<any, any, S>,
    stream: boolean
  ) => {
    const encode = paramsEncoder(endpoint.params!, endpoint.name, endpoint.fastFields)
    const names = namesOf(endpoint.params!)
    const completion = endpoint.complete?.(runner)
    return (params: unknown, callOptions: unknown, settings: CallSettings) =>
      completed(
        completion,
        endpoint.name,
        params,
        callOptions,
        (given) => prepareWire(endpoint, endpoint.name, encode, names, given, stream),
        (given) => budget(endpoint.name, endpoint.price, given, settings)
      )
  }

  const archive = <P, A>(endpoint: ArchiveEndpoint<P, A, S>) => {
    const exchangeContext = context(endpoint.name)
    const wireOf = wireFor(endpoint, false)
    const decode = endpoint.decode(endpoint.name)
    const url = transport.http.url(endpoint.host, endpoint.path)
    const limit = limitOf(endpoint)
    return (params: unknown, callOptions: unknown): Effect.Effect<A, Errors.NovelAIError> =>
      Effect.flatMap(settings(endpoint.name, callOptions), (settings) =>
        Effect.flatMap(wireOf(params, callOptions, settings), (wire) => {
          const request = HttpClientRequest.bodyUnsafeJson(HttpClientRequest.post(url), wire)
          const read = {
            paid: endpoint.paid,
            keep: endpoint.keep,
            raw: endpoint.raw,
            decode: (entries: ReadonlyArray<ZipEntry>) => decode(entries, wire)
          }
          return retryCall(
            Binary.archive(
              transport,
              { context: exchangeContext, request, slot: endpoint.slot, limit: limit(settings) },
              read,
              settings.timeout
            ),
            settings.policy,
            guard(exchangeContext)
          )
        })
      ).pipe(
        Effect.mapError(scrub),
        Telemetry.withSpan(
          `NovelAI.${endpoint.name}`,
          requestSpan(endpoint.operation, modelOf(endpoint, params))
        )
      )
  }

  /**
   * A stream of frames, in a span. The request lives in the stream; a failure is retried only
   * while no chunk has been emitted, so a generation whose events have started is never run twice.
   */
  const frames = <P, A>(endpoint: FrameStreamEndpoint<P, A, S>) => {
    const exchangeContext = context(endpoint.name)
    const wireOf = wireFor(endpoint, true)
    const decode = endpoint.decode(endpoint.name)
    const base = HttpClientRequest.post(transport.http.url(endpoint.host, endpoint.path)).pipe(
      HttpClientRequest.setHeader("accept", endpoint.accept)
    )
    const limit = limitOf(endpoint)
    return (params: unknown, callOptions: unknown): Stream.Stream<A, Errors.NovelAIError> =>
      spanned(endpoint.name, requestSpan(endpoint.operation, modelOf(endpoint, params)), (span) =>
        Telemetry.withParentSpan(
          Effect.flatMap(settings(endpoint.name, callOptions), (settings) =>
            Effect.flatMap(wireOf(params, callOptions, settings), (wire) => {
              const bodyLimit = limit(settings)
              const spec: Binary.FrameSpec<A> = {
                context: exchangeContext,
                limit: Math.min(endpoint.frameLimit, bodyLimit),
                paid: endpoint.paid,
                decode: (frame) => decode(frame, wire),
                observe: endpoint.observe,
                parts: endpoint.parts(wire),
                ending: endpoint.ending
              }
              const exchange = {
                context: exchangeContext,
                request: HttpClientRequest.bodyUnsafeJson(base, wire),
                slot: endpoint.slot,
                limit: bodyLimit
              }
              return retryPull(
                Telemetry.withParentSpan(Binary.openFrames(transport, exchange, spec, settings), span),
                settings.policy,
                guard(exchangeContext)
              )
            })
          ),
          span
        )
      )
  }

  const runner: Runner<S> = { settings: options, call, stream, archive, frames }
  return runner
}

/**
 * The checked wire body of a call, its budget passed; with a completion (see `Completion`), the
 * parameters are first filled in from what the client holds (so the price counts it), and the
 * body's missing parts fetched once the checks and the budget passed, before anything of the
 * call itself is sent.
 */
const completed = (
  completion: Completion | undefined,
  name: string,
  params: unknown,
  callOptions: unknown,
  prepare: (params: unknown) => Effect.Effect<Record<string, unknown>, Errors.InvalidRequestError>,
  budget: (params: unknown) => Effect.Effect<void, Errors.BudgetExceededError>
): Effect.Effect<Record<string, unknown>, Errors.NovelAIError> => {
  if (completion === undefined) return Effect.tap(prepare(params), () => budget(params))
  const given = completion.params(params)
  return Effect.flatMap(
    Effect.tap(prepare(given), () => budget(given)),
    (wire) => completion.wire(name, wire, callOptions)
  )
}
