/**
 * What completions and chat completions share: the sampling parameters (camelCase, checked against
 * the ranges NovelAI accepts) and the token usage a response reports.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { SamplingFields } from "./internal/openai/sampling.js"

/**
 * The sampling parameters of completions and chat completions: `model`, `maxTokens`,
 * `temperature`, `topP`, `topK`, `minP`, `stop`, `frequencyPenalty`, `presencePenalty`, `seed` and
 * the unified sampler (`unifiedLinear`, `unifiedQuadratic`, `unifiedCubic`,
 * `unifiedIncreaseLinearWithEntropy`). Encodes to the wire's snake_case.
 *
 * @since 0.1.0
 * @category schemas
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SamplingParams } from "effect-novelai"
 *
 * // One set of sampling parameters, reused across calls; the wire names are snake_case.
 * const storyteller: SamplingParams = { temperature: 1.1, topP: 0.95, minP: 0.05, unifiedLinear: 0.3 }
 * console.log(Schema.encodeSync(SamplingParams)(storyteller))
 * // { temperature: 1.1, top_p: 0.95, min_p: 0.05, unified_linear: 0.3 }
 * ```
 */
export const SamplingParams = Schema.Struct(SamplingFields).annotations({
  identifier: "effect-novelai/SamplingParams"
})

/**
 * The sampling parameters, as you write them (camelCase).
 *
 * @since 0.1.0
 * @category models
 */
export type SamplingParams = typeof SamplingParams.Type

/**
 * Token usage, when the server reports it (often missing in streams).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Usage = Schema.Struct({
  prompt_tokens: Schema.Number,
  completion_tokens: Schema.Number,
  total_tokens: Schema.Number
}).annotations({ identifier: "effect-novelai/Usage" })

/**
 * Token usage: `prompt_tokens`, `completion_tokens`, `total_tokens`.
 *
 * @since 0.1.0
 * @category models
 */
export type Usage = typeof Usage.Type

/**
 * What a choice may say besides its text, when the server sends it: `logprobs` (as the server
 * shapes them), `matched_stop` (the stop sequence or token that ended it) and `stop_reason`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChoiceExtras = {
  logprobs: Schema.optional(Schema.Unknown),
  matched_stop: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
  stop_reason: Schema.optional(Schema.Union(Schema.String, Schema.Number))
}
