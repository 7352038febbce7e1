import * as Schema from "effect/Schema"

/**
 * A value a caller passed, for an error message: short, and safe for any value (a BigInt, a cycle,
 * a long string); a short array of numbers or short strings is spelled out.
 */
export const show = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u.length > 40 ? `${u.slice(0, 40)}…` : u)
  if (typeof u === "number" || typeof u === "boolean" || u === null || u === undefined) return String(u)
  if (!Array.isArray(u)) return typeof u
  const short =
    u.length <= 4 && u.every((x) => typeof x === "number" || (typeof x === "string" && x.length <= 20))
  return short ? `[${u.map(show).join(", ")}]` : "an array"
}

const number = (description: string) =>
  Schema.Number.annotations({ message: (issue) => `must be ${description} (got ${show(issue.actual)})` })

/** A finite number in `[min, max]`, integer when asked, whose error names the allowed range. */
export const range = (min: number, max: number, options?: { readonly integer?: boolean }) => {
  const description = `${options?.integer ? "an integer" : "a number"} from ${min} to ${max}`
  return number(description).pipe(
    Schema.filter((n) => n >= min && n <= max && (!options?.integer || Number.isInteger(n)), {
      message: (issue) => `must be ${description} (got ${show(issue.actual)})`
    })
  )
}

/** An integer at least `min`. */
export const intAtLeast = (min: number) => {
  const description = `an integer >= ${min}`
  return number(description).pipe(
    Schema.filter((n) => Number.isSafeInteger(n) && n >= min, {
      message: (issue) => `must be ${description} (got ${show(issue.actual)})`
    })
  )
}

/** Any safe integer. */
export const integer = number("an integer").pipe(
  Schema.filter((n) => Number.isSafeInteger(n), {
    message: (issue) => `must be an integer (got ${show(issue.actual)})`
  })
)

/** Any finite number. */
export const finite = number("a finite number").pipe(
  Schema.filter((n) => Number.isFinite(n), {
    message: (issue) => `must be a finite number (got ${show(issue.actual)})`
  })
)

export const nonEmptyString = (what: string) =>
  Schema.String.annotations({ message: (issue) => `must be ${what} (got ${show(issue.actual)})` }).pipe(
    Schema.filter((s) => s.length > 0, { message: () => `must be ${what}, not empty` })
  )

export const string = (what: string) =>
  Schema.String.annotations({ message: (issue) => `must be ${what} (got ${show(issue.actual)})` })

export const boolean = Schema.Boolean.annotations({
  message: (issue) => `must be true or false (got ${show(issue.actual)})`
})

/** A stop sequence or a list of them. */
export const stop = Schema.Union(Schema.String, Schema.Array(Schema.String)).annotations({
  message: (issue) => ({
    message: `must be a string or an array of strings (got ${show(issue.actual)})`,
    override: true
  })
})

/**
 * `string | null` as one check: the contract of `Schema.NullOr(Schema.String)`, which is a Union and
 * runs a candidate search for every field. In the wire schemas of streamed chunks that search was a
 * fifth of the decoding time.
 */
export const nullableString = Schema.declare(
  (u: unknown): u is string | null => u === null || typeof u === "string",
  { identifier: "string | null" }
)

/** `logit_bias`: token ids (strings of digits) to biases from -100 to 100. */
export const logitBias = Schema.Record({ key: Schema.String, value: range(-100, 100) })
  .annotations({ message: () => "must be an object of token ids to biases from -100 to 100" })
  .pipe(
    Schema.filter((bias) => Object.keys(bias).every((key) => /^\d+$/.test(key)), {
      message: (issue) =>
        `must map token ids (strings of digits) to biases (got the key ${show(Object.keys(issue.actual as object).find((key) => !/^\d+$/.test(key)))})`
    })
  )
