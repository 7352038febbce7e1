/**
 * Parameters checked before anything is sent: unknown names are refused (with the camelCase name
 * when a snake_case one was meant), and `extraBody` is merged into the wire body.
 */
import * as Either from "effect/Either"
import type * as Schema from "effect/Schema"
import { InvalidRequestError } from "../../Errors.js"

/** Names people bring from other LLM APIs that NovelAI has no place for, and why. */
export const COMMON_HINTS: Readonly<Record<string, string>> = {
  tools: "NovelAI has no tool calling",
  tool_choice: "NovelAI has no tool calling",
  functions: "NovelAI has no tool calling",
  function_call: "NovelAI has no tool calling",
  response_format: "NovelAI has no JSON mode",
  stream_options: "NovelAI takes no stream options"
}

const camel = (name: string) => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())

/** The parameter names a request schema takes. */
export const namesOf = (schema: Schema.Schema<any, any>): ReadonlySet<string> => {
  // A struct, a struct refined by a check across its fields, or a union of them (one per kind of
  // request, told apart by a field): the names any member takes.
  const struct = schema as unknown as {
    readonly fields?: Record<string, unknown>
    readonly from?: { readonly fields?: Record<string, unknown> }
    readonly members?: ReadonlyArray<Schema.Schema<any, any>>
  }
  if (struct.fields === undefined && struct.members !== undefined)
    return new Set(struct.members.flatMap((member) => [...namesOf(member)]))
  return new Set(Object.keys(struct.fields ?? struct.from?.fields ?? {}))
}

/** Refuses a name the schema does not take, saying what was probably meant. */
export const checkNames = (
  endpoint: string,
  names: ReadonlySet<string>,
  params: Record<string, unknown>,
  hints: Readonly<Record<string, string>>
): Either.Either<void, InvalidRequestError> => {
  for (const key of Object.keys(params)) {
    if (names.has(key)) continue
    const hint =
      (Object.hasOwn(hints, key) ? hints[key] : undefined) ??
      (names.has(camel(key))
        ? `did you mean ${camel(key)}? (parameters are camelCase here)`
        : "parameters the library does not know yet go in extraBody, as the server names them")
    return Either.left(
      new InvalidRequestError({
        message: `${endpoint}: unknown parameter ${JSON.stringify(key)}: ${hint}`,
        endpoint,
        field: key
      })
    )
  }
  return Either.right(undefined)
}

/** The wire body with `extraBody` merged in; a key already set, or a value JSON cannot carry, is refused. */
export const mergeExtra = (
  endpoint: string,
  body: Record<string, unknown>,
  extra: Record<string, unknown> | undefined
): Either.Either<Record<string, unknown>, InvalidRequestError> => {
  const { extraBody: _, ...wire } = body
  if (extra === undefined) return Either.right(wire)
  const invalid = (message: string, field: string) =>
    Either.left(new InvalidRequestError({ message: `${endpoint}: ${message}`, endpoint, field }))
  for (const key of Object.keys(extra)) {
    if (key in wire || key === "stream") {
      return invalid(
        `extraBody.${key} would replace a parameter the client sets; use its typed parameter instead`,
        `extraBody.${key}`
      )
    }
  }
  try {
    JSON.stringify(extra)
  } catch {
    return invalid("extraBody must be JSON (no BigInt, no cycles)", "extraBody")
  }
  return Either.right({ ...wire, ...extra })
}
