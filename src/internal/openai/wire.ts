/**
 * What the server sends, and how it becomes the documented shapes. Every shape seen on the wire is
 * accepted here and normalised once; the public modules hold only the documented
 * forms.
 */
import * as Schema from "effect/Schema"
import type { ChatCompletionChunk } from "../../ChatCompletions.js"
import { ChatCompletion } from "../../ChatCompletions.js"
import { Completion, type CompletionChunk } from "../../Completions.js"
import { ModelInfo } from "../../Models.js"
import { Usage } from "../../Sampling.js"
import * as S from "../core/schema.js"
import { splitThinking, stripStrayClose } from "./thinking.js"

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

/** The extra fields of a choice: kept as they come, and surfaced only when they mean something. */
const WireExtras = {
  logprobs: Schema.optional(Schema.Unknown),
  matched_stop: Schema.optional(Schema.Unknown),
  stop_reason: Schema.optional(Schema.Unknown)
}

/** A choice's `logprobs`, `matched_stop` and `stop_reason`, when it carries them (null means none). */
export const extrasOf = (choice: {
  readonly logprobs?: unknown
  readonly matched_stop?: unknown
  readonly stop_reason?: unknown
}): {
  readonly logprobs?: unknown
  readonly matched_stop?: string | number
  readonly stop_reason?: string | number
} => {
  const { logprobs, matched_stop, stop_reason } = choice
  if (logprobs == null && matched_stop == null && stop_reason == null) return NO_EXTRAS
  return {
    ...(logprobs != null ? { logprobs } : {}),
    ...(typeof matched_stop === "string" || typeof matched_stop === "number" ? { matched_stop } : {}),
    ...(typeof stop_reason === "string" || typeof stop_reason === "number" ? { stop_reason } : {})
  }
}
const NO_EXTRAS = {}

