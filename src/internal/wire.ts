/**
 * What the server sends, and how it becomes the documented shapes. Every shape seen on the wire is
 * accepted here (see WIRE.md) and normalised once; the public modules hold only the documented
 * forms.
 */
import * as Schema from "effect/Schema"
import type { ChatCompletionChunk } from "../ChatCompletions.js"
import { ChatCompletion } from "../ChatCompletions.js"
import type { CompletionChunk } from "../Completions.js"
import { ModelInfo } from "../Models.js"
import { Usage } from "../Sampling.js"
import * as S from "./schema.js"
import { splitThinking } from "./thinking.js"

/** A lenient usage: missing counts become 0, a missing total is the sum. */
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

// Decoded for every streamed chunk: only the fields the normalisers read, and `S.nullableString` for
// `string | null` (a Union per field cost a fifth of the decoding).
const WireMessage = Schema.Struct({
  role: Schema.optional(S.nullableString),
  content: Schema.optional(S.nullableString),
  reasoning_content: Schema.optional(S.nullableString)
})

const WireChatChoice = Schema.Struct({
  index: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.NullOr(WireMessage)),
  delta: Schema.optional(Schema.NullOr(WireMessage)),
  text: Schema.optional(S.nullableString),
  finish_reason: Schema.optional(S.nullableString)
})

/** Every chat shape seen: `chat.completion` or chunk-shaped, with `message`, `delta` or `text`. */
export const ChatWire = Schema.Struct({
  id: Schema.optional(Schema.String),
  created: Schema.optional(Schema.Number),
  model: Schema.optional(Schema.String),
  choices: Schema.Array(WireChatChoice),
  usage: Schema.optional(Schema.NullOr(UsageFromWire))
})

/** Any chat shape as the documented `chat.completion`, with inline thinking split out. */
export const normaliseChatCompletion = (wire: typeof ChatWire.Type): ChatCompletion =>
  ChatCompletion.make(
    {
      id: wire.id ?? "",
      object: "chat.completion",
      created: wire.created ?? 0,
      model: wire.model ?? "",
      choices: wire.choices.map((choice, i) => {
        const source = choice.message ?? choice.delta
        const content = source?.content ?? choice.text ?? ""
        const split = splitThinking(content, source?.reasoning_content ?? undefined)
        return {
          index: choice.index ?? i,
          message: { role: source?.role ?? "assistant", ...split },
          finish_reason: choice.finish_reason ?? null
        }
      }),
      ...(wire.usage ? { usage: wire.usage } : {})
    },
    // The wire schema has checked every field: the class need not validate its own output again.
    true
  )

/** Any chat shape as a `chat.completion.chunk`: `text` or `message` becomes `delta`. */
export const normaliseChatChunk = (wire: typeof ChatWire.Type): ChatCompletionChunk => ({
  id: wire.id ?? "",
  object: "chat.completion.chunk",
  created: wire.created ?? 0,
  model: wire.model ?? "",
  choices: wire.choices.map((choice, i) => {
    const source = choice.delta ?? choice.message
    const content = source?.content ?? choice.text ?? undefined
    return {
      index: choice.index ?? i,
      delta: {
        ...(source?.role ? { role: source.role } : {}),
        ...(content !== undefined && content !== null ? { content } : {}),
        ...(source?.reasoning_content ? { reasoning_content: source.reasoning_content } : {})
      },
      finish_reason: choice.finish_reason ?? null
    }
  }),
  ...(wire.usage ? { usage: wire.usage } : {})
})

/** Every completion shape seen: choices with `text`, or `delta.content`. */
export const CompletionWire = Schema.Struct({
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

/** A completion (or chunk) in the documented `text_completion` form. */
export const normaliseCompletion = (wire: typeof CompletionWire.Type): CompletionChunk => ({
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

const WireModel = Schema.Struct({
  id: Schema.String,
  object: Schema.optional(Schema.NullOr(Schema.String)),
  created: Schema.optional(Schema.NullOr(Schema.Number)),
  owned_by: Schema.optional(Schema.NullOr(Schema.String))
})

/** A model list sent as `{ object: "list", data: [...] }` or as a bare array. */
export const ModelListFromWire = Schema.transform(
  Schema.Union(Schema.Struct({ data: Schema.Array(WireModel) }), Schema.Array(WireModel)),
  Schema.Array(Schema.typeSchema(ModelInfo)),
  {
    strict: true,
    decode: (wire) =>
      ("data" in wire ? wire.data : wire).map(
        (m) =>
          new ModelInfo({
            id: m.id,
            ...(m.object != null ? { object: m.object } : {}),
            ...(m.created != null ? { created: m.created } : {}),
            ...(m.owned_by != null ? { owned_by: m.owned_by } : {})
          })
      ),
    encode: (models) => models
  }
)

const Count = Schema.NonNegativeInt

/**
 * Every token-count shape seen (`{ length, encoded }`, `{ token_count }`, `{ count }`, `{ tokens }`
 * as a number or a token array, a bare number), as a number.
 */
export const TokenCountFromWire = Schema.transform(
  Schema.Union(
    Count,
    Schema.Struct({ length: Count }),
    Schema.Struct({ token_count: Count }),
    Schema.Struct({ count: Count }),
    Schema.Struct({ tokens: Schema.Union(Count, Schema.Array(Schema.Unknown)) }),
    Schema.Struct({ encoded: Schema.Array(Schema.Unknown) })
  ),
  Count,
  {
    strict: true,
    decode: (wire) => {
      if (typeof wire === "number") return wire
      if ("length" in wire) return wire.length
      if ("token_count" in wire) return wire.token_count
      if ("count" in wire) return wire.count
      if ("tokens" in wire) return typeof wire.tokens === "number" ? wire.tokens : wire.tokens.length
      return wire.encoded.length
    },
    encode: (n) => n
  }
)
