/**
 * The endpoints, as data: for each, its path, its request schema, how its answer is decoded, and
 * whether it is a generation (and so passes the generation gate). `calls.ts` turns them into calls.
 */
import * as Either from "effect/Either"
import type * as Schema from "effect/Schema"
import type * as Tracer from "effect/Tracer"
import { type ChatCompletion, type ChatCompletionChunk, ChatCompletionParams } from "../ChatCompletions.js"
import { type Completion, type CompletionChunk, CompletionParams } from "../Completions.js"
import type * as Errors from "../Errors.js"
import type { ModelInfo } from "../Models.js"
import { TextGenerateParams, type TextGeneration, type TextToken } from "../TextGeneration.js"
import { TokenCountParams } from "../TokenCount.js"
import { responseDecoder } from "./core/decode.js"
import type { GenerationSlot } from "./core/gate.js"
import { NATIVE_HINTS, OPENAI_HINTS } from "./core/params.js"
import { observeChoices, observeTokens, type Progress } from "./core/progress.js"
import { annotateResult } from "./core/telemetry.js"
import * as Native from "./native/body.js"
import { ThinkingSplitter } from "./openai/thinking.js"
import {
  ChatWire,
  CompletionWire,
  commonChatChunk,
  commonChatCompletion,
  commonCompletion,
  commonCompletionChunk,
  ModelListFromWire,
  normaliseChatChunk,
  normaliseChatCompletion,
  normaliseCompletion,
  TokenCountFromWire,
  wholeCompletion
} from "./openai/wire.js"

/** What every endpoint has. */
interface Common {
  /** The call's name: the span is `NovelAI.<name>`, errors say `<name>: ...`. */
  readonly name: string
  /** `gen_ai.operation.name`. */
  readonly operation: string
  readonly path: string
  /**
   * The request schema (camelCase in, the wire's snake_case out), whose `model` defaults to the
   * client's; undefined: no body.
   */
  readonly params: Schema.Schema<any, any> | undefined
  /** The generation slot it takes (it runs a generation), or undefined. */
  readonly slot: GenerationSlot | undefined
  /** The client's default model a call naming none gets: `defaultModel` or `defaultTextModel`. */
  readonly defaultModel: "defaultModel" | "defaultTextModel"
  /** What to say of a parameter name the endpoint does not take, by name. */
  readonly hints: Readonly<Record<string, string>>
  /** Why the endpoint may not be called with a model, if it may not (the other API's models). */
  readonly refuseModel: (model: unknown) => string | undefined
  /**
   * The body from the encoded parameters, when it is not them as they are (the native API's
   * `parameters`, its text sequences tokenized); given the client's tokenizers.
   */
  readonly body: typeof Native.body | undefined
}

/** An endpoint whose answer is one JSON document. */
export interface CallEndpoint<A> extends Common {
  readonly method: "GET" | "POST"
  /** The decoder of an answer, for a call of that name (its errors say so). */
  readonly decode: (name: string) => (json: unknown) => Either.Either<A, Errors.NovelAIError>
  /** Annotates the call's span with what a result says. */
  readonly annotate: ((span: Tracer.Span | undefined, result: A) => void) | undefined
}

/** An endpoint answering with an event stream of chunks. */
export interface StreamEndpoint<A> extends Common {
  /** The decoder of one event's data into a chunk, for a call of that name. */
  readonly decode: (name: string) => (json: unknown) => Either.Either<A, Errors.NovelAIError>
  /** SSE event names that carry chunks ("message": an event without a name). */
  readonly chunkEvents: ReadonlySet<string>
  /** Records what a chunk says about the generation. */
  readonly observe: (chunk: A, progress: Progress) => void
  /** How many choices a request asks for (completions' `n`). */
  readonly choices: (params: Record<string, unknown>) => number
  /** A per-stream rewrite of the chunks (thinking split out of the text), if any. */
  readonly rewrite: (() => Rewrite<A>) | undefined
  /** What a complete stream has that a truncated one lacks, for the error's message. */
  readonly ending: string
}

/** A stateful rewrite of one stream's chunks. */
export interface Rewrite<A> {
  /** The chunk as handed over. */
  readonly map: (chunk: A) => A
  /** When the stream has completed: chunks for text still held back, if any. */
  readonly flush: () => ReadonlyArray<A>
}

/**
 * Chat chunks with the thinking split out of `delta.content` into `delta.reasoning_content`,
 * whatever the chunk boundaries (see `thinking.ts`). Text held back at a boundary goes out with the
 * choice's finishing chunk (or, if none comes, in a last chunk of its own).
 */
