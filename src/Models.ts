/**
 * Models (`GET /oa/v1/models`). Model ids are open strings: the known ones are listed for editors
 * to complete, and any other id still passes.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A model id: `glm-4-6` (the default), `glm-4-5`, `xialong-v1` (Opus tier), or any newer id.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ModelId, OpenAI } from "effect-novelai"
 *
 * // Editors complete the known ids; a newer one still type-checks.
 * const ask = (model: ModelId) => OpenAI.chatCompletion({ model, messages: [{ role: "user", content: "Hi" }] })
 * const replies = Effect.all([ask("glm-4-6"), ask("xialong-v1"), ask("some-newer-model")])
 * ```
 */
export type ModelId = "glm-4-6" | "glm-4-5" | "xialong-v1" | (string & {})

/**
 * One entry of the model list, e.g. `{ id: "glm-4-6", owned_by: "novelai" }`.
 *
 * @since 0.1.0
 * @category schemas
 */
export class ModelInfo extends Schema.Class<ModelInfo>("effect-novelai/ModelInfo")({
  id: Schema.String,
  object: Schema.optional(Schema.String),
  created: Schema.optional(Schema.Number),
  owned_by: Schema.optional(Schema.String)
}) {}
