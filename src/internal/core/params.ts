/**
 * Parameters checked before anything is sent: unknown names are refused (with the camelCase name
 * when a snake_case one was meant), the common ones encoded without the schema's interpreter when
 * the schema says that is the same, and `extraBody` is merged into the wire body.
 */
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
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

/**
 * Encoders of the fields {@link fastEncoder} cannot read off the schema (a transformation, a nested
 * struct): each gives the field's encoded value, or undefined to leave the input to the schema.
 */
export type FastFields = Readonly<Record<string, (value: unknown) => unknown>>

/**
 * Whether values of `ast` encode to themselves: no transformation on the way, and no object in them
 * but arrays (whose encoding is a copy of the same values).
 */
const encodesToItself = (ast: SchemaAST.AST): boolean => {
  switch (ast._tag) {
    case "StringKeyword":
    case "NumberKeyword":
    case "BooleanKeyword":
    case "UndefinedKeyword":
    case "Literal":
      return true
    case "Refinement":
      return encodesToItself(ast.from)
    case "Union":
      return ast.types.every(encodesToItself)
    case "TupleType":
      return (
        ast.elements.every((element) => encodesToItself(element.type)) &&
        ast.rest.every((rest) => encodesToItself(rest.type))
      )
    default:
      return false
  }
}

/** The options `Schema.is` validates with (its refinements' filters are given them). */
const IS_OPTIONS = { exact: true } as const

/**
 * The guard `Schema.is` makes for a type that encodes to itself, compiled to plain checks: the
 * interpreter's validator costs 1 to 3 µs a field on a call's path (7 to 16 µs a call in the CPU
 * profiles), these a few nanoseconds. A refinement still runs its own filter, as `Schema.is` does.
 * Undefined for a shape it does not compile (an optional tuple element): `Schema.is` has it.
 */
export const guardOf = (ast: SchemaAST.AST): ((u: unknown) => boolean) | undefined => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Refinement": {
      const from = guardOf(ast.from)
      if (from === undefined) return undefined
      return (u) => from(u) && Option.isNone(ast.filter(u, IS_OPTIONS, ast))
    }
    case "Union": {
      const members = ast.types.map(guardOf)
      if (!members.every((member) => member !== undefined)) return undefined
      // A set matches as SameValueZero (NaN too); Schema.is compares with ===.
      if (ast.types.every((type) => type._tag === "Literal" && !Number.isNaN(type.literal))) {
        const literals = new Set<unknown>(ast.types.map((type) => (type as SchemaAST.Literal).literal))
        return (u) => literals.has(u)
      }
      return (u) => members.some((member) => member(u))
    }
    case "TupleType": {
      if (ast.elements.some((element) => element.isOptional) || ast.rest.length > 1) return undefined
      const elements = ast.elements.map((element) => guardOf(element.type))
      const rest = ast.rest.length === 1 ? guardOf(ast.rest[0]!.type) : null
      if (!elements.every((element) => element !== undefined) || rest === undefined) return undefined
      const n = elements.length
      return (u) => {
        if (!Array.isArray(u) || (rest === null ? u.length !== n : u.length < n)) return false
        for (let i = 0; i < n; i++) if (!elements[i]!(u[i])) return false
        if (rest !== null) for (let i = n; i < u.length; i++) if (!rest(u[i])) return false
        return true
      }
    }
    default:
      return undefined
  }
}

interface Field {
  readonly key: string
  readonly wire: string
  readonly required: boolean
  /** The encoded value, or undefined when the schema must have the input. */
  readonly encode: (value: unknown) => unknown
}

/** One field of a struct, if its values encode to themselves (under a name of their own on the wire). */
const plainField = (key: string, field: unknown): Field | undefined => {
  const ast = (field as { readonly ast: SchemaAST.AST | Schema.PropertySignature.AST }).ast
  let type: SchemaAST.AST
  let wire = key
  let required = true
  if (ast._tag === "PropertySignatureDeclaration") {
    type = ast.type
    required = !ast.isOptional
  } else if (ast._tag === "PropertySignatureTransformation") {
    // Only a rename (`Schema.fromKey`): the value itself passes through both ways.
    if (ast.decode !== identity || ast.encode !== identity) return undefined
    type = ast.from.type
    const from = ast.from.fromKey ?? key
    if (typeof from !== "string") return undefined
    wire = from
    required = !ast.from.isOptional
  } else {
    type = ast
  }
  if (!encodesToItself(type)) return undefined
  const is = guardOf(type) ?? Schema.is(Schema.make(type))
  // As the schema does, arrays go on the wire as new plain ones (not the caller's, nor its
  // subclass or extra fields), each element read once by index; the copy is what is checked and
  // sent, so an array's own iterator or getters cannot make the two differ.
  const encode = (value: unknown) => {
    const copied = copy(value)
    return is(copied) ? copied : undefined
  }
  return { key, wire, required, encode }
}

