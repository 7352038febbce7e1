/**
 * The OpenAI-compatible family (`/oa/v1` on the text host): its endpoints as data, and the
 * operations the client, the accessors and the facade are made of.
 */
import { type ChatCompletion, type ChatCompletionChunk, ChatCompletionParams } from "../../ChatCompletions.js"
import { type Completion, type CompletionChunk, CompletionParams } from "../../Completions.js"
import type { ModelInfo } from "../../Models.js"
import { TokenCountParams } from "../../TokenCount.js"
import { responseDecoder } from "../core/decode.js"
import { type CallEndpoint, type StreamEndpoint, withFastPath } from "../core/endpoint.js"
import { call, stream } from "../core/family.js"
import type { Resolved } from "../core/options.js"
import { COMMON_HINTS } from "../core/params.js"
import { annotateResult } from "../core/telemetry.js"
import { chatCollector, completionCollector } from "./collect.js"
import { chatFastFields } from "./messages.js"
import { models } from "./models.js"
import type { OpenAISettings } from "./options.js"
import { observeChoices } from "./progress.js"
import { chatThinking, completionStrayClose } from "./rewrites.js"
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
} from "./wire.js"

type Settings = Resolved & OpenAISettings

/** Names people bring from the OpenAI API that have no place in a `/oa/v1` call, and why. */
export const OPENAI_HINTS: Readonly<Record<string, string>> = {
  ...COMMON_HINTS,
  stream: "streaming is chosen by the call: use chatCompletionStream or completionStream"
}

const common = { host: "text", models, hints: OPENAI_HINTS, body: undefined } as const

const streamed = {
  chunkEvents: new Set(["message"]),
  doneData: "[DONE]",
  observe: observeChoices,
  parts: (params: Record<string, unknown>) => (typeof params.n === "number" ? params.n : 1),
  ending: "before [DONE] and before every choice finished"
} as const

export const listModels: CallEndpoint<void, ReadonlyArray<ModelInfo>, Settings> = {
  ...common,
  name: "listModels",
  operation: "list_models",
  method: "GET",
  path: "/oa/v1/models",
  params: undefined,
  slot: undefined,
  decode: responseDecoder(ModelListFromWire, "model list"),
  annotate: undefined
}

export const tokenCount: CallEndpoint<TokenCountParams, number, Settings> = {
  ...common,
  name: "tokenCount",
  operation: "token_count",
  method: "POST",
  path: "/oa/v1/internal/token-count",
  params: TokenCountParams,
  slot: undefined,
  // The spec counts for native models there too.
  anyModel: true,
  decode: responseDecoder(TokenCountFromWire, "token count"),
  annotate: undefined
}

export const completion: CallEndpoint<CompletionParams, Completion, Settings> = {
  ...common,
  name: "completion",
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

export const chatCompletion: CallEndpoint<ChatCompletionParams, ChatCompletion, Settings> = {
  ...common,
  name: "chatCompletion",
  operation: "chat",
  method: "POST",
  path: "/oa/v1/chat/completions",
  params: ChatCompletionParams,
  fastFields: chatFastFields,
  slot: "text",
  decode: withFastPath(
    commonChatCompletion,
    responseDecoder(ChatWire, "chat completion", normaliseChatCompletion)
  ),
  annotate: annotateResult
}

export const completionStream: StreamEndpoint<CompletionParams, CompletionChunk, Settings> = {
  ...common,
  ...streamed,
  name: "completionStream",
  operation: "text_completion",
  path: "/oa/v1/completions",
  params: CompletionParams,
  slot: "text",
  decode: withFastPath(
    commonCompletionChunk,
    responseDecoder(CompletionWire, "completion chunk", normaliseCompletion)
  ),
  rewrite: completionStrayClose
}

export const chatCompletionStream: StreamEndpoint<ChatCompletionParams, ChatCompletionChunk, Settings> = {
  ...common,
  ...streamed,
  name: "chatCompletionStream",
  operation: "chat",
  path: "/oa/v1/chat/completions",
  params: ChatCompletionParams,
  fastFields: chatFastFields,
  slot: "text",
  decode: withFastPath(commonChatChunk, responseDecoder(ChatWire, "chat chunk", normaliseChatChunk)),
  rewrite: chatThinking
}

/** The `/oa/v1` calls. Every failure is a `NovelAIError`. */
export const OpenAIFamily = {
  /** `GET /oa/v1/models`: the available models. */
  listModels: call(listModels),
  /** `POST /oa/v1/completions`: a text completion. */
  completion: call(completion, {
    stream: completionStream,
    collector: completionCollector,
    byDefault: false
  }),
  /** `POST /oa/v1/completions` with `stream: true`: completion chunks as they arrive. */
  completionStream: stream(completionStream),
  /**
   * `POST /oa/v1/chat/completions`: a chat completion. By default answered by streaming and
   * collecting (NovelAI's non-streaming chat has been seen to answer with empty content).
   */
  chatCompletion: call(chatCompletion, {
    stream: chatCompletionStream,
    collector: chatCollector,
    byDefault: true
  }),
  /** `POST /oa/v1/chat/completions` with `stream: true`: chat chunks as they arrive. */
  chatCompletionStream: stream(chatCompletionStream),
  /** `POST /oa/v1/internal/token-count`: how many tokens `prompt` is for `model`. */
  tokenCount: call(tokenCount)
}
