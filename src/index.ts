/**
 * effect-novelai: an Effect client for NovelAI: its text APIs, the OpenAI-compatible one
 * (`/oa/v1`) and the native one (Erato, Kayra), its images (NovelAI Diffusion) and the account,
 * with a Promise facade for code that does not use Effect.
 *
 * @since 0.1.0
 */

/**
 * The account behind the key: its subscription, Anlas and V5 usage battery, as accessors.
 *
 * @since 0.1.0
 */
export * as Account from "./Account.js"

/**
 * Chat completion schemas and types.
 *
 * @since 0.1.0
 */
export * as ChatCompletions from "./ChatCompletions.js"
export {
  /**
   * A chat completion in the documented `chat.completion` form (a schema and its type).
   *
   * @since 0.1.0
   */
  ChatCompletion,
  /**
   * One chunk of a streamed chat completion (a schema and its type).
   *
   * @since 0.1.0
   */
  ChatCompletionChunk,
  /**
   * The parameters of a chat completion (a schema and its type).
   *
   * @since 0.1.0
   */
  ChatCompletionParams,
  /**
   * One chat message (a schema and its type).
   *
   * @since 0.1.0
   */
  ChatMessage
} from "./ChatCompletions.js"
/**
 * Completion schemas and types.
 *
 * @since 0.1.0
 */
export * as Completions from "./Completions.js"
export {
  /**
   * A text completion in the documented `text_completion` form (a schema and its type).
   *
   * @since 0.1.0
   */
  Completion,
  /**
   * One chunk of a streamed text completion (a schema and its type).
   *
   * @since 0.1.0
   */
  CompletionChunk,
  /**
   * The parameters of a text completion (a schema and its type).
   *
   * @since 0.1.0
   */
  CompletionParams
} from "./Completions.js"
/**
 * The error classes and the `NovelAIError` union.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"
export {
  /**
   * 401, 402 or 403: the key, the subscription or the tier.
   *
   * @since 0.1.0
   */
  AuthenticationError,
  /**
   * The client was closed while the call was in flight, or before it was made.
   *
   * @since 0.1.0
   */
  ClientClosedError,
  /**
   * The client options were refused when the client was made.
   *
   * @since 0.1.0
   */
  ConfigurationError,
  /**
   * 402 "Not enough Anlas": the account's balance is short of the call's price.
   *
   * @since 0.1.0
   */
  InsufficientAnlasError,
  /**
   * The request was refused as invalid, locally or by the server.
   *
   * @since 0.1.0
   */
  InvalidRequestError,
  /**
   * Whether a value is one of the `NovelAIError` errors.
   *
   * @since 0.1.0
   */
  isNovelAIError,
  /**
   * Every error a call can fail with.
   *
   * @since 0.1.0
   */
  type NovelAIError,
  /**
   * 429: too many requests, or the account's generation lock.
   *
   * @since 0.1.0
   */
  RateLimitError,
  /**
   * The server answered with a body no schema accepts.
   *
   * @since 0.1.0
   */
  ResponseDecodeError,
  /**
   * A 5xx, or an error reported inside a successful response or stream.
   *
   * @since 0.1.0
   */
  ServerError,
  /**
   * A stream ended before its generation finished.
   *
   * @since 0.1.0
   */
  StreamTruncatedError,
  /**
   * A deadline passed: waiting for a slot, for the response, its body, or a stream's next data.
   *
   * @since 0.1.0
   */
  TimeoutError,
  /**
   * The connection failed: refused, reset, DNS, or a body cut while reading.
   *
   * @since 0.1.0
   */
  TransportError
} from "./Errors.js"
/**
 * Image generation (NovelAI Diffusion) as accessors, and stream helpers.
 *
 * @since 0.1.0
 */
export * as Image from "./Image.js"
/**
 * Image generation schemas and types.
 *
 * @since 0.1.0
 */
