/**
 * The `/oa/v1` calls as accessors that take the {@link NovelAIClient.NovelAIClient} from the
 * context, plus helpers for streams: `yield* OpenAI.chatCompletion({ messages })`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import {
  ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletion as ChatCompletionClass,
  type ChatCompletionParams
} from "./ChatCompletions.js"
import { Completion, type CompletionChunk, type CompletionParams } from "./Completions.js"
import type { NovelAIError } from "./Errors.js"
import { splitThinking } from "./internal/thinking.js"
import type { ModelInfo } from "./Models.js"
import { type CallOptions, NovelAIClient } from "./NovelAIClient.js"
import type { Usage } from "./Sampling.js"
import type { TokenCountParams } from "./TokenCount.js"

/**
 * The available models.
 *
 * @since 0.1.0
 * @category accessors
 */
export const listModels = (
  options?: CallOptions
): Effect.Effect<ReadonlyArray<ModelInfo>, NovelAIError, NovelAIClient> =>
  Effect.flatMap(NovelAIClient, (client) => client.openai.listModels(options))

/**
 * A text completion.
 *
 * @since 0.1.0
 * @category accessors
 */
export const completion = (
  params: CompletionParams,
  options?: CallOptions
): Effect.Effect<Completion, NovelAIError, NovelAIClient> =>
  Effect.flatMap(NovelAIClient, (client) => client.openai.completion(params, options))

/**
 * A streamed text completion: chunks carry `choices[i].text`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const completionStream = (
  params: CompletionParams,
  options?: CallOptions
): Stream.Stream<CompletionChunk, NovelAIError, NovelAIClient> =>
  Stream.unwrap(Effect.map(NovelAIClient, (client) => client.openai.completionStream(params, options)))

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
export const chatCompletion = (
  params: ChatCompletionParams,
  options?: CallOptions
): Effect.Effect<ChatCompletionClass, NovelAIError, NovelAIClient> =>
  Effect.flatMap(NovelAIClient, (client) => client.openai.chatCompletion(params, options))

/**
 * A streamed chat completion: chunks carry `choices[i].delta.content`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const chatCompletionStream = (
  params: ChatCompletionParams,
  options?: CallOptions
): Stream.Stream<ChatCompletionChunk, NovelAIError, NovelAIClient> =>
  Stream.unwrap(Effect.map(NovelAIClient, (client) => client.openai.chatCompletionStream(params, options)))

/**
 * How many tokens `prompt` is for a model.
 *
 * @since 0.1.0
 * @category accessors
 */
export const tokenCount = (
  params: TokenCountParams,
  options?: CallOptions
): Effect.Effect<number, NovelAIError, NovelAIClient> =>
  Effect.flatMap(NovelAIClient, (client) => client.openai.tokenCount(params, options))

/**
 * The new text of each chunk of the first choice (`delta.content` for chat, `text` for
 * completions), skipping chunks that carry none.
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

type AnyChoice = ChatCompletionChunk["choices"][number] | CompletionChunk["choices"][number]

const noText = Option.none<string>()

/** Choice 0; with `n > 1`, chunks of other choices carry none. */
const firstChoice = <C extends { readonly index: number }>(choices: ReadonlyArray<C>): C | undefined => {
  for (const choice of choices) if (choice.index === 0) return choice
  return undefined
}
const someText = Option.some<string>

interface ChoiceAccumulator {
  content: string
  reasoning: string | undefined
  role: string
  finish_reason: string | null
}

const merge = <C extends { id: string; created: number; model: string; usage?: Usage | undefined }>(
  acc: { id: string; created: number; model: string; usage: Usage | undefined },
  chunk: C
) => {
  if (acc.id === "") acc.id = chunk.id
  if (acc.created === 0) acc.created = chunk.created
  if (acc.model === "") acc.model = chunk.model
  if (chunk.usage !== undefined) acc.usage = chunk.usage
}

/**
 * Folds a chat stream into the same {@link ChatCompletion} `chatCompletion` returns: contents and
 * reasoning concatenated per choice, the last `finish_reason`, the last `usage`.
 *
 * @since 0.1.0
 * @category streams
 */
export const collectChatCompletion = <E, R>(
  stream: Stream.Stream<ChatCompletionChunk, E, R>
): Effect.Effect<ChatCompletionClass, E, R> =>
  Effect.suspend(() => {
    const head = { id: "", created: 0, model: "", usage: undefined as Usage | undefined }
    const choices = new Map<number, ChoiceAccumulator>()
    return Stream.runForEach(stream, (chunk) =>
      Effect.sync(() => {
        merge(head, chunk)
        for (const choice of chunk.choices) {
          let acc = choices.get(choice.index)
          if (acc === undefined) {
            acc = { content: "", reasoning: undefined, role: "assistant", finish_reason: null }
            choices.set(choice.index, acc)
          }
          if (choice.delta.role !== undefined) acc.role = choice.delta.role
          if (choice.delta.content !== undefined) acc.content += choice.delta.content
          if (choice.delta.reasoning_content !== undefined) {
            acc.reasoning = (acc.reasoning ?? "") + choice.delta.reasoning_content
          }
          if (choice.finish_reason !== null) acc.finish_reason = choice.finish_reason
        }
      })
    ).pipe(
      Effect.map(
        () =>
          new ChatCompletion({
            id: head.id,
            object: "chat.completion",
            created: head.created,
            model: head.model,
            choices: [...choices.entries()]
              .sort(([a], [b]) => a - b)
              .map(([index, acc]) => ({
                index,
                message: { role: acc.role, ...splitThinking(acc.content, acc.reasoning) },
                finish_reason: acc.finish_reason
              })),
            ...(head.usage ? { usage: head.usage } : {})
          })
      )
    )
  })

/**
 * Folds a completion stream into the same {@link Completion} `completion` returns.
 *
 * @since 0.1.0
 * @category streams
 */
export const collectCompletion = <E, R>(
  stream: Stream.Stream<CompletionChunk, E, R>
): Effect.Effect<Completion, E, R> =>
  Effect.suspend(() => {
    const head = { id: "", created: 0, model: "", usage: undefined as Usage | undefined }
    const choices = new Map<number, { text: string; finish_reason: string | null }>()
    return Stream.runForEach(stream, (chunk) =>
      Effect.sync(() => {
        merge(head, chunk)
        for (const choice of chunk.choices) {
          const acc = choices.get(choice.index) ?? { text: "", finish_reason: null }
          acc.text += choice.text
          if (choice.finish_reason !== null) acc.finish_reason = choice.finish_reason
          choices.set(choice.index, acc)
        }
      })
    ).pipe(
      Effect.map(
        () =>
          new Completion({
            id: head.id,
            object: "text_completion",
            created: head.created,
            model: head.model,
            choices: [...choices.entries()]
              .sort(([a], [b]) => a - b)
              .map(([index, acc]) => ({ index, text: acc.text, finish_reason: acc.finish_reason })),
            ...(head.usage ? { usage: head.usage } : {})
          })
      )
    )
  })
