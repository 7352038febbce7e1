/**
 * effect-novelai: an Effect client for NovelAI's OpenAI-compatible text API (`/oa/v1`).
 *
 * @since 0.1.0
 */

/**
 * Chat completion schemas and types.
 *
 * @since 0.1.0
 */
export * as ChatCompletions from "./ChatCompletions.js"
export {
  /** @since 0.1.0 */
  ChatCompletion,
  /** @since 0.1.0 */
  ChatCompletionChunk,
  /** @since 0.1.0 */
  ChatCompletionParams,
  /** @since 0.1.0 */
  ChatMessage
} from "./ChatCompletions.js"
/**
 * Completion schemas and types.
 *
 * @since 0.1.0
 */
export * as Completions from "./Completions.js"
export {
  /** @since 0.1.0 */
  Completion,
  /** @since 0.1.0 */
  CompletionChunk,
  /** @since 0.1.0 */
  CompletionParams
} from "./Completions.js"
/**
 * The error classes and the `NovelAIError` union.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"
export {
  /** @since 0.1.0 */
  AuthenticationError,
  /** @since 0.2.0 */
  ClientClosedError,
  /** @since 0.1.0 */
  ConfigurationError,
  /** @since 0.1.0 */
  InvalidRequestError,
  /** @since 0.1.0 */
  isNovelAIError,
  /** @since 0.1.0 */
  type NovelAIError,
  /** @since 0.1.0 */
  RateLimitError,
  /** @since 0.1.0 */
  ResponseDecodeError,
  /** @since 0.1.0 */
  ServerError,
  /** @since 0.1.0 */
  StreamTruncatedError,
  /** @since 0.1.0 */
  TimeoutError,
  /** @since 0.1.0 */
  TransportError
} from "./Errors.js"
/**
 * Model schemas and types.
 *
 * @since 0.1.0
 */
export * as Models from "./Models.js"
export {
  /** @since 0.2.0 */
  type ModelId,
  /** @since 0.2.0 */
  ModelInfo
} from "./Models.js"
export {
  /** @since 0.1.0 */
  NovelAI,
  /** @since 0.1.0 */
  type NovelAIOptions,
  /** @since 0.1.0 */
  type OpenAIPromiseApi,
  /** @since 0.1.0 */
  type RequestOptions
} from "./NovelAI.js"
export type {
  /** @since 0.2.0 */
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
  /** @since 0.2.0 */
  SamplingParams,
  /** @since 0.2.0 */
  Usage
} from "./Sampling.js"
/**
 * Token count schemas.
 *
 * @since 0.1.0
 */
export * as TokenCount from "./TokenCount.js"
export {
  /** @since 0.2.0 */
  TokenCountParams
} from "./TokenCount.js"
