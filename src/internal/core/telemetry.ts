/**
 * OpenTelemetry GenAI attributes on the span of every call and stream: what was asked
 * (`gen_ai.request.*`) and what came back (`gen_ai.response.*`, `gen_ai.usage.*`).
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Tracer from "effect/Tracer"

let nativeTracer: Tracer.Tracer | undefined

/**
 * Whether `tracer` records spans anyone can read. Effect's own default tracer keeps nothing: its
 * spans reach no exporter. A span of it still cost about 6 µs a call and, held by an open stream,
 * 1.8 KB (two random ids built a character at a time, a Map of attributes), so under it the
 * client opens none.
 */
const records = (tracer: Tracer.Tracer): boolean => {
  if (nativeTracer === undefined) nativeTracer = Effect.runSync(Effect.tracer)
  return tracer !== nativeTracer
}

/** `effect` in a span named `name` when a tracer records spans; else `effect` as it is. */
export const withSpan =
  (name: string, options: Tracer.SpanOptions) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.tracerWith((tracer) => (records(tracer) ? Effect.withSpan(effect, name, options) : effect))

/** A span named `name` that ends with the scope, when a tracer records spans; else undefined. */
export const makeSpanScoped = (
  name: string,
  options: Tracer.SpanOptions
): Effect.Effect<Tracer.Span | undefined, never, Scope.Scope> =>
  Effect.tracerWith((tracer) =>
    records(tracer) ? Effect.makeSpanScoped(name, options) : Effect.succeed(undefined)
  )

/** `effect` with `span` as its parent, if there is one. */
export const withParentSpan = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  span: Tracer.Span | undefined
): Effect.Effect<A, E, R> => (span === undefined ? effect : Effect.withParentSpan(effect, span))

export const requestAttributes = (operation: string, model: unknown): Record<string, unknown> => ({
  "gen_ai.system": "novelai",
  "gen_ai.operation.name": operation,
  "gen_ai.request.model": typeof model === "string" ? model : "unknown"
})

/** The options of an endpoint's span. */
export const requestSpan = (operation: string, model: unknown) => ({
  kind: "client" as const,
  captureStackTrace: false,
  attributes: requestAttributes(operation, model)
})

/** Token counts as a response reports them. */
export interface TokenUsage {
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly total_tokens?: number | undefined
}

/** What a response said about itself, for its span. */
export interface ResponseSummary {
  readonly id?: string | undefined
  readonly model?: string | undefined
  readonly finishReasons: ReadonlyArray<string>
  readonly usage?: TokenUsage | undefined
}

export const annotateResponse = (span: Tracer.Span | undefined, response: ResponseSummary): void => {
  if (span === undefined) return
  if (response.id) span.attribute("gen_ai.response.id", response.id)
  if (response.model) span.attribute("gen_ai.response.model", response.model)
  if (response.finishReasons.length > 0)
    span.attribute("gen_ai.response.finish_reasons", response.finishReasons)
  if (response.usage !== undefined) {
    span.attribute("gen_ai.usage.input_tokens", response.usage.prompt_tokens)
    span.attribute("gen_ai.usage.output_tokens", response.usage.completion_tokens)
  }
}

/** Annotates `span` with what a whole OpenAI-style result (a completion or chat completion) says. */
export const annotateResult = (
  span: Tracer.Span | undefined,
  result: {
    readonly id: string
    readonly model: string
    readonly usage?: TokenUsage | undefined
    readonly choices: ReadonlyArray<{ readonly finish_reason: string | null }>
  }
): void => {
  if (span === undefined) return
  const finishReasons: Array<string> = []
  for (const choice of result.choices)
    if (choice.finish_reason !== null) finishReasons.push(choice.finish_reason)
  annotateResponse(span, { id: result.id, model: result.model, usage: result.usage, finishReasons })
}
