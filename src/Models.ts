/**
 * Models (`GET /oa/v1/models`). Model ids are open strings, never a closed enum.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * One model, e.g. `{ id: "glm-4-6", owned_by: "novelai" }`.
 *
 * @since 0.1.0
 * @category schemas
 */
export class Model extends Schema.Class<Model>("Model")({
  id: Schema.String,
  object: Schema.optional(Schema.String),
  created: Schema.optional(Schema.Number),
  owned_by: Schema.optional(Schema.String)
}) {}

const WireModel = Schema.Struct({
  id: Schema.String,
  object: Schema.optional(Schema.NullOr(Schema.String)),
  created: Schema.optional(Schema.NullOr(Schema.Number)),
  owned_by: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * Decodes a model list sent as `{ object: "list", data: [...] }` or as a bare array.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ModelListFromWire = Schema.transform(
  Schema.Union(Schema.Struct({ data: Schema.Array(WireModel) }), Schema.Array(WireModel)),
  Schema.Array(Schema.typeSchema(Model)),
  {
    strict: true,
    decode: (wire) =>
      ("data" in wire ? wire.data : wire).map(
        (m) =>
          new Model({
            id: m.id,
            ...(m.object != null ? { object: m.object } : {}),
            ...(m.created != null ? { created: m.created } : {}),
            ...(m.owned_by != null ? { owned_by: m.owned_by } : {})
          })
      ),
    encode: (models) => models
  }
)
