/**
 * The native text API on the wire: the request body (parameters under `parameters`, text
 * sequences tokenized for the model), and the answers.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { InvalidRequestError } from "../../Errors.js"
import type { TextGeneration, TextToken } from "../../TextGeneration.js"
import { responseDecoder } from "../core/decode.js"
import { DEFAULT_MAX_LENGTH } from "./defaults.js"
import { encode as encodeText, type Tokenizers } from "./tokenizers.js"

/** The wire's fields that go beside `parameters`, not in it. */
const TOP_LEVEL: ReadonlySet<string> = new Set(["input", "model", "prefix"])

/** Where text sequences may be, by wire field, and their camelCase name for errors. */
const SEQUENCE_LISTS = [
  ["stop_sequences", "stopSequences"],
  ["bad_words_ids", "badWords"]
] as const

const hasText = (list: unknown): boolean => Array.isArray(list) && list.some((s) => typeof s === "string")

/**
 * The request body from the encoded (flat, snake_case) parameters: `{ input, model, parameters,
 * prefix? }`, with `use_string: true`, NovelAI's site defaults for the lengths, and any text
 * sequence tokenized for the model (loading its tokenizer only when there is text to tokenize).
 */
export const body =
  (tokenizers: Tokenizers) =>
  (
    endpoint: string,
    wire: Record<string, unknown>
  ): Effect.Effect<Record<string, unknown>, InvalidRequestError> => {
    const model = wire.model as string
    const top: Record<string, unknown> = {}
    const parameters: Record<string, unknown> = {
      use_string: true,
      max_length: DEFAULT_MAX_LENGTH,
      min_length: 1
    }
    for (const [key, value] of Object.entries(wire)) {
      if (TOP_LEVEL.has(key)) top[key] = value
      else parameters[key] = value
    }
    const make = () => ({ ...top, parameters })
    const bias = parameters.logit_bias_exp as ReadonlyArray<Record<string, unknown>> | undefined
    if (bias !== undefined) {
      parameters.logit_bias_exp = bias.map((entry) => ({
        ensure_sequence_finish: false,
        generate_once: false,
        ...entry
      }))
    }
    const needsTokenizer =
      SEQUENCE_LISTS.some(([field]) => hasText(parameters[field])) ||
      (bias?.some((entry) => typeof entry.sequence === "string") ?? false)
    if (!needsTokenizer) return Effect.succeed(make())
    const field = SEQUENCE_LISTS.find(([wireName]) => hasText(parameters[wireName]))?.[1] ?? "logitBias"
    return Effect.flatMap(tokenizers.get(model, endpoint, field), (tokenizer) => {
      const encode = (
        text: string,
        name: string
      ): Effect.Effect<ReadonlyArray<number>, InvalidRequestError> => {
        return Effect.flatMap(encodeText(tokenizer, text, model, endpoint, name), (ids) =>
          ids.length > 0
            ? Effect.succeed(ids)
            : Effect.fail(
                new InvalidRequestError({
                  message: `${endpoint}: ${name} ${JSON.stringify(text)} is no token for ${model}`,
                  endpoint,
                  field: name
                })
              )
        )
      }
      return Effect.gen(function* () {
        for (const [wireName, name] of SEQUENCE_LISTS) {
          const list = parameters[wireName] as ReadonlyArray<string | ReadonlyArray<number>> | undefined
          if (list === undefined || !hasText(list)) continue
          const out: Array<ReadonlyArray<number>> = []
          for (const sequence of list)
            out.push(typeof sequence === "string" ? yield* encode(sequence, name) : sequence)
          parameters[wireName] = out
        }
        const biases = parameters.logit_bias_exp as ReadonlyArray<Record<string, unknown>> | undefined
        if (biases !== undefined) {
          const out: Array<Record<string, unknown>> = []
          for (const entry of biases) {
            out.push(
              typeof entry.sequence === "string"
                ? { ...entry, sequence: yield* encode(entry.sequence, "logitBias") }
                : entry
            )
          }
          parameters.logit_bias_exp = out
        }
        return make()
      })
    })
  }

/** The answer of `/ai/generate`: `{ output, logprobs? }`, other fields ignored. */
export const GenerationWire = Schema.transform(
  Schema.Struct({
    output: Schema.String,
    logprobs: Schema.optional(Schema.NullOr(Schema.Array(Schema.Unknown)))
  }),
  Schema.Struct({ output: Schema.String, logprobs: Schema.optional(Schema.Array(Schema.Unknown)) }),
  {
    strict: true,
    decode: (wire): TextGeneration =>
      wire.logprobs == null ? { output: wire.output } : { output: wire.output, logprobs: wire.logprobs },
    encode: (generation) => generation
  }
)

/** One `newToken` event of `/ai/generate-stream`: `{ token, ptr, final, logprobs? }`. */
export const TokenWire = Schema.transform(
  Schema.Struct({
    token: Schema.String,
    ptr: Schema.Number,
    final: Schema.optional(Schema.NullOr(Schema.Boolean)),
    logprobs: Schema.optional(Schema.Unknown)
  }),
  Schema.Struct({
    token: Schema.String,
    ptr: Schema.Number,
    final: Schema.Boolean,
    logprobs: Schema.optional(Schema.Unknown)
  }),
  {
    strict: true,
    decode: (wire): TextToken => ({
      token: wire.token,
      ptr: wire.ptr,
      final: wire.final === true,
      ...(wire.logprobs != null ? { logprobs: wire.logprobs } : {})
    }),
    encode: (token) => token
  }
)

export const decodeGeneration = responseDecoder(GenerationWire, "generation")
export const decodeToken = responseDecoder(TokenWire, "token")
