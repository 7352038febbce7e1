import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Errors from "../../Errors.js"
import { type FastFields, fastEncoder, isPlainObject } from "./params.js"

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, key) =>
      typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`,
    ""
  )

/** The first issues of a ParseError as `path: message` lines, for people. */
export const describeIssues = (
  error: ParseResult.ParseError,
  limit = 3
): ReadonlyArray<{ field: string; message: string }> =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .slice(0, limit)
    .map((issue) => ({ field: formatPath(issue.path), message: issue.message }))

/** Stop at the first mismatch: a message names it, and decoding a good chunk allocates no options. */
const FIRST_ERROR = { errors: "first" } as const

/**
 * A decoder for one endpoint's response: never throws, never leaks a ParseError; a mismatch is a
 * {@link Errors.ResponseDecodeError} that names the endpoint and what did not match. With
 * `normalise`, the schema validates the wire shape and `normalise` (typed) builds the result, so
 * the hot streaming path validates each chunk once rather than twice.
 */
export const responseDecoder = <A, I, B = A>(
  schema: Schema.Schema<A, I>,
  what: string,
  normalise?: (decoded: A) => B
) => {
  const decode = Schema.decodeUnknownEither(schema, FIRST_ERROR)
  /** The decoder for the call named `endpoint` (its errors say so). */
  return (endpoint: string) =>
    (input: unknown): Either.Either<B, Errors.ResponseDecodeError> => {
      const result = decode(input)
      if (Either.isRight(result))
        return Either.right(normalise ? normalise(result.right) : (result.right as unknown as B))
      const details = describeIssues(result.left)
        .map((i) => (i.field === "" ? i.message : `${i.field}: ${i.message}`))
        .join("; ")
      return Either.left(
        new Errors.ResponseDecodeError({
          message: `${endpoint}: the ${what} did not have the expected shape (${truncate(details, 400)})`,
          endpoint
        })
      )
    }
}

/**
 * An encoder for one endpoint's parameters: validates ranges and types and renames to the wire's
 * snake_case. A bad value is an {@link Errors.InvalidRequestError} naming the field and the range.
 * The common inputs take the schema's fast path ({@link fastEncoder}, with `fast` for the fields it
 * cannot read off the schema).
 */
export const paramsEncoder = <A, I>(schema: Schema.Schema<A, I>, endpoint: string, fast?: FastFields) => {
  const encode = Schema.encodeUnknownEither(schema)
  const quick = fastEncoder(schema, fast)
  return (input: unknown): Either.Either<I, Errors.InvalidRequestError> => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      return Either.left(
        new Errors.InvalidRequestError({ message: `${endpoint}: parameters must be an object`, endpoint })
      )
    }
    let first: { field: string; message: string } | undefined
    try {
      // The caller's own fields only, each read once: a class instance's or a prototype's are not
      // parameters (the schema's check across fields would see them, the wire would not).
      const own = isPlainObject(input) ? input : { ...input }
      const quickly = quick?.(own)
      if (quickly !== undefined) return Either.right(quickly as I)
      const result = encode(own, { errors: "first" })
      if (Either.isRight(result)) return Either.right(result.right)
      first = describeIssues(result.left, 1)[0]
    } catch {
      // A getter of the caller's that throws, a proxy: refused, never thrown into the call.
      return Either.left(
        new Errors.InvalidRequestError({
          message: `${endpoint}: parameters could not be read (reading them threw)`,
          endpoint
        })
      )
    }
    const field = first?.field === "" ? undefined : first?.field
    return Either.left(
      new Errors.InvalidRequestError({
        message: `${endpoint}: ${field ?? "parameters"} ${first?.message ?? "are invalid"}`,
        endpoint,
        field
      })
    )
  }
}

export const truncate = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max)}…` : text