export * as ImageGeneration from "./ImageGeneration.js"
export {
  /**
   * One generated image: bytes, MIME type, index and seed.
   *
   * @since 0.1.0
   */
  type GeneratedImage,
  /**
   * The parameters of an image generation (a schema and its type).
   *
   * @since 0.1.0
   */
  ImageGenerateParams,
  /**
   * The parameters of a streamed image generation (a schema and its type).
   *
   * @since 0.1.0
   */
  ImageGenerateStreamParams,
  /**
   * A whole image generation: its images and seed.
   *
   * @since 0.1.0
   */
  type ImageGeneration as ImageGenerationResult,
  /**
   * An image model id: the known ones typed for editors, any other string accepted.
   *
   * @since 0.1.0
   */
  type ImageModelId,
  /**
   * An event of a streamed image generation: a preview or a final image.
   *
   * @since 0.1.0
   */
  type ImageStreamEvent
} from "./ImageGeneration.js"
/**
 * The image tools' schemas and types: the director tools and the upscaler.
 *
 * @since 0.1.0
 */
export * as ImageTools from "./ImageTools.js"
/**
 * Model schemas and types.
 *
 * @since 0.1.0
 */
export * as Models from "./Models.js"
export {
  /**
   * A model id: the known ones typed for editors, any other string accepted.
   *
   * @since 0.1.0
   */
  type ModelId,
  /**
   * One entry of the model list (a schema and its type).
   *
   * @since 0.1.0
   */
  ModelInfo
} from "./Models.js"
export {
  /**
   * The Promise facade: `new NovelAI({ apiKey })`, then `client.openai.*`.
   *
   * @since 0.1.0
   */
  NovelAI,
  /**
   * Options of the Promise facade.
   *
   * @since 0.1.0
   */
  type NovelAIOptions,
  /**
   * The facade's `client.openai` calls.
   *
   * @since 0.1.0
   */
  type OpenAIPromiseApi,
  /**
   * Per-call options of the facade's calls, with an `AbortSignal`.
   *
   * @since 0.1.0
   */
  type RequestOptions,
  /**
   * The facade's `client.text` calls (the native API).
   *
   * @since 0.1.0
   */
  type TextPromiseApi
} from "./NovelAI.js"
export type {
  /**
   * Per-call settings: retries, timeouts.
   *
   * @since 0.1.0
   */
  CallOptions
} from "./NovelAIClient.js"
/**
 * The client service, its options and layers.
 *
 * @since 0.1.0
 */
export * as NovelAIClient from "./NovelAIClient.js"
/**
 * The `/oa/v1` calls as accessors, and stream helpers.
 *
 * @since 0.1.0
 */
export * as OpenAI from "./OpenAI.js"
/**
 * Retry building blocks: `isRetryable`, `schedule`.
 *
 * @since 0.1.0
 */
export * as Retry from "./Retry.js"
/**
 * The sampling parameters completions and chats share, and token usage.
 *
 * @since 0.1.0
 */
export * as Sampling from "./Sampling.js"
export {
  /**
   * The sampling parameters completions and chats share (a schema and its type).
   *
   * @since 0.1.0
   */
  SamplingParams,
  /**
   * Token usage (a schema and its type).
   *
   * @since 0.1.0
   */
  Usage
} from "./Sampling.js"
/**
 * The native text API (Erato, Kayra) as accessors, and stream helpers.
 *
 * @since 0.1.0
 */
export * as Text from "./Text.js"
/**
 * Native text generation schemas and types.
 *
 * @since 0.1.0
 */
export * as TextGeneration from "./TextGeneration.js"
export {
  /**
   * The parameters of a native generation (a schema and its type).
   *
   * @since 0.1.0
   */
  TextGenerateParams,
  /**
   * A native model id: the known ones typed for editors, any other string accepted.
   *
   * @since 0.1.0
   */
  type TextModelId,
  /**
   * One token of a streamed native generation (a schema and its type).
   *
   * @since 0.1.0
   */
  TextToken
} from "./TextGeneration.js"
/**
 * Token count schemas.
 *
 * @since 0.1.0
 */
export * as TokenCount from "./TokenCount.js"
export {
  /**
   * The parameters of a token count (a schema and its type).
   *
   * @since 0.1.0
   */
  TokenCountParams
} from "./TokenCount.js"
