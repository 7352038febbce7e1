/**
 * Sampling parameters shared by completions and chat completions, written in camelCase and encoded
 * to the wire's snake_case, with the ranges NovelAI accepts.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as S from "./internal/schema.js"

/**
 * The sampling fields as Schema property signatures (camelCase in, snake_case on the wire).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SamplingFields = {
  /** Model id; the client's `defaultModel` (`glm-4-6`) when omitted. */
  model: Schema.optional(S.nonEmptyString("a model id such as glm-4-6")),
  /** Maximum tokens to generate, 1..2048. */
  maxTokens: Schema.optional(S.range(1, 2048, { integer: true })).pipe(Schema.fromKey("max_tokens")),
  /** Sampling temperature, 0..2. */
  temperature: Schema.optional(S.range(0, 2)),
  /** Nucleus sampling threshold, 0..1. */
  topP: Schema.optional(S.range(0, 1)).pipe(Schema.fromKey("top_p")),
  /** Top-K sampling, an integer >= 0. */
  topK: Schema.optional(S.intAtLeast(0)).pipe(Schema.fromKey("top_k")),
  /** Min-P sampling threshold, 0..1. */
  minP: Schema.optional(S.range(0, 1)).pipe(Schema.fromKey("min_p")),
  /** Stop sequences. */
  stop: Schema.optional(S.stop),
  /** Frequency penalty, -2..2. */
  frequencyPenalty: Schema.optional(S.range(-2, 2)).pipe(Schema.fromKey("frequency_penalty")),
  /** Presence penalty, -2..2. */
  presencePenalty: Schema.optional(S.range(-2, 2)).pipe(Schema.fromKey("presence_penalty")),
  /** Random seed, an integer. */
  seed: Schema.optional(S.integer),
  /** Unified sampling: linear term. */
  unifiedLinear: Schema.optional(S.finite).pipe(Schema.fromKey("unified_linear")),
  /** Unified sampling: quadratic term. */
  unifiedQuadratic: Schema.optional(S.finite).pipe(Schema.fromKey("unified_quadratic")),
  /** Unified sampling: cubic term. */
  unifiedCubic: Schema.optional(S.finite).pipe(Schema.fromKey("unified_cubic")),
  /** Unified sampling: entropy-increase linear term. */
  unifiedIncreaseLinearWithEntropy: Schema.optional(S.finite).pipe(
    Schema.fromKey("unified_increase_linear_with_entropy")
  )
}

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
}).annotations({ identifier: "Usage" })

/**
 * @since 0.1.0
 * @category models
 */
export type Usage = typeof Usage.Type

/**
 * A lenient usage decoder: missing counts become 0, a missing total is the sum.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UsageFromWire = Schema.transform(
  Schema.Struct({
    prompt_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
    completion_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
    total_tokens: Schema.optional(Schema.NullOr(Schema.Number))
  }),
  Usage,
  {
    strict: true,
    decode: (u) => {
      const prompt = u.prompt_tokens ?? 0
      const completion = u.completion_tokens ?? 0
      return {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: u.total_tokens ?? prompt + completion
      }
    },
    encode: (u) => u
  }
)

/**
 * Why a choice stopped: usually `"stop"` or `"length"`; `null` while still generating. Open string.
 *
 * @since 0.1.0
 * @category models
 */
export type FinishReason = "stop" | "length" | (string & {}) | null
