/**
 * The endpoints, as data: for each, its path, its request schema, how its answer is decoded, and
 * whether it is a generation (and so passes the generation gate). `calls.ts` turns them into calls.
 */
import * as Either from "effect/Either"
import type * as Schema from "effect/Schema"
import type * as Tracer from "effect/Tracer"
import { type ChatCompletion, type ChatCompletionChunk, ChatCompletionParams } from "../ChatCompletions.js"
import { Completion, type CompletionChunk, CompletionParams } from "../Completions.js"
import type * as Errors from "../Errors.js"
import type { ModelInfo } from "../Models.js"
import { TokenCountParams } from "../TokenCount.js"
import { responseDecoder } from "./decode.js"
import { observeChoices, type Progress } from "./events.js"
import { annotateResult } from "./telemetry.js"
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
  TokenCountFromWire
} from "./wire.js"

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
  /** Whether it runs a generation: it passes the generation gate. */
  readonly generation: boolean
}

/** An endpoint whose answer is one JSON document. */
export interface CallEndpoint<A> extends Common {
  readonly method: "GET" | "POST"
  readonly decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>
  /** Annotates the call's span with what a result says. */
  readonly annotate: ((span: Tracer.Span | undefined, result: A) => void) | undefined
}

/** An endpoint answering with an event stream of chunks. */
export interface StreamEndpoint<A> extends Common {
  /** Decodes one event's data into a chunk. */
  readonly decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>
  /** SSE event names that carry chunks ("message": an event without a name). */
  readonly chunkEvents: ReadonlySet<string>
  /** Records what a chunk says about the generation. */
  readonly observe: (chunk: A, progress: Progress) => void
  /** How many choices a request asks for (completions' `n`). */
  readonly choices: (params: Record<string, unknown>) => number
}

const messageEvents: ReadonlySet<string> = new Set(["message"])

/** `fast` where it accepts the input, else `decode`. */
const withFastPath =
  <A, E>(fast: (json: unknown) => A | undefined, decode: (json: unknown) => Either.Either<A, E>) =>
  (json: unknown): Either.Either<A, E> => {
    const result = fast(json)
    return result === undefined ? decode(json) : Either.right(result)
  }

export const listModels: CallEndpoint<ReadonlyArray<ModelInfo>> = {
  name: "listModels",
  operation: "list_models",
  method: "GET",
  path: "/oa/v1/models",
  params: undefined,
  generation: false,
  decode: responseDecoder(ModelListFromWire, "listModels", "model list"),
  annotate: undefined
}

export const tokenCount: CallEndpoint<number> = {
  name: "tokenCount",
  operation: "token_count",
  method: "POST",
  path: "/oa/v1/internal/token-count",
  params: TokenCountParams,
  generation: false,
  decode: responseDecoder(TokenCountFromWire, "tokenCount", "token count"),
  annotate: undefined
}

export const completion: CallEndpoint<Completion> = {
  name: "completion",
  operation: "text_completion",
  method: "POST",
  path: "/oa/v1/completions",
  params: CompletionParams,
  generation: true,
  decode: withFastPath(
    commonCompletion,
    responseDecoder(CompletionWire, "completion", "completion", (wire) =>
      Completion.make(normaliseCompletion(wire), true)
    )
  ),
  annotate: annotateResult
}

export const chatCompletion: CallEndpoint<ChatCompletion> = {
  name: "chatCompletion",
  operation: "chat",
  method: "POST",
  path: "/oa/v1/chat/completions",
  params: ChatCompletionParams,
  generation: true,
  decode: withFastPath(
    commonChatCompletion,
    responseDecoder(ChatWire, "chatCompletion", "chat completion", normaliseChatCompletion)
  ),
  annotate: annotateResult
}

export const completionStream: StreamEndpoint<CompletionChunk> = {
  name: "completionStream",
  operation: "text_completion",
  path: "/oa/v1/completions",
  params: CompletionParams,
  generation: true,
  decode: withFastPath(
    commonCompletionChunk,
    responseDecoder(CompletionWire, "completionStream", "completion chunk", normaliseCompletion)
  ),
  chunkEvents: messageEvents,
  observe: observeChoices,
  choices: (params) => (typeof params.n === "number" ? params.n : 1)
}

export const chatCompletionStream: StreamEndpoint<ChatCompletionChunk> = {
  name: "chatCompletionStream",
  operation: "chat",
  path: "/oa/v1/chat/completions",
  params: ChatCompletionParams,
  generation: true,
  decode: withFastPath(
    commonChatChunk,
    responseDecoder(ChatWire, "chatCompletionStream", "chat chunk", normaliseChatChunk)
  ),
  chunkEvents: messageEvents,
  observe: observeChoices,
  choices: () => 1
}
