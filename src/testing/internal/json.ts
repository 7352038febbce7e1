/**
 * The simulator's answer to a prompt that asks for JSON by schema, as GLM gives it: a JSON Schema
 * found in the messages is answered with a value that matches it, deterministic from the prompt
 * and the seed, and now and then written as a model does (in a code fence, after a sentence, or
 * missing a required property), so that a client's handling of it is measured, not assumed.
 */
import { hash, nextRandom } from "./text.js"

type JsonSchema = {
  readonly type?: string | ReadonlyArray<string>
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly required?: ReadonlyArray<string>
  readonly items?: JsonSchema
  readonly enum?: ReadonlyArray<unknown>
  readonly const?: unknown
  readonly anyOf?: ReadonlyArray<JsonSchema>
  readonly oneOf?: ReadonlyArray<JsonSchema>
  readonly allOf?: ReadonlyArray<JsonSchema>
  readonly $ref?: string
  readonly $defs?: Readonly<Record<string, JsonSchema>>
  readonly minimum?: number
  readonly maximum?: number
  readonly minItems?: number
  readonly maxItems?: number
}

const isSchema = (u: unknown): u is JsonSchema =>
  typeof u === "object" &&
  u !== null &&
  !Array.isArray(u) &&
  ("properties" in u || "$schema" in u || "anyOf" in u || ("type" in u && typeof u.type === "string"))

/** The first JSON Schema written in `text`, if any. */
export const findSchema = (text: string): JsonSchema | undefined => {
  for (let start = text.indexOf("{"); start !== -1; start = text.indexOf("{", start + 1)) {
    let depth = 0
    let inString = false
    for (let i = start; i < text.length; i++) {
      const c = text[i]
      if (inString) {
        if (c === "\\") i++
        else if (c === '"') inString = false
      } else if (c === '"') inString = true
      else if (c === "{") depth++
      else if (c === "}" && --depth === 0) {
        try {
          const parsed: unknown = JSON.parse(text.slice(start, i + 1))
          if (isSchema(parsed)) return parsed
        } catch {}
        break
      }
    }
  }
  return undefined
}

const WORDS = [
  "fox",
  "lantern",
  "river",
  "letter",
  "heron",
  "harbour",
  "festival",
  "bridge",
  "silver",
  "dawn"
]

/** A value matching `schema`. */
const matching = (schema: JsonSchema, root: JsonSchema, random: () => number, depth = 0): unknown => {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.split("/").pop() ?? ""
    const target = root.$defs?.[name]
    return target === undefined ? null : matching(target, root, random, depth + 1)
  }
  if (schema.const !== undefined) return schema.const
  if (schema.enum !== undefined && schema.enum.length > 0)
    return schema.enum[Math.floor(random() * schema.enum.length)]
  const options = schema.anyOf ?? schema.oneOf
  if (options !== undefined && options.length > 0) {
    const usable = options.filter((option) => option.type !== "null")
    return matching(usable[0] ?? options[0]!, root, random, depth + 1)
  }
  if (schema.allOf !== undefined && schema.allOf.length > 0)
    return matching(schema.allOf[0]!, root, random, depth + 1)
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type
  const word = () => WORDS[Math.floor(random() * WORDS.length)]!
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {}
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        out[key] = matching(property, root, random, depth + 1)
      }
      return out
    }
    case "array": {
      const min = schema.minItems ?? 1
      const max = Math.max(min, Math.min(schema.maxItems ?? 3, min + 2))
      const n = min + Math.floor(random() * (max - min + 1))
      return depth > 6
        ? []
        : Array.from({ length: n }, () => matching(schema.items ?? {}, root, random, depth + 1))
    }
    case "integer":
    case "number": {
      const min = schema.minimum ?? 0
      const max = schema.maximum ?? min + 100
      const n = min + random() * (max - min)
      return type === "integer" ? Math.round(n) : Math.round(n * 100) / 100
    }
    case "boolean":
      return random() < 0.5
    case "null":
      return null
    default:
      return `${word()} ${word()}`
  }
}

/**
 * The reply for a prompt asking for `schema`: JSON matching it, or for about one prompt in five
 * (by prompt and seed) what a model also writes: the JSON in a code fence (2 in 20) or after a
 * sentence (1 in 20), which a client can clean, or an object missing a required property (1 in
 * 20), which no client can. A reply that must start with `prefix` (`generation_prefix`) cannot
 * have a fence or a sentence before it.
 */
export const jsonReply = (
  schema: JsonSchema,
  input: string,
  seed: number,
  prefix: string | undefined
): string => {
  const state = { s: hash(`${input}\u0000${seed}\u0000json`) }
  const random = () => nextRandom(state)
  const value = matching(schema, schema, random)
  const roll = hash(`${input}\u0000${seed}\u0000shape`) % 20
  const required = schema.required ?? []
  if (roll === 3 && typeof value === "object" && value !== null && required.length > 0) {
    const { [required[0]!]: _, ...rest } = value as Record<string, unknown>
    return JSON.stringify(rest)
  }
  const json = JSON.stringify(value, null, roll % 2 === 0 ? 2 : undefined)
  if (prefix !== undefined && prefix !== "") return json
  if (roll === 0 || roll === 1) return `\`\`\`json\n${json}\n\`\`\``
  if (roll === 2) return `Here is the JSON you asked for:\n${json}`
  return json
}
