/**
 * Chat completions (`POST /oa/v1/chat/completions`): the request and response schemas.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as S from "./internal/core/schema.js"
import { SamplingFields } from "./internal/openai/sampling.js"
import { ChoiceExtras, Usage } from "./Sampling.js"

const ROLES: ReadonlySet<string> = new Set(["system", "user", "assistant"])

/**
 * A text part of a message's content, as OpenAI's API has them: `{ type: "text", text }`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TextPart {
  readonly type: "text"
  readonly text: string
}

const isTextPart = (u: unknown): u is TextPart =>
  typeof u === "object" &&
  u !== null &&
  (u as { type?: unknown }).type === "text" &&
  typeof (u as { text?: unknown }).text === "string"

const kind = (u: unknown): string =>
  typeof u === "object" && u !== null && typeof (u as { type?: unknown }).type === "string"
    ? (u as { type: string }).type === "text"
      ? "a text part without a string text"
      : `a part of type ${S.show((u as { type: string }).type)}`
    : Array.isArray(u)
      ? "an array"
      : u === null
        ? "null"
        : `a ${typeof u}`

/**
 * A message's content as given: a string, or OpenAI-style text parts. NovelAI takes only a string
 * ("cannot unmarshal array into Go struct field"): parts are sent as one, joined by newlines.
 */
const Content = Schema.transform(
  Schema.String,
  Schema.declare(
    (u: unknown): u is string | ReadonlyArray<TextPart> =>
      typeof u === "string" || (Array.isArray(u) && u.every(isTextPart)),
    {
      identifier: "string | ReadonlyArray<TextPart>",
      message: (issue) => {
        const actual = issue.actual
        if (!Array.isArray(actual)) return `must be a string or an array of text parts (got ${kind(actual)})`
        const at = actual.findIndex((part) => !isTextPart(part))
        return `must be text: part ${at} is ${kind(actual[at])}, and NovelAI takes text only ({ type: "text", text })`
      }
    }
  ),
  {
    strict: true,
    decode: (text) => text,
    encode: (content) => (typeof content === "string" ? content : content.map((part) => part.text).join("\n"))
  }
)

/**
 * One chat message. `content` is a string, or OpenAI-style text parts (`[{ type: "text", text }]`),
 * sent as one string since NovelAI takes nothing else; an image or any other part is refused.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChatMessage = Schema.Struct({
  role: S.string('"system", "user" or "assistant"').pipe(
    Schema.filter((role): role is "system" | "user" | "assistant" => ROLES.has(role), {
      message: (issue) => `must be "system", "user" or "assistant" (got ${S.show(issue.actual)})`
    })
  ),
  content: Content,
  name: Schema.optional(S.string("a string"))
}).annotations({ identifier: "effect-novelai/ChatMessage" })

/**
 * One chat message: `{ role, content, name? }`.
 *
 * @since 0.1.0
 * @category models
 */
export type ChatMessage = typeof ChatMessage.Type

/**
 * Parameters of `chatCompletion` and `chatCompletionStream`: `messages`, the sampling parameters
 * (see `Sampling.SamplingParams`) and `enableThinking`.
 *
 * @since 0.1.0
 * @category schemas
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ChatCompletions } from "effect-novelai"
 *
 * // camelCase in, the wire's snake_case out, ranges checked on the way.
 * const body = Schema.encodeSync(ChatCompletions.ChatCompletionParams)({
 *   messages: [{ role: "user", content: "Hello!" }],
 *   maxTokens: 100
 * })
 * console.log(body.max_tokens) // 100
 * ```
 */
export const ChatCompletionParams = Schema.Struct({
  messages: Schema.Array(ChatMessage)
    .annotations({ message: () => "must be an array of { role, content } messages" })
    .pipe(Schema.minItems(1, { message: () => "must contain at least one message" })),
  ...SamplingFields,
  /** Enable thinking / reasoning mode. */
  enableThinking: Schema.optional(S.boolean).pipe(Schema.fromKey("enable_thinking"))
}).annotations({ identifier: "effect-novelai/ChatCompletionParams" })

/**
 * The parameters of a chat completion, as you write them (camelCase).
 *
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
}).annotations({ identifier: "effect-novelai/AssistantMessage" })

/**
 * A chat completion in the documented `chat.completion` form, whatever shape the server used.
 *
 * @since 0.1.0
 * @category schemas
 */
export class ChatCompletion extends Schema.Class<ChatCompletion>("effect-novelai/ChatCompletion")({
  id: Schema.String,
  object: Schema.Literal("chat.completion"),
  created: Schema.Number,
  model: Schema.String,
  choices: Schema.Array(
    Schema.Struct({
      index: Schema.Number,
      message: AssistantMessage,
      finish_reason: Schema.NullOr(Schema.String),
      ...ChoiceExtras
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
      finish_reason: Schema.NullOr(Schema.String),
      ...ChoiceExtras
    })
  ),
  usage: Schema.optional(Usage)
}).annotations({ identifier: "effect-novelai/ChatCompletionChunk" })

/**
 * One chunk of a streamed chat completion.
 *
 * @since 0.1.0
 * @category models
 */
export type ChatCompletionChunk = typeof ChatCompletionChunk.Type