const WireChatChoice = Schema.Struct({
  ...WireExtras,
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
          finish_reason: choice.finish_reason ?? null,
          ...extrasOf(choice)
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
      finish_reason: choice.finish_reason ?? null,
      ...extrasOf(choice)
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
      ...WireExtras,
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
    finish_reason: choice.finish_reason ?? null,
    ...extrasOf(choice)
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

const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const optionalString = (u: unknown): u is string | null | undefined =>
  u === undefined || u === null || typeof u === "string"

/**
 * What every common shape starts with: `id`, `created`, `model`, a `choices` array and a `usage` of
 * numbers or none; `undefined` for anything else, left to the schemas.
 */
const commonHeadOf = (
  json: unknown
):
  | {
      readonly id: string
      readonly created: number
      readonly model: string
      readonly choices: ReadonlyArray<unknown>
      readonly usage: Usage | undefined
    }
  | undefined => {
  if (!isObject(json)) return undefined
  const { id, created, model, choices } = json
  if (
    typeof id !== "string" ||
    typeof created !== "number" ||
    typeof model !== "string" ||
    !Array.isArray(choices)
  ) {
    return undefined
  }
  const usage = commonUsageOf(json.usage)
  return usage === false ? undefined : { id, created, model, choices, usage }
}

/**
 * The chunk NovelAI sends for nearly every event of a chat stream (`id`, `created`, `model`,
 * choices with an `index`, a `delta` of strings and a `finish_reason`, and a `usage` of numbers or
 * none), checked and normalised by hand: the same result as {@link ChatWire} and {@link normaliseChatChunk} give, at a
 * fraction of the cost on the hottest path of a stream. Anything else is `undefined`, and left to
 * the schema (a test checks both agree on whatever this accepts).
 */
export const commonChatChunk = (json: unknown): ChatCompletionChunk | undefined => {
  const head = commonHeadOf(json)
  if (head === undefined) return undefined
  const { id, created, model, choices, usage } = head
  const out: Array<ChatCompletionChunk["choices"][number]> = []
  for (const choice of choices) {
    if (!isObject(choice)) return undefined
    const { index, delta, finish_reason } = choice
    if (
      typeof index !== "number" ||
      !isObject(delta) ||
      choice.message !== undefined ||
      choice.text !== undefined ||
      !optionalString(finish_reason)
    ) {
      return undefined
    }
    const { role, content, reasoning_content } = delta
    if (!optionalString(role) || !optionalString(content) || !optionalString(reasoning_content))
      return undefined
    out.push({
      index,
      delta: {
        ...(role ? { role } : {}),
        ...(typeof content === "string" ? { content } : {}),
        ...(reasoning_content ? { reasoning_content } : {})
      },
      finish_reason: finish_reason ?? null,
      ...extrasOf(choice)
    })
  }
  return { id, object: "chat.completion.chunk", created, model, choices: out, ...(usage ? { usage } : {}) }
}

/**
 * No usage (`undefined`), a usage whose counts are all numbers (what {@link UsageFromWire} gives
 * for it), or `false`: another shape, left to the schema.
 */
const commonUsageOf = (u: unknown): Usage | undefined | false => {
  if (u === undefined || u === null) return undefined
  if (!isObject(u)) return false
  const { prompt_tokens, completion_tokens, total_tokens } = u
  return typeof prompt_tokens === "number" &&
    typeof completion_tokens === "number" &&
    typeof total_tokens === "number"
    ? { prompt_tokens, completion_tokens, total_tokens }
    : false
}

/**
 * The common completion chunk (`id`, `created`, `model`, choices with `text`, `index` and
 * `finish_reason`, a `usage` of numbers or none), by hand; see {@link commonChatChunk}.
 */
export const commonCompletionChunk = (json: unknown): CompletionChunk | undefined => {
  const head = commonHeadOf(json)
  if (head === undefined) return undefined
  const { id, created, model, choices, usage } = head
  const out: Array<CompletionChunk["choices"][number]> = []
  for (const choice of choices) {
    if (!isObject(choice)) return undefined
    const { text, index, finish_reason } = choice
    if (
      typeof text !== "string" ||
      typeof index !== "number" ||
      choice.delta !== undefined ||
      !optionalString(finish_reason)
    ) {
      return undefined
    }
    out.push({
      text,
      index,
      finish_reason: finish_reason ?? null,
      ...extrasOf(choice)
    })
  }
  return { id, object: "text_completion", created, model, choices: out, ...(usage ? { usage } : {}) }
}

/**
 * A whole completion from its chunk-shaped form, a stray `</think>` (which leaks into completions)
 * dropped from each text; a stream's are dropped as it goes (see `endpoints.ts`).
 */
export const wholeCompletion = (completion: CompletionChunk): Completion =>
  Completion.make(
    completion.choices.some((choice) => choice.text.includes("</think>"))
      ? {
          ...completion,
          choices: completion.choices.map((choice) => ({ ...choice, text: stripStrayClose(choice.text) }))
        }
      : completion,
    true
  )

/** The common whole completion: the common chunk's shape, as a {@link Completion}. */
export const commonCompletion = (json: unknown): Completion | undefined => {
  const completion = commonCompletionChunk(json)
  return completion === undefined ? undefined : wholeCompletion(completion)
}

/**
 * The common whole chat completion (`id`, `created`, `model`, choices with an `index`, a `message`
 * of strings and a `finish_reason`, and a `usage` of numbers, or none), by hand; see
 * {@link commonChatChunk}.
 */
export const commonChatCompletion = (json: unknown): ChatCompletion | undefined => {
  const head = commonHeadOf(json)
  if (head === undefined) return undefined
  const { id, created, model, choices, usage } = head
  const out: Array<ChatCompletion["choices"][number]> = []
  for (const choice of choices) {
    if (!isObject(choice)) return undefined
    const { index, message, finish_reason } = choice
    if (
      typeof index !== "number" ||
      !isObject(message) ||
      choice.delta !== undefined ||
      choice.text !== undefined ||
      !optionalString(finish_reason)
    ) {
      return undefined
    }
    const { role, content, reasoning_content } = message
    if (!optionalString(role) || !optionalString(content) || !optionalString(reasoning_content))
      return undefined
    out.push({
      index,
      message: {
        role: role ?? "assistant",
        ...splitThinking(content ?? "", reasoning_content ?? undefined)
      },
      finish_reason: finish_reason ?? null,
      ...extrasOf(choice)
    })
  }
  return ChatCompletion.make(
    { id, object: "chat.completion", created, model, choices: out, ...(usage ? { usage } : {}) },
    true
  )
}