/** A value that encodes to itself, its arrays copied into plain ones. */
const copy = (value: unknown): unknown => {
  if (!Array.isArray(value)) return value
  const length = value.length
  const out = new Array<unknown>(length)
  for (let i = 0; i < length; i++) out[i] = copy(value[i])
  return out
}

/**
 * Whether `value` is an object literal's kind (its prototype `Object.prototype` or none): the only
 * inputs the fast paths take, so that no inherited property (a class's getter, a prototype's field)
 * is read as a parameter.
 */
export const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== "object" || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Whether a struct's field must be in the value it encodes (its type side is not optional). */
const requiredOf = (field: unknown): boolean => {
  const ast = (field as { readonly ast: SchemaAST.AST | Schema.PropertySignature.AST }).ast
  if (ast._tag === "PropertySignatureDeclaration") return !ast.isOptional
  if (ast._tag === "PropertySignatureTransformation") return !ast.to.isOptional
  return true
}

/**
 * What `Schema.encodeUnknownEither(schema)` gives for the inputs it is quick to check, without
 * running the schema: for a struct (fields renamed or not, no check across them), an input whose
 * fields are each of a type whose values encode to themselves (numbers, strings, booleans and
 * literals, refined or not, and arrays of them) or have an encoder in `fast`, and pass their
 * field's own check, then the struct's check across its fields if it has one. Any
 * other input (an undefined value, a field of another kind, a value the field refuses) gives
 * undefined, and the schema has it and words the refusal. Undefined when `schema` is not such a
 * struct. Running the schema's interpreter over a chat's parameters costs 8 µs in a hot loop and
 * several times that on a call's path; these checks cost a fraction of a microsecond.
 */
export const fastEncoder = (
  schema: Schema.Schema<any, any>,
  fast: FastFields = {}
): ((input: Record<string, unknown>) => Record<string, unknown> | undefined) | undefined => {
  const struct = schema as unknown as {
    readonly fields?: Record<string, unknown>
    readonly from?: { readonly fields?: Record<string, unknown> }
  }
  // A check across the fields (a refinement of the struct) runs on the input once its fields pass.
  const checks: Array<SchemaAST.Refinement> = []
  let ast = schema.ast
  while (ast._tag === "Refinement") {
    checks.push(ast)
    ast = ast.from
  }
  const isStruct =
    ast._tag === "TypeLiteral" ||
    (ast._tag === "Transformation" && ast.transformation._tag === "TypeLiteralTransformation")
  const structFields = checks.length === 0 ? struct.fields : struct.from?.fields
  if (structFields === undefined || !isStruct || checks.length > 1) return undefined
  const fields: Array<Field> = []
  for (const [key, field] of Object.entries(structFields)) {
    const special = fast[key]
    const plain = plainField(key, field)
    if (special !== undefined) {
      fields.push({ key, wire: plain?.wire ?? key, required: requiredOf(field), encode: special })
    } else if (plain !== undefined) {
      fields.push(plain)
    } else {
      // A field of another kind: the schema has every input that gives it, or lacks it when the
      // field's type requires it.
      fields.push({ key, wire: key, required: requiredOf(field), encode: () => undefined })
    }
  }
  return (input) => {
    if (!isPlainObject(input)) return undefined
    const out: Record<string, unknown> = {}
    // The fields as read, each once: what the struct's check across them is made on.
    const read: Record<string, unknown> | undefined = checks.length === 0 ? undefined : {}
    let seen = 0
    for (const field of fields) {
      if (!Object.hasOwn(input, field.key)) {
        if (field.required) return undefined
        continue
      }
      const value = input[field.key]
      if (value === undefined) return undefined
      const encoded = field.encode(value)
      if (encoded === undefined) return undefined
      out[field.wire] = encoded
      if (read !== undefined) read[field.key] = value
      seen++
    }
    // A name the struct does not have (checkNames refuses them before; this keeps it exact).
    if (seen !== Object.keys(input).length) return undefined
    // Fields that encode to themselves: as read, they are the struct's value the check is made on.
    for (const check of checks) if (Option.isSome(check.filter(read, {}, check))) return undefined
    return out
  }
}
