/**
 * `effect-novelai/ai`: NovelAI as an `@effect/ai` provider. Needs `@effect/ai` 0.37.x (with
 * `@effect/experimental` 0.61.x and `@effect/rpc` 0.76.x), optional peer dependencies that the rest
 * of the package never loads.
 *
 * @since 0.1.0
 */

/**
 * NovelAI's `LanguageModel`: {@link NovelAILanguageModel.model}, `layer`, `make`,
 * `withConfigOverride`.
 *
 * @since 0.1.0
 */
export * as NovelAILanguageModel from "./NovelAILanguageModel.js"
