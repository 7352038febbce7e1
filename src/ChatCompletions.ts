/**
 * Chat completions (`POST /oa/v1/chat/completions`): the request and response schemas.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { SamplingFields } from "./internal/sampling.js"
import * as S from "./internal/schema.js"
import { Usage } from "./Sampling.js"

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
}).annotations({ identifier: "effect-novelai/ChatCompletionChunk" })

/**
 * One chunk of a streamed chat completion.
 *
 * @since 0.1.0
 * @category models
 */
export type ChatCompletionChunk = typeof ChatCompletionChunk.Type
