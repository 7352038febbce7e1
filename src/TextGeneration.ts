/**
 * NovelAI's native text generation (`POST /ai/generate` and `/ai/generate-stream`), with its own
 * storytelling models (Llama 3 Erato, Kayra): the request and response schemas.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as S from "./internal/core/schema.js"
import { DEFAULT_MAX_LENGTH } from "./internal/native/defaults.js"

/**
 * A native model id: `llama-3-erato-v1` (the default), `kayra-v1`, or any newer id. The GLM models
 * of `/oa/v1` are refused here (NovelAI answers 403).
 *
 * @since 0.1.0
 * @category models
 */
export type TextModelId = "llama-3-erato-v1" | "kayra-v1" | (string & {})

/**
 * The model a native call names none: Llama 3 Erato.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_TEXT_MODEL = "llama-3-erato-v1"

/**
 * The samplers `order` names, in camelCase as the parameters are, with NovelAI's ids.
 *
 * @since 0.1.0
 * @category constants
 */
export const SAMPLERS = {
  temperature: 0,
  topK: 1,
  topP: 2,
  tailFreeSampling: 3,
  topA: 4,
  typicalP: 5,
  cfg: 6,
  topG: 7,
  mirostat: 8,
  unified: 9,
  minP: 10
} as const

/**
 * A sampler in `order`: its name (a key of {@link SAMPLERS}) or its id.
 *
 * @since 0.1.0
 * @category models
 */
export type Sampler = keyof typeof SAMPLERS | (typeof SAMPLERS)[keyof typeof SAMPLERS]

const SAMPLER_IDS: ReadonlyMap<unknown, number> = new Map<unknown, number>([
  ...Object.entries(SAMPLERS),
  ...Object.values(SAMPLERS).map((id) => [id, id] as const)
])

const Order = Schema.transform(
  Schema.Array(Schema.Number),
  Schema.declare(
    (u: unknown): u is ReadonlyArray<Sampler> => Array.isArray(u) && u.every((s) => SAMPLER_IDS.has(s)),
    {
      identifier: "ReadonlyArray<Sampler>",
      message: (issue) => {
        const bad = Array.isArray(issue.actual) ? issue.actual.find((s) => !SAMPLER_IDS.has(s)) : issue.actual
        return `must be an array of samplers, by name (${Object.keys(SAMPLERS).join(", ")}) or id 0..10 (got ${S.show(bad)})`
      }
    }
  ).pipe(
    Schema.filter((order) => new Set(order.map((s) => SAMPLER_IDS.get(s))).size === order.length, {
      message: () => "must name each sampler once"
    })
  ),
  {
    strict: true,
    decode: (ids) => ids as ReadonlyArray<Sampler>,
    encode: (order) => order.map((s) => SAMPLER_IDS.get(s)!)
  }
)

const TokenId = S.intAtLeast(0)

/** A text, or the token ids of one; text is tokenized for the model before sending. */
const Sequence = Schema.Union(
  S.nonEmptyString("a non-empty string or an array of token ids"),
  Schema.NonEmptyArray(TokenId)
).annotations({
  message: () => ({ message: "must be a non-empty string or a non-empty array of token ids", override: true })
})

const sequences = (max: number) =>
  Schema.Array(Sequence).pipe(
    Schema.filter((list) => list.length <= max, { message: () => `must hold at most ${max} sequences` })
  )

/**
 * A logit bias on a sequence: `bias` added to its tokens' logits (negative to avoid it).
 *
 * @since 0.1.0
 * @category schemas
 */
export const LogitBias = Schema.Struct({
  /** The text (tokenized for the model) or token ids to bias. */
  sequence: Sequence,
  /** The bias, from -100 to 100. */
  bias: S.range(-100, 100),
  /** Once the sequence's first token is chosen, finish the sequence. */
  ensureSequenceFinish: Schema.optional(S.boolean).pipe(Schema.fromKey("ensure_sequence_finish")),
  /** Apply the bias only until the sequence is generated once. */
  generateOnce: Schema.optional(S.boolean).pipe(Schema.fromKey("generate_once"))
})

const PHRASE_REP_PEN = ["off", "very_light", "light", "medium", "aggressive", "very_aggressive"] as const

/**
 * The parameters of a native generation, camelCase here and snake_case on the wire (under
 * `parameters`, with `use_string: true` so that input and output are text). Each is range-checked
 * before anything is sent; `stopSequences`, `badWords` and `logitBias` sequences may be text, which
 * is tokenized for the model first (see the README's "Native models").
 *
 * @since 0.1.0
 * @category schemas
 * @example
 * ```ts
 * import { Text } from "effect-novelai"
 *
 * // Continue a story with Erato, stopping at the end of the paragraph.
 * const next = Text.generate({
 *   input: "The lighthouse keeper had not seen a ship in forty days.",
 *   model: "llama-3-erato-v1",
 *   maxLength: 60,
 *   temperature: 1.1,
 *   minP: 0.05,
 *   stopSequences: ["\n\n"]
 * })
 * ```
 */
