/**
 * Text completions (`POST /oa/v1/completions`): request and response schemas.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as S from "./internal/schema.js"
import { SamplingFields, Usage, UsageFromWire } from "./Sampling.js"

/**
 * Parameters of `completion` and `completionStream`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompletionParams = Schema.Struct({
  prompt: S.string("a string"),
  ...SamplingFields,
  /** Number of completions to generate, an integer >= 1. */
  n: Schema.optional(S.intAtLeast(1))
}).annotations({ identifier: "CompletionParams" })

/**
 * @since 0.1.0
 * @category models
 */
export type CompletionParams = typeof CompletionParams.Type

const Choice = Schema.Struct({
  text: Schema.String,
  index: Schema.Number,
  finish_reason: Schema.NullOr(Schema.String)
})

/**
 * A text completion in the documented `text_completion` form.
 *
 * @since 0.1.0
 * @category schemas
 */
export class Completion extends Schema.Class<Completion>("Completion")({
  id: Schema.String,
  object: Schema.Literal("text_completion"),
  created: Schema.Number,
  model: Schema.String,
  choices: Schema.Array(Choice),
  usage: Schema.optional(Usage)
}) {}

/**
 * A streamed completion chunk: `choices[i].text` carries the new text.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompletionChunk = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("text_completion"),
  created: Schema.Number,
  model: Schema.String,
  choices: Schema.Array(Choice),
  usage: Schema.optional(Usage)
}).annotations({ identifier: "CompletionChunk" })

/**
 * @since 0.1.0
 * @category models
 */
export type CompletionChunk = typeof CompletionChunk.Type

// Only the fields the normaliser reads; `S.nullableString` as in the chat wire schema.
const WireCompletion = Schema.Struct({
  id: Schema.optional(Schema.String),
  created: Schema.optional(Schema.Number),
  model: Schema.optional(Schema.String),
  choices: Schema.Array(
    Schema.Struct({
      text: Schema.optional(S.nullableString),
      delta: Schema.optional(Schema.NullOr(Schema.Struct({ content: Schema.optional(S.nullableString) }))),
      index: Schema.optional(Schema.Number),
      finish_reason: Schema.optional(S.nullableString)
    })
  ),
  usage: Schema.optional(Schema.NullOr(UsageFromWire))
})

/**
 * The completion shapes seen on the wire, before normalisation.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompletionWire = WireCompletion

/**
 * Normalises a decoded wire completion (or chunk) into the documented form.
 *
 * @since 0.1.0
 * @category utils
 */
export const normaliseCompletion = (wire: typeof WireCompletion.Type): CompletionChunk => ({
  id: wire.id ?? "",
  object: "text_completion" as const,
  created: wire.created ?? 0,
  model: wire.model ?? "",
  choices: wire.choices.map((choice, i) => ({
    text: choice.text ?? choice.delta?.content ?? "",
    index: choice.index ?? i,
    finish_reason: choice.finish_reason ?? null
  })),
  ...(wire.usage ? { usage: wire.usage } : {})
})

/**
 * Decodes a completion response into the documented {@link Completion}.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompletionFromWire = Schema.transform(WireCompletion, Schema.typeSchema(Completion), {
  strict: true,
  decode: (wire) => new Completion(normaliseCompletion(wire)),
  encode: (completion) => completion
})

/**
 * Decodes a streamed completion chunk.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompletionChunkFromWire = Schema.transform(WireCompletion, Schema.typeSchema(CompletionChunk), {
  strict: true,
  decode: normaliseCompletion,
  encode: (chunk) => chunk
})
