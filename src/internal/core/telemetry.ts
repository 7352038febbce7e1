/**
 * OpenTelemetry GenAI attributes on the span of every call and stream: what was asked
 * (`gen_ai.request.*`) and what came back (`gen_ai.response.*`, `gen_ai.usage.*`).
 */
import type * as Tracer from "effect/Tracer"

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