export const TextGenerateParams = Schema.Struct({
  /** The text to continue, up to 100,000 characters. */
  input: S.string("a string").pipe(
    Schema.filter((s) => s.length <= 100_000, {
      message: (issue) =>
        `must be at most 100,000 characters (got ${typeof issue.actual === "string" ? issue.actual.length : S.show(issue.actual)})`
    })
  ),
  /** Model id; `llama-3-erato-v1` when omitted. */
  model: Schema.optional(S.nonEmptyString("a model id such as llama-3-erato-v1")),
  /** Most tokens to generate, 1..2048 (NovelAI caps it by tier: 150 Tablet and Scroll, 250 Opus). Default 40. */
  maxLength: Schema.optional(S.range(1, 2048, { integer: true })).pipe(Schema.fromKey("max_length")),
  /** Fewest tokens to generate, 1..2048. Default 1. */
  minLength: Schema.optional(S.range(1, 2048, { integer: true })).pipe(Schema.fromKey("min_length")),
  /** Sampling temperature, 0..100. */
  temperature: Schema.optional(S.range(0, 100)),
  /** Top-K sampling, an integer >= 0 (0: off). */
  topK: Schema.optional(S.intAtLeast(0)).pipe(Schema.fromKey("top_k")),
  /** Nucleus sampling, 0..1. */
  topP: Schema.optional(S.range(0, 1)).pipe(Schema.fromKey("top_p")),
  /** Top-A sampling, 0..1. */
  topA: Schema.optional(S.range(0, 1)).pipe(Schema.fromKey("top_a")),
  /** Typical sampling, 0..1. */
  typicalP: Schema.optional(S.range(0, 1)).pipe(Schema.fromKey("typical_p")),
  /** Tail-free sampling, 0..1. */
  tailFreeSampling: Schema.optional(S.range(0, 1)).pipe(Schema.fromKey("tail_free_sampling")),
  /** Min-P sampling, 0..1. */
  minP: Schema.optional(S.range(0, 1)).pipe(Schema.fromKey("min_p")),
  /** Repetition penalty, 0..16 (1: none). */
  repetitionPenalty: Schema.optional(S.range(0, 16)).pipe(Schema.fromKey("repetition_penalty")),
  /** How many tokens back the repetition penalty looks, an integer 0..8192. */
  repetitionPenaltyRange: Schema.optional(S.range(0, 8192, { integer: true })).pipe(
    Schema.fromKey("repetition_penalty_range")
  ),
  /** How the penalty falls off over its range, 0..10. */
  repetitionPenaltySlope: Schema.optional(S.range(0, 10)).pipe(Schema.fromKey("repetition_penalty_slope")),
  /** Frequency penalty, -2..2. */
  repetitionPenaltyFrequency: Schema.optional(S.range(-2, 2)).pipe(
    Schema.fromKey("repetition_penalty_frequency")
  ),
  /** Presence penalty, -2..2. */
  repetitionPenaltyPresence: Schema.optional(S.range(-2, 2)).pipe(
    Schema.fromKey("repetition_penalty_presence")
  ),
  /** Token ids the repetition penalty spares. */
  repetitionPenaltyWhitelist: Schema.optional(Schema.Array(TokenId)).pipe(
    Schema.fromKey("repetition_penalty_whitelist")
  ),
  /** Spare NovelAI's default list of tokens (punctuation and the like) from the penalty. */
  repetitionPenaltyDefaultWhitelist: Schema.optional(S.boolean).pipe(
    Schema.fromKey("repetition_penalty_default_whitelist")
  ),
  /** Phrase repetition penalty. */
  phraseRepPen: Schema.optional(
    Schema.Literal(...PHRASE_REP_PEN).annotations({
      message: (issue) => ({
        message: `must be one of ${PHRASE_REP_PEN.map((p) => JSON.stringify(p)).join(", ")} (got ${S.show(issue.actual)})`,
        override: true
      })
    })
  ).pipe(Schema.fromKey("phrase_rep_pen")),
  /** The order the samplers run in, by name (`"temperature"`, `"minP"`, ...) or id. */
  order: Schema.optional(Order),
  /** Classifier-free guidance scale, 0..10. */
  cfgScale: Schema.optional(S.range(0, 10)).pipe(Schema.fromKey("cfg_scale")),
  /** Mirostat target surprise, 0..10. */
  mirostatTau: Schema.optional(S.range(0, 10)).pipe(Schema.fromKey("mirostat_tau")),
  /** Mirostat learning rate, 0..1. */
  mirostatLr: Schema.optional(S.range(0, 1)).pipe(Schema.fromKey("mirostat_lr")),
  /** Unified sampling, linear term (`math1_temp` on the wire). */
  unifiedLinear: Schema.optional(S.finite).pipe(Schema.fromKey("math1_temp")),
  /** Unified sampling, quadratic term (`math1_quad`). */
  unifiedQuadratic: Schema.optional(S.finite).pipe(Schema.fromKey("math1_quad")),
  /** Unified sampling, entropy scale of the quadratic term (`math1_quad_entropy_scale`). */
  unifiedIncreaseLinearWithEntropy: Schema.optional(S.finite).pipe(
    Schema.fromKey("math1_quad_entropy_scale")
  ),
  /** Sequences that end the generation: text (tokenized for the model) or token ids; at most 1024. */
  stopSequences: Schema.optional(sequences(1024)).pipe(Schema.fromKey("stop_sequences")),
  /** Sequences never to generate: text (tokenized for the model) or token ids; at most 2048. */
  badWords: Schema.optional(sequences(2048)).pipe(Schema.fromKey("bad_words_ids")),
  /** Biases on sequences of tokens. */
  logitBias: Schema.optional(Schema.Array(LogitBias)).pipe(Schema.fromKey("logit_bias_exp")),
  /** Log probabilities of this many most likely tokens at each step, an integer 0..30. */
  numLogprobs: Schema.optional(S.range(0, 30, { integer: true })).pipe(Schema.fromKey("num_logprobs")),
  /** Keep generating past `maxLength` until a sentence ends. */
  generateUntilSentence: Schema.optional(S.boolean).pipe(Schema.fromKey("generate_until_sentence")),
  /** A module (NovelAI's `prefix`, e.g. `"vanilla"`); sent beside the parameters. */
  prefix: Schema.optional(S.nonEmptyString("a module id such as vanilla")),
  /**
   * Server parameters this library does not know yet, sent in `parameters` as they are
   * (snake_case). A key a typed parameter also sets is refused.
   */
  extraBody: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
      message: () => "must be an object of server parameters, e.g. { use_cache: false }"
    })
  )
}).pipe(
  Schema.filter(
    (p) =>
      p.minLength === undefined ||
      p.minLength <= (p.maxLength ?? DEFAULT_MAX_LENGTH) || {
        path: ["minLength"],
        message:
          p.maxLength === undefined
            ? `must not exceed maxLength, whose default is ${DEFAULT_MAX_LENGTH} (${p.minLength} > ${DEFAULT_MAX_LENGTH}): give maxLength too`
            : `must not exceed maxLength (${p.minLength} > ${p.maxLength})`
      }
  ),
  Schema.annotations({ identifier: "effect-novelai/TextGenerateParams" })
)

