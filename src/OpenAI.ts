/**
 * The `/oa/v1` calls as accessors that take the {@link NovelAIClient.NovelAIClient} from the
 * context, plus helpers for streams: `yield* OpenAI.chatCompletion({ messages })`.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ChatCompletionChunk, ChatCompletion as ChatCompletionClass } from "./ChatCompletions.js"
import type { Completion, CompletionChunk } from "./Completions.js"
import * as Client from "./internal/client.js"
import * as Family from "./internal/core/family.js"
import * as Collect from "./internal/openai/collect.js"
import { NovelAIClient } from "./NovelAIClient.js"

type Accessors = Family.Accessors<Client.Families["openai"], NovelAIClient>

const accessors: Accessors = Family.makeAccessors(
  NovelAIClient,
  (client) => client.openai,
  Client.families.openai
)

/**
 * The available models.
 *
 * @since 0.1.0
 * @category accessors
 */
export const listModels: Accessors["listModels"] = accessors.listModels

/**
 * A text completion.
 *
 * @since 0.1.0
 * @category accessors
 */
export const completion: Accessors["completion"] = accessors.completion

/**
 * A streamed text completion: chunks carry `choices[i].text`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const completionStream: Accessors["completionStream"] = accessors.completionStream

/**
 * A chat completion: the reply is `choices[0].message.content`.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OpenAI } from "effect-novelai"
 *
 * const program = Effect.gen(function* () {
 *   const reply = yield* OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hello!" }] })
 *   return reply.choices[0].message.content
 * })
 * ```
 */
export const chatCompletion: Accessors["chatCompletion"] = accessors.chatCompletion

/**
 * A streamed chat completion: chunks carry `choices[i].delta.content`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const chatCompletionStream: Accessors["chatCompletionStream"] = accessors.chatCompletionStream

/**
 * How many tokens `prompt` is for a model.
 *
 * @since 0.1.0
 * @category accessors
 */
export const tokenCount: Accessors["tokenCount"] = accessors.tokenCount

/**
 * The new text of each chunk of the first choice (`delta.content` for chat, `text` for
 * completions), skipping chunks that carry none. For chat, the answer only: thinking goes to
 * {@link reasoningDeltas}.
 *
 * @since 0.1.0
 * @category streams
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { OpenAI } from "effect-novelai"
 *
 * const printed = OpenAI.chatCompletionStream({ messages: [{ role: "user", content: "Hi" }] }).pipe(
 *   OpenAI.textDeltas,
 *   Stream.runForEach((text) => Effect.sync(() => process.stdout.write(text)))
 * )
 * ```
 */
export const textDeltas = <E, R>(
  stream: Stream.Stream<ChatCompletionChunk | CompletionChunk, E, R>
): Stream.Stream<string, E, R> =>
  Stream.filterMap(stream, (chunk) => {
    const choice: AnyChoice | undefined = firstChoice<AnyChoice>(chunk.choices)
    if (choice === undefined) return noText
    const text = "delta" in choice ? choice.delta.content : choice.text
    return text === undefined || text === "" ? noText : someText(text)
  })

/**
 * The model's thinking in a chat stream, as it arrives: `delta.reasoning_content` of the first
 * choice, whether the server sent it apart or inline as `<think>...</think>` (which the client
 * splits out of the answer, across chunk boundaries). `textDeltas` gives the answer alone.
 *
 * @since 0.1.0
 * @category streams
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { OpenAI } from "effect-novelai"
 *
 * const thinking = OpenAI.chatCompletionStream({
 *   messages: [{ role: "user", content: "Why is the sky blue?" }],
 *   enableThinking: true
 * }).pipe(OpenAI.reasoningDeltas, Stream.mkString)
 * ```
 */
export const reasoningDeltas = <E, R>(
  stream: Stream.Stream<ChatCompletionChunk, E, R>
): Stream.Stream<string, E, R> =>
  Stream.filterMap(stream, (chunk) => {
    const text = firstChoice(chunk.choices)?.delta.reasoning_content
    return text === undefined || text === "" ? noText : someText(text)
  })

type AnyChoice = ChatCompletionChunk["choices"][number] | CompletionChunk["choices"][number]

const noText = Option.none<string>()

/** Choice 0; with `n > 1`, chunks of other choices carry none. */
const firstChoice = <C extends { readonly index: number }>(choices: ReadonlyArray<C>): C | undefined => {
  for (const choice of choices) if (choice.index === 0) return choice
  return undefined
}
const someText = Option.some<string>

/**
 * Folds a chat stream into the same {@link ChatCompletion} `chatCompletion` returns: contents and
 * reasoning concatenated per choice, the last `finish_reason`, `matched_stop` and `stop_reason`,
 * `logprobs` merged, the last `usage`.
 *
 * @since 0.1.0
 * @category streams
 */
export const collectChatCompletion: <E, R>(
  stream: Stream.Stream<ChatCompletionChunk, E, R>
) => Effect.Effect<ChatCompletionClass, E, R> = Collect.chat

/**
 * Folds a completion stream into the same {@link Completion} `completion` returns.
 *
 * @since 0.1.0
 * @category streams
 */
export const collectCompletion: <E, R>(
  stream: Stream.Stream<CompletionChunk, E, R>
) => Effect.Effect<Completion, E, R> = Collect.completion