const chatThinking = (): Rewrite<ChatCompletionChunk> => {
  const splitters = new Map<number, ThinkingSplitter>()
  let last: ChatCompletionChunk | undefined
  const rewriteChoice = (choice: ChatCompletionChunk["choices"][number]) => {
    const content = choice.delta.content
    let splitter = splitters.get(choice.index)
    if (splitter === undefined && (content === undefined || content === "")) return choice
    if (splitter === undefined) {
      splitter = new ThinkingSplitter()
      splitters.set(choice.index, splitter)
    }
    const split =
      content === undefined || content === "" ? { content: "", reasoning: "" } : splitter.push(content)
    if (choice.finish_reason !== null) {
      const rest = splitter.end()
      split.content += rest.content
      split.reasoning += rest.reasoning
      splitters.delete(choice.index)
    }
    if (split.content === (content ?? "") && split.reasoning === "") return choice
    const { content: _, reasoning_content, ...delta } = choice.delta
    const reasoning = (reasoning_content ?? "") + split.reasoning
    return {
      ...choice,
      delta: {
        ...delta,
        ...(split.content !== "" ? { content: split.content } : {}),
        ...(reasoning !== "" ? { reasoning_content: reasoning } : {})
      }
    }
  }
  return {
    map: (chunk) => {
      last = chunk
      let choices: Array<ChatCompletionChunk["choices"][number]> | undefined
      chunk.choices.forEach((choice, i) => {
        const rewritten = rewriteChoice(choice)
        if (rewritten === choice && choices === undefined) return
        choices ??= chunk.choices.slice(0, i)
        choices.push(rewritten)
      })
      return choices === undefined ? chunk : { ...chunk, choices }
    },
    flush: () => {
      const held = [...splitters.entries()].flatMap(([index, splitter]) => {
        const rest = splitter.end()
        return rest.content === "" && rest.reasoning === ""
          ? []
          : [
              {
                index,
                delta: {
                  ...(rest.content !== "" ? { content: rest.content } : {}),
                  ...(rest.reasoning !== "" ? { reasoning_content: rest.reasoning } : {})
                },
                finish_reason: null
              }
            ]
      })
      splitters.clear()
      if (held.length === 0 || last === undefined) return []
      const { usage: _, ...head } = last
      return [{ ...head, choices: held }]
    }
  }
}

/** Completion chunks with stray `</think>` tags dropped from their text, across chunk boundaries. */
const completionStrayClose = (): Rewrite<CompletionChunk> => {
  const splitters = new Map<number, ThinkingSplitter>()
  let last: CompletionChunk | undefined
  return {
    map: (chunk) => {
      last = chunk
      let choices: Array<CompletionChunk["choices"][number]> | undefined
      chunk.choices.forEach((choice, i) => {
        let splitter = splitters.get(choice.index)
        if (splitter === undefined) {
          splitter = new ThinkingSplitter(true)
          splitters.set(choice.index, splitter)
        }
        let text = splitter.push(choice.text).content
        if (choice.finish_reason !== null) {
          text += splitter.end().content
          splitters.delete(choice.index)
        }
        if (text === choice.text && choices === undefined) return
        choices ??= chunk.choices.slice(0, i)
        choices.push(text === choice.text ? choice : { ...choice, text })
      })
      return choices === undefined ? chunk : { ...chunk, choices }
    },
    flush: () => {
      const held = [...splitters.entries()].flatMap(([index, splitter]) => {
        const text = splitter.end().content
        return text === "" ? [] : [{ index, text, finish_reason: null }]
      })
      splitters.clear()
      if (held.length === 0 || last === undefined) return []
      const { usage: _, ...head } = last
      return [{ ...head, choices: held }]
    }
  }
}

const messageEvents: ReadonlySet<string> = new Set(["message"])

/** The token count takes any model's name (the spec counts for `llama-3-erato-v1` there). */
const anyModel = () => undefined

const OPENAI_ENDING = "before [DONE] and before any finish_reason"

/** `fast` where it accepts the input, else `decode`. */
const withFastPath =
  <A, E>(
    fast: (json: unknown) => A | undefined,
    decode: (name: string) => (json: unknown) => Either.Either<A, E>
  ) =>
  (name: string) => {
    const slow = decode(name)
    return (json: unknown): Either.Either<A, E> => {
      const result = fast(json)
      return result === undefined ? slow(json) : Either.right(result)
    }
  }

