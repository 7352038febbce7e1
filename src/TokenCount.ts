/**
 * Token count (`POST /oa/v1/internal/token-count`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as S from "./internal/schema.js"

/**
 * Parameters of `tokenCount`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenCountParams = Schema.Struct({
  prompt: S.string("a string"),
  model: Schema.optional(S.nonEmptyString("a model id such as glm-4-6"))
}).annotations({ identifier: "TokenCountParams" })

/**
 * @since 0.1.0
 * @category models
 */
export type TokenCountParams = typeof TokenCountParams.Type

const Count = Schema.NonNegativeInt

/**
 * Decodes every token-count shape seen (`{ length, encoded }`, `{ token_count }`, `{ count }`,
 * `{ tokens }` as a number or a token array, a bare number) into a number.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenCountFromWire = Schema.transform(
  Schema.Union(
    Count,
    Schema.Struct({ length: Count }),
    Schema.Struct({ token_count: Count }),
    Schema.Struct({ count: Count }),
    Schema.Struct({ tokens: Schema.Union(Count, Schema.Array(Schema.Unknown)) }),
    Schema.Struct({ encoded: Schema.Array(Schema.Unknown) })
  ),
  Count,
  {
    strict: true,
    decode: (wire) => {
      if (typeof wire === "number") return wire
      if ("length" in wire) return wire.length
      if ("token_count" in wire) return wire.token_count
      if ("count" in wire) return wire.count
      if ("tokens" in wire) return typeof wire.tokens === "number" ? wire.tokens : wire.tokens.length
      return wire.encoded.length
    },
    encode: (n) => n
  }
)
