/**
 * Chat completions (`POST /oa/v1/chat/completions`): request and response schemas.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as S from "./internal/schema.js"
import { SamplingFields, Usage, UsageFromWire } from "./Sampling.js"

const ROLES: ReadonlySet<string> = new Set(["system", "user", "assistant"])

/**
 * One chat message. `content` must be a plain string: the server rejects array content.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatMessage = Schema.Struct({
  role: S.string('"system", "user" or "assistant"').pipe(
    Schema.filter((role): role is "system" | "user" | "assistant" => ROLES.has(role), {
      message: (issue) => `must be "system", "user" or "assistant" (got ${JSON.stringify(issue.actual)})`
    })
  ),
  content: S.string("a string (array content is not supported)"),
  name: Schema.optional(S.string("a string"))
}).annotations({ identifier: "ChatMessage" })

/**
 * @since 0.1.0
 * @category models
 */
export type ChatMessage = typeof ChatMessage.Type

/**
 * Parameters of `chatCompletion` and `chatCompletionStream`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatCompletionParams = Schema.Struct({
  messages: Schema.Array(ChatMessage)
    .annotations({ message: () => "must be an array of { role, content } messages" })
    .pipe(Schema.minItems(1, { message: () => "must contain at least one message" })),
  ...SamplingFields,
  /** Enable thinking / reasoning mode. */
  enableThinking: Schema.optional(S.boolean).pipe(Schema.fromKey("enable_thinking"))
}).annotations({ identifier: "ChatCompletionParams" })

/**
 * @since 0.1.0
 * @category models
 */
export type ChatCompletionParams = typeof ChatCompletionParams.Type

/**
 * The assistant's reply. `reasoning_content` holds the model's thinking when it sent any, whether
 * as a separate field or inline as `<think>...</think>`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AssistantMessage = Schema.Struct({
  role: Schema.String,
  content: Schema.String,
  reasoning_content: Schema.optional(Schema.String)
})

/**
 * A chat completion in the documented `chat.completion` form, whatever shape the server used.
 *
 * @since 0.1.0
 * @category schemas
 */
export class ChatCompletion extends Schema.Class<ChatCompletion>("ChatCompletion")({
  id: Schema.String,
  object: Schema.Literal("chat.completion"),
  created: Schema.Number,
  model: Schema.String,
  choices: Schema.Array(
    Schema.Struct({
      index: Schema.Number,
      message: AssistantMessage,
      finish_reason: Schema.NullOr(Schema.String)
    })
  ),
  usage: Schema.optional(Usage)
}) {}

/**
 * A streamed chat chunk: `choices[i].delta.content` carries the new text.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatCompletionChunk = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("chat.completion.chunk"),
  created: Schema.Number,
  model: Schema.String,
  choices: Schema.Array(
    Schema.Struct({
      index: Schema.Number,
      delta: Schema.Struct({
        role: Schema.optional(Schema.String),
        content: Schema.optional(Schema.String),
        reasoning_content: Schema.optional(Schema.String)
      }),
      finish_reason: Schema.NullOr(Schema.String)
    })
  ),
  usage: Schema.optional(Usage)
}).annotations({ identifier: "ChatCompletionChunk" })

/**
 * @since 0.1.0
 * @category models
 */
export type ChatCompletionChunk = typeof ChatCompletionChunk.Type

// Decoded for every streamed chunk: only the fields the normalisers read, and `S.nullableString` for
// `string | null` (a Union per field cost a fifth of the decoding).
const WireMessage = Schema.Struct({
  role: Schema.optional(S.nullableString),
  content: Schema.optional(S.nullableString),
  reasoning_content: Schema.optional(S.nullableString)
})

const WireChoice = Schema.Struct({
  index: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.NullOr(WireMessage)),
  delta: Schema.optional(Schema.NullOr(WireMessage)),
  text: Schema.optional(S.nullableString),
  finish_reason: Schema.optional(S.nullableString)
})

/** Every chat shape seen on the wire: `chat.completion` or chunk-shaped, with `message`, `delta` or `text`. */
const WireChat = Schema.Struct({
  id: Schema.optional(Schema.String),
  created: Schema.optional(Schema.Number),
  model: Schema.optional(Schema.String),
  choices: Schema.Array(WireChoice),
  usage: Schema.optional(Schema.NullOr(UsageFromWire))
})

const THINK = /^\s*<think>([\s\S]*?)<\/think>\s*/

/**
 * Splits a leading inline `<think>...</think>` block out of the content.
 *
 * @since 0.1.0
 * @category utils
 */
export const splitThinking = (
  content: string,
  reasoning: string | undefined
): { readonly content: string; readonly reasoning_content?: string } => {
  const match = THINK.exec(content)
  const inline = match?.[1]
  const rest = match === null ? content : content.slice(match[0].length)
  const joined = inline === undefined ? reasoning : reasoning === undefined ? inline : reasoning + inline
  return joined === undefined ? { content: rest } : { content: rest, reasoning_content: joined }
}

/**
 * Normalises a decoded wire response of any chat shape into the documented {@link ChatCompletion}.
 *
 * @since 0.1.0
 * @category utils
 */
export const normaliseChatCompletion = (wire: typeof WireChat.Type): ChatCompletion =>
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

/**
 * Decodes any chat response shape the server sends into the documented {@link ChatCompletion}.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatCompletionFromWire = Schema.transform(WireChat, Schema.typeSchema(ChatCompletion), {
  strict: true,
  decode: normaliseChatCompletion,
  encode: (completion) => ({ ...completion, choices: completion.choices, usage: completion.usage })
})

/**
 * The chat shapes seen on the wire, before normalisation (`message`, `delta` or `text` choices).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatWire = WireChat

/**
 * Normalises a decoded wire chunk into a {@link ChatCompletionChunk}: `text` or `message` becomes
 * `delta`, missing fields get their documented defaults.
 *
 * @since 0.1.0
 * @category utils
 */
export const normaliseChatChunk = (wire: typeof WireChat.Type): ChatCompletionChunk => ({
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

/**
 * Decodes a streamed chat chunk; a chunk that carries `text` or `message` instead of `delta` is
 * normalised to `delta`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatCompletionChunkFromWire = Schema.transform(
  WireChat,
  Schema.typeSchema(ChatCompletionChunk),
  {
    strict: true,
    decode: normaliseChatChunk,
    encode: (chunk) => chunk
  }
)
