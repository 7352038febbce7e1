/**
 * A stream folded into the whole result a non-streaming call returns: per choice, the text (and a
 * chat's reasoning) concatenated, the last `finish_reason`, `matched_stop` and `stop_reason`, the
 * `logprobs` merged; the last `usage`.
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import { ChatCompletion, type ChatCompletionChunk } from "../../ChatCompletions.js"
import { Completion, type CompletionChunk } from "../../Completions.js"
import type { Usage } from "../../Sampling.js"
import { type Collector, fold } from "../core/collect.js"

interface Head {
  id: string
  created: number
  model: string
  usage: Usage | undefined
}

const newHead = (): Head => ({ id: "", created: 0, model: "", usage: undefined })

const merge = (
  head: Head,
  chunk: { id: string; created: number; model: string; usage?: Usage | undefined }
) => {
  if (head.id === "") head.id = chunk.id
  if (head.created === 0) head.created = chunk.created
  if (head.model === "") head.model = chunk.model
  if (chunk.usage !== undefined) head.usage = chunk.usage
}

interface Extras {
  logprobs: Array<unknown>
  matched_stop: string | number | undefined
  stop_reason: string | number | undefined
}

const newExtras = (): Extras => ({ logprobs: [], matched_stop: undefined, stop_reason: undefined })

const addExtras = (
  acc: Extras,
  choice: {
    readonly logprobs?: unknown
    readonly matched_stop?: string | number | undefined
    readonly stop_reason?: string | number | undefined
  }
) => {
  if (choice.logprobs !== undefined) acc.logprobs.push(choice.logprobs)
  if (choice.matched_stop !== undefined) acc.matched_stop = choice.matched_stop
  if (choice.stop_reason !== undefined) acc.stop_reason = choice.stop_reason
}

const isContentList = (u: unknown): u is { readonly content: ReadonlyArray<unknown> } =>
  typeof u === "object" && u !== null && Array.isArray((u as { content?: unknown }).content)

/**
 * The collected extras: `logprobs` as one `{ content: [...] }` when every chunk sent OpenAI's shape
 * (its lists concatenated), else the list of what the chunks sent.
 */
const extrasOut = (acc: Extras) => ({
  ...(acc.logprobs.length === 0
    ? {}
    : {
        logprobs: acc.logprobs.every(isContentList)
          ? { content: acc.logprobs.flatMap((logprobs) => logprobs.content) }
          : acc.logprobs
      }),
  ...(acc.matched_stop !== undefined ? { matched_stop: acc.matched_stop } : {}),
  ...(acc.stop_reason !== undefined ? { stop_reason: acc.stop_reason } : {})
})

const sorted = <A>(choices: Map<number, A>) => [...choices.entries()].sort(([a], [b]) => a - b)

/** Collects chat chunks into the {@link ChatCompletion} `chatCompletion` returns. */
export const chatCollector = (): Collector<ChatCompletionChunk, ChatCompletion> => {
  const head = newHead()
  const choices = new Map<
    number,
    {
      content: string
      reasoning: string | undefined
      role: string
      finish_reason: string | null
      extras: Extras
    }
  >()
  return {
    add: (chunks) => {
      for (const chunk of chunks) {
        merge(head, chunk)
        for (const choice of chunk.choices) {
          let acc = choices.get(choice.index)
          if (acc === undefined) {
            acc = {
              content: "",
              reasoning: undefined,
              role: "assistant",
              finish_reason: null,
              extras: newExtras()
            }
            choices.set(choice.index, acc)
          }
          if (choice.delta.role !== undefined) acc.role = choice.delta.role
          if (choice.delta.content !== undefined) acc.content += choice.delta.content
          if (choice.delta.reasoning_content !== undefined) {
            acc.reasoning = (acc.reasoning ?? "") + choice.delta.reasoning_content
          }
          if (choice.finish_reason !== null) acc.finish_reason = choice.finish_reason
          addExtras(acc.extras, choice)
        }
      }
    },
    result: () =>
      ChatCompletion.make(
        {
          id: head.id,
          object: "chat.completion",
          created: head.created,
          model: head.model,
          choices: sorted(choices).map(([index, acc]) => ({
            index,
            // The stream's chunks are already split (the stream's rewrite): split again, an answer
            // that starts with a literal <think> would lose its text.
            message: {
              role: acc.role,
              content: acc.content,
              ...(acc.reasoning !== undefined ? { reasoning_content: acc.reasoning } : {})
            },
            finish_reason: acc.finish_reason,
            ...extrasOut(acc.extras)
          })),
          ...(head.usage ? { usage: head.usage } : {})
        },
        true
      )
  }
}

/** Collects completion chunks into the {@link Completion} `completion` returns. */
export const completionCollector = (): Collector<CompletionChunk, Completion> => {
  const head = newHead()
  const choices = new Map<number, { text: string; finish_reason: string | null; extras: Extras }>()
  return {
    add: (chunks) => {
      for (const chunk of chunks) {
        merge(head, chunk)
        for (const choice of chunk.choices) {
          let acc = choices.get(choice.index)
          if (acc === undefined) {
            acc = { text: "", finish_reason: null, extras: newExtras() }
            choices.set(choice.index, acc)
          }
          acc.text += choice.text
          if (choice.finish_reason !== null) acc.finish_reason = choice.finish_reason
          addExtras(acc.extras, choice)
        }
      }
    },
    result: () =>
      Completion.make(
        {
          id: head.id,
          object: "text_completion",
          created: head.created,
          model: head.model,
          choices: sorted(choices).map(([index, acc]) => ({
            index,
            text: acc.text,
            finish_reason: acc.finish_reason,
            ...extrasOut(acc.extras)
          })),
          ...(head.usage ? { usage: head.usage } : {})
        },
        true
      )
  }
}

/** A chat stream as the {@link ChatCompletion} `chatCompletion` returns. */
export const chat: <E, R>(
  stream: Stream.Stream<ChatCompletionChunk, E, R>
) => Effect.Effect<ChatCompletion, E, R> = fold(chatCollector)

/** A completion stream as the {@link Completion} `completion` returns. */
export const completion: <E, R>(
  stream: Stream.Stream<CompletionChunk, E, R>
) => Effect.Effect<Completion, E, R> = fold(completionCollector)
