/**
 * Token count (`POST /oa/v1/internal/token-count`): how many tokens a text is for a model.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as S from "./internal/core/schema.js"
import { modelId } from "./internal/openai/sampling.js"

/**
 * Parameters of `tokenCount`: the `prompt` to count and, optionally, the `model` whose tokenizer
 * counts it (the client's default model otherwise).
 *
 * @since 0.1.0
 * @category schemas
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OpenAI } from "effect-novelai"
 *
 * // How many tokens a prompt takes, before sending it.
 * const fits = (prompt: string) =>
 *   Effect.map(OpenAI.tokenCount({ prompt, model: "glm-4-6" }), (count) => count <= 8_000)
 * ```
 */
export const TokenCountParams = Schema.Struct({
  prompt: S.string("a string"),
  model: Schema.optional(modelId)
}).annotations({ identifier: "effect-novelai/TokenCountParams" })

/**
 * The parameters of a token count: `{ prompt, model? }`.
 *
 * @since 0.1.0
 * @category models
 */
export type TokenCountParams = typeof TokenCountParams.Type
