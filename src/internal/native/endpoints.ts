/**
 * NovelAI's native text family (`/ai/generate*` on the text host: Erato, Kayra): its endpoints as
 * data, and the operations the client, the accessors and the facade are made of.
 */
import * as Effect from "effect/Effect"
import * as Errors from "../../Errors.js"
import {
  TextGenerateParams,
  type TextGeneration,
  type TextToken,
  TextTokenCountParams
} from "../../TextGeneration.js"
import { paramsEncoder } from "../core/decode.js"
import { type CallEndpoint, refusal, type StreamEndpoint } from "../core/endpoint.js"
import { call, local, stream } from "../core/family.js"
import type { Resolved } from "../core/options.js"
import { COMMON_HINTS, checkNames, namesOf } from "../core/params.js"
import { requestSpan, withSpan } from "../core/telemetry.js"
import { models as openaiModels } from "../openai/models.js"
import * as Native from "./body.js"
import { textCollector } from "./collect.js"
import { models } from "./models.js"
import type { NativeSettings } from "./options.js"
import { encode as encodeText } from "./tokenizers.js"

type Settings = Resolved & NativeSettings

/** Names of `/oa/v1` calls brought to the native API, and what it calls them. */
export const NATIVE_HINTS: Readonly<Record<string, string>> = {
  ...COMMON_HINTS,
  stream: "streaming is chosen by the call: use generateStream",
  unifiedCubic:
    "the native API's unified sampler has no cubic term (unifiedLinear, unifiedQuadratic and unifiedIncreaseLinearWithEntropy are math1_temp, math1_quad and math1_quad_entropy_scale)",
  maxTokens: "the native API calls it maxLength",
  stop: "the native API calls it stopSequences (text or token ids)",
  prompt: "the native API calls it input"
}

const common = {
  host: "text",
  slot: "text",
  params: TextGenerateParams,
  models,
  hints: NATIVE_HINTS,
  body: (settings: Settings) => Native.body(settings.tokenizers)
} as const

/** `POST /ai/generate`: a whole native generation. */
export const generate: CallEndpoint<TextGenerateParams, TextGeneration, Settings> = {
  ...common,
  name: "generate",
  operation: "text_completion",
  method: "POST",
  path: "/ai/generate",
  decode: Native.decodeGeneration,
  annotate: undefined
}

/**
 * `POST /ai/generate-stream`: a native generation as `newToken` events (a data frame without an
 * event name is taken as one too), ended by the `final` token.
 */
export const generateStream: StreamEndpoint<TextGenerateParams, TextToken, Settings> = {
  ...common,
  name: "generateStream",
  operation: "text_completion",
  path: "/ai/generate-stream",
  decode: Native.decodeToken,
  chunkEvents: new Set(["newToken", "message"]),
  doneData: undefined,
  observe: (token, progress) => {
    if (token.final) progress.finished.set(0, "stop")
  },
  parts: () => 1,
  rewrite: undefined,
  ending: "before its final token"
}

const countParams = paramsEncoder(TextTokenCountParams, "tokenCount")
const countNames = namesOf(TextTokenCountParams)
const registries = [models, openaiModels]

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * A native model's token count, counted here with its tokenizer (there is no count endpoint for
 * native models), in a span.
 */
const countTokens =
  (settings: Settings) =>
  (params: TextTokenCountParams): Effect.Effect<number, Errors.NovelAIError> => {
    const model = isRecord(params) && params.model !== undefined ? params.model : settings.defaultTextModel
    return Effect.gen(function* () {
      if (isRecord(params)) yield* checkNames("tokenCount", countNames, params, NATIVE_HINTS)
      yield* countParams(params)
      const refused = refusal(models, registries, model)
      if (refused !== undefined) {
        return yield* new Errors.InvalidRequestError({
          message: `tokenCount: ${refused}`,
          endpoint: "tokenCount",
          field: "model"
        })
      }
      const tokenizer = yield* settings.tokenizers.get(model as string, "tokenCount", "input")
      const ids = yield* encodeText(
        tokenizer,
        (params as { input: string }).input,
        model as string,
        "tokenCount",
        "input"
      )
      return ids.length
    }).pipe(withSpan("NovelAI.text.tokenCount", requestSpan("token_count", model)))
  }

/** NovelAI's native text API: its own storytelling models. Every failure is a `NovelAIError`. */
export const NativeFamily = {
  /** `POST /ai/generate`: a whole generation. */
  generate: call(generate, { stream: generateStream, collector: textCollector, byDefault: false }),
  /** `POST /ai/generate-stream`: the generation's tokens as they arrive. */
  generateStream: stream(generateStream),
  /**
   * How many tokens `input` is for a native model, counted here with the model's tokenizer (there
   * is no count endpoint for native models), without BOS or EOS.
   */
  tokenCount: local(countTokens)
}