/**
 * The parameters of a native generation, as you write them.
 *
 * @since 0.1.0
 * @category models
 */
export type TextGenerateParams = typeof TextGenerateParams.Type

/**
 * A whole native generation: the generated `output` (the continuation only) and, when
 * `numLogprobs` asked, the `logprobs` as NovelAI shapes them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TextGeneration = Schema.Struct({
  output: Schema.String,
  logprobs: Schema.optional(Schema.Array(Schema.Unknown))
}).annotations({ identifier: "effect-novelai/TextGeneration" })

/**
 * A whole native generation: `{ output, logprobs? }`.
 *
 * @since 0.1.0
 * @category models
 */
export type TextGeneration = typeof TextGeneration.Type

/**
 * One token of a streamed native generation: its `token` text, its position `ptr`, whether it is
 * the `final` one, and its `logprobs` when asked.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TextToken = Schema.Struct({
  token: Schema.String,
  ptr: Schema.Number,
  final: Schema.Boolean,
  logprobs: Schema.optional(Schema.Unknown)
}).annotations({ identifier: "effect-novelai/TextToken" })

/**
 * One token of a streamed native generation: `{ token, ptr, final, logprobs? }`.
 *
 * @since 0.1.0
 * @category models
 */
export type TextToken = typeof TextToken.Type

/**
 * The parameters of a local token count: the `input` and the `model` whose tokenizer counts it
 * (`llama-3-erato-v1` when omitted).
 *
 * @since 0.1.0
 * @category schemas
 */
export const TextTokenCountParams = Schema.Struct({
  input: S.string("a string"),
  model: Schema.optional(S.nonEmptyString("a model id such as llama-3-erato-v1"))
}).annotations({ identifier: "effect-novelai/TextTokenCountParams" })

/**
 * The parameters of a local token count: `{ input, model? }`.
 *
 * @since 0.1.0
 * @category models
 */
export type TextTokenCountParams = typeof TextTokenCountParams.Type
