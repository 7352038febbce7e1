/** The sampling fields shared by completions and chat: camelCase in, snake_case on the wire. */
import * as Schema from "effect/Schema"
import type { ModelId } from "../../Models.js"
import * as S from "../core/schema.js"

/** The most choices one request may ask for (`n`): OpenAI's bound, NovelAI's being unknown. */
export const MAX_CHOICES = 128

/** A model id: any non-empty string, typed so that editors complete the known ones. */
export const modelId: Schema.Schema<ModelId> = S.nonEmptyString("a model id such as glm-4-6")

export const SamplingFields = {
  /** Model id; the client's `defaultModel` (`glm-4-6`) when omitted. */
  model: Schema.optional(modelId),
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
  ),
  /**
   * How many choices to generate, an integer from 1 to 128 (OpenAI's bound: NovelAI's is not known,
   * and there is no evidence it honours more than 1 for chat).
   */
  n: Schema.optional(S.range(1, MAX_CHOICES, { integer: true })),
  /** Log probabilities of this many most likely tokens at each position, an integer 0..20. */
  logprobs: Schema.optional(S.range(0, 20, { integer: true })),
  /** Bias added to tokens' logits: token id (a string of digits) to a number from -100 to 100. */
  logitBias: Schema.optional(S.logitBias).pipe(Schema.fromKey("logit_bias")),
  /** Generate this many candidates server-side and return the best, an integer >= 1. */
  bestOf: Schema.optional(S.intAtLeast(1)).pipe(Schema.fromKey("best_of")),
  /** Echo the prompt back before the completion. */
  echo: Schema.optional(S.boolean),
  /** Text that comes after the completion. */
  suffix: Schema.optional(S.string("a string")),
  /** An id for the end user, for the server's abuse monitoring. */
  user: Schema.optional(S.string("a string")),
  /** Text the reply must start with: it is generated after it (and returned with it). */
  generationPrefix: Schema.optional(S.string("a string")).pipe(Schema.fromKey("generation_prefix")),
  /**
   * Server parameters this library does not know yet, sent as they are (snake_case, as the server
   * names them). A key that a typed parameter also sets is refused.
   */
  extraBody: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
      message: () => "must be an object of server parameters, e.g. { some_new_option: 1 }"
    })
  )
}