export const listModels: CallEndpoint<ReadonlyArray<ModelInfo>> = {
  name: "listModels",
  defaultModel: "defaultModel",
  hints: OPENAI_HINTS,
  refuseModel: anyModel,
  body: undefined,
  operation: "list_models",
  method: "GET",
  path: "/oa/v1/models",
  params: undefined,
  slot: undefined,
  decode: responseDecoder(ModelListFromWire, "model list"),
  annotate: undefined
}

export const tokenCount: CallEndpoint<number> = {
  name: "tokenCount",
  defaultModel: "defaultModel",
  hints: OPENAI_HINTS,
  refuseModel: anyModel,
  body: undefined,
  operation: "token_count",
  method: "POST",
  path: "/oa/v1/internal/token-count",
  params: TokenCountParams,
  slot: undefined,
  decode: responseDecoder(TokenCountFromWire, "token count"),
  annotate: undefined
}

export const completion: CallEndpoint<Completion> = {
  name: "completion",
  defaultModel: "defaultModel",
  hints: OPENAI_HINTS,
  refuseModel: Native.refuseOnOpenAI,
  body: undefined,
  operation: "text_completion",
  method: "POST",
  path: "/oa/v1/completions",
  params: CompletionParams,
  slot: "text",
  decode: withFastPath(
    commonCompletion,
    responseDecoder(CompletionWire, "completion", (wire) => wholeCompletion(normaliseCompletion(wire)))
  ),
  annotate: annotateResult
}

export const chatCompletion: CallEndpoint<ChatCompletion> = {
  name: "chatCompletion",
  defaultModel: "defaultModel",
  hints: OPENAI_HINTS,
  refuseModel: Native.refuseOnOpenAI,
  body: undefined,
  operation: "chat",
  method: "POST",
  path: "/oa/v1/chat/completions",
  params: ChatCompletionParams,
  slot: "text",
  decode: withFastPath(
    commonChatCompletion,
    responseDecoder(ChatWire, "chat completion", normaliseChatCompletion)
  ),
  annotate: annotateResult
}

export const completionStream: StreamEndpoint<CompletionChunk> = {
  name: "completionStream",
  defaultModel: "defaultModel",
  hints: OPENAI_HINTS,
  refuseModel: Native.refuseOnOpenAI,
  body: undefined,
  operation: "text_completion",
  path: "/oa/v1/completions",
  params: CompletionParams,
  slot: "text",
  decode: withFastPath(
    commonCompletionChunk,
    responseDecoder(CompletionWire, "completion chunk", normaliseCompletion)
  ),
  chunkEvents: messageEvents,
  observe: observeChoices,
  choices: (params) => (typeof params.n === "number" ? params.n : 1),
  rewrite: completionStrayClose,
  ending: OPENAI_ENDING
}

export const chatCompletionStream: StreamEndpoint<ChatCompletionChunk> = {
  name: "chatCompletionStream",
  defaultModel: "defaultModel",
  hints: OPENAI_HINTS,
  refuseModel: Native.refuseOnOpenAI,
  body: undefined,
  operation: "chat",
  path: "/oa/v1/chat/completions",
  params: ChatCompletionParams,
  slot: "text",
  decode: withFastPath(commonChatChunk, responseDecoder(ChatWire, "chat chunk", normaliseChatChunk)),
  chunkEvents: messageEvents,
  observe: observeChoices,
  choices: (params) => (typeof params.n === "number" ? params.n : 1),
  rewrite: chatThinking,
  ending: OPENAI_ENDING
}

const nativeEvents: ReadonlySet<string> = new Set(["newToken", "message"])

const native = {
  slot: "text",
  params: TextGenerateParams,
  defaultModel: "defaultTextModel",
  hints: NATIVE_HINTS,
  refuseModel: Native.refuseOnNative,
  body: Native.body
} as const

/** `POST /ai/generate`: a whole native generation. */
export const textGenerate: CallEndpoint<TextGeneration> = {
  ...native,
  name: "generate",
  operation: "text_completion",
  method: "POST",
  path: "/ai/generate",
  decode: responseDecoder(Native.GenerationWire, "generation"),
  annotate: undefined
}

/**
 * `POST /ai/generate-stream`: a native generation as `newToken` events (a data frame without an
 * event name is taken as one too), ended by the `final` token.
 */
export const textGenerateStream: StreamEndpoint<TextToken> = {
  ...native,
  name: "generateStream",
  operation: "text_completion",
  path: "/ai/generate-stream",
  decode: responseDecoder(Native.TokenWire, "token"),
  chunkEvents: nativeEvents,
  observe: observeTokens,
  choices: () => 1,
  rewrite: undefined,
  ending: "before its final token"
}
