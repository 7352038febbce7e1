/**
 * Text completions (`POST /oa/v1/completions`): the request and response schemas.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as S from "./internal/core/schema.js"
import { SamplingFields } from "./internal/openai/sampling.js"
import { ChoiceExtras, Usage } from "./Sampling.js"

/**
 * Parameters of `completion` and `completionStream`: `prompt`, the sampling parameters (see
 * `Sampling.SamplingParams`) and `n`.
 *
 * @since 0.1.0
 * @category schemas
 * @example
 * ```ts
 * import { Either, Schema } from "effect"
 * import { CompletionParams } from "effect-novelai"
 *
 * // Ranges are checked before anything is sent: maxTokens is 1..2048.
 * const checked = Schema.encodeEither(CompletionParams)({ prompt: "Once upon a time", maxTokens: 5000 })
 * console.log(Either.isLeft(checked)) // true
 * ```
 */
export const CompletionParams = Schema.Struct({
  prompt: S.string("a string"),
  ...SamplingFields
}).annotations({ identifier: "effect-novelai/CompletionParams" })

/**
 * The parameters of a text completion, as you write them (camelCase).
 *
 * @since 0.1.0
 * @category models
 */
export type CompletionParams = typeof CompletionParams.Type

const Choice = Schema.Struct({
  text: Schema.String,
  index: Schema.Number,
  finish_reason: Schema.NullOr(Schema.String),
  ...ChoiceExtras
})

/**
 * A text completion in the documented `text_completion` form.
 *
 * @since 0.1.0
 * @category schemas
 */
export class Completion extends Schema.Class<Completion>("effect-novelai/Completion")({
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
}).annotations({ identifier: "effect-novelai/CompletionChunk" })

/**
 * One chunk of a streamed text completion.
 *
 * @since 0.1.0
 * @category models
 */
export type CompletionChunk = typeof CompletionChunk.Type
