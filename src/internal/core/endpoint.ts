/**
 * What an endpoint is, as data a family declares once: its name, host and path, its parameters'
 * schema and result type, how its answer is read, the generation slot it takes, and for a stream
 * what its events mean (how progress is observed, when it is complete, what ends it). `run.ts`
 * makes calls of them; the service, the accessors and the facade are derived from a family's
 * declarations (see `family.ts`).
 */
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Schema from "effect/Schema"
import type * as Tracer from "effect/Tracer"
import type * as Errors from "../../Errors.js"
import type { Runner } from "./family.js"
import type { GenerationSlot } from "./gate.js"
import type { BudgetAccount, Resolved } from "./options.js"
import type { FastFields } from "./params.js"
import type { Progress } from "./progress.js"
import type { ZipEntry } from "./zip.js"

/** The hosts an endpoint may live on, each set by an option (`baseUrl` for text). */
export type Host = "text" | "image"

/**
 * The largest body a call reads by default, by host (`maxResponseBytes` overrides it): the largest
 * text answer seen is far below 16 MiB; image answers carry several PNGs.
 */
export const DEFAULT_MAX_RESPONSE_BYTES: Readonly<Record<Host, number>> = {
  text: 16 * 1024 * 1024,
  image: 128 * 1024 * 1024
}

/**
 * The models a family serves, and the default a call naming none gets. A call naming a model that
 * another family of the client owns is refused before it is sent, with where to take it instead.
 */
export interface ModelRegistry<S = Resolved> {
  /** The family's name, for messages. */
  readonly family: string
  /** Whether `model` is one of this family's (a pattern: newer ids of the family pass). */
  readonly owns: (model: string) => boolean
  /** What a model of this family is, for messages: "a native model". */
  readonly describe: string
  /** Why another family's model fails here: "not served on /oa/v1". */
  readonly notServed: string
  /** Where a model of this family goes instead: "use client.text.generate for it". */
  readonly use: string
  /** The model a call naming none gets, from the client's settings. */
  readonly defaultModel: (settings: S) => string
}

/** Why `registry`'s endpoints may not be called with `model`, when another of `all` owns it. */
export const refusal = (
  registry: ModelRegistry<any>,
  all: ReadonlyArray<ModelRegistry<any>>,
  model: unknown
): string | undefined => {
  if (typeof model !== "string" || registry.owns(model)) return undefined
  const owner = all.find((other) => other !== registry && other.owns(model))
  return owner === undefined
    ? undefined
    : `${model} is ${owner.describe}, ${registry.notServed}: ${owner.use}`
}

/** What every endpoint has. `P`: its parameters as callers write them; `S`: the settings it reads. */
interface Common<P, S> {
  /** The call's name: the span is `NovelAI.<name>`, errors say `<name>: ...`. */
  readonly name: string
  /** `gen_ai.operation.name`. */
  readonly operation: string
  readonly host: Host
  readonly path: string
  /**
   * The request schema (camelCase in, the wire's snake_case out), whose `model` defaults to the
   * registry's; undefined: no body.
   */
  readonly params: Schema.Schema<P, any> | undefined
  /** The encoders of the fields whose common values skip the schema, when it cannot tell (see `Params.fastEncoder`). */
  readonly fastFields?: FastFields | undefined
  /** The generation slot it takes (it runs a generation), or undefined. */
  readonly slot: GenerationSlot | undefined
  /** Its own default cap on the body it reads, when not its host's (`DEFAULT_MAX_RESPONSE_BYTES`). */
  readonly maxResponseBytes?: number | undefined
  readonly models: ModelRegistry<S>
  /** Takes any family's model (a token count of the spec counts for native models too). */
  readonly anyModel?: boolean | undefined
  /** What to say of a parameter name the endpoint does not take, by name. */
  readonly hints: Readonly<Record<string, string>>
  /**
   * The body from the encoded parameters, when it is not them as they are (the native API's
   * `parameters`, its text sequences tokenized); given the client's settings.
   */
  readonly body:
    | ((
        settings: S
      ) => (
        name: string,
        wire: Record<string, unknown>
      ) => Effect.Effect<Record<string, unknown>, Errors.InvalidRequestError>)
    | undefined
}

/** An endpoint whose answer is one JSON document. */
export interface CallEndpoint<P, A, S = Resolved> extends Common<P, S> {
  readonly method: "GET" | "POST"
  /** The decoder of an answer, for a call of that name (its errors say so). */
  readonly decode: (name: string) => (json: unknown) => Either.Either<A, Errors.NovelAIError>
  /** Annotates the call's span with what a result says. */
  readonly annotate: ((span: Tracer.Span | undefined, result: A) => void) | undefined
}

/** An endpoint answering with an event stream of chunks. */
export interface StreamEndpoint<P, A, S = Resolved> extends Common<P, S> {
  /** The decoder of one event's data into a chunk, for a call of that name. */
  readonly decode: (name: string) => (json: unknown) => Either.Either<A, Errors.NovelAIError>
  /** SSE event names that carry chunks ("message": an event without a name). */
  readonly chunkEvents: ReadonlySet<string>
  /** The data of an event that ends the stream at once (`[DONE]`), if the family has one. */
  readonly doneData: string | undefined
  /** Records what a chunk says about the generation. */
  readonly observe: (chunk: A, progress: Progress) => void
  /** How many parts (choices, samples) a request asks for: the stream is complete when each finished. */
  readonly parts: (params: Record<string, unknown>) => number
  /** A per-stream rewrite of the chunks (thinking split out of the text), if any. */
  readonly rewrite: (() => Rewrite<A>) | undefined
  /** What a complete stream has that a truncated one lacks, for the error's message. */
  readonly ending: string
}

/** A stateful rewrite of one stream's chunks. */
export interface Rewrite<A> {
  /** The chunk as handed over. */
  readonly map: (chunk: A) => A
  /** When the stream has completed: chunks for text still held back, if any. */
  readonly flush: () => ReadonlyArray<A>
}

/** `fast` where it accepts the input, else `decode`. */
export const withFastPath =
  <A, E>(
    fast: (json: unknown) => A | undefined,
    decode: (name: string) => (json: unknown) => Either.Either<A, E>
  ) =>
  (name: string) => {
    const slow = decode(name)
    return (json: unknown): Either.Either<A, E> => {
      const result = fast(json)
      return result === undefined ? slow(json) : Either.right(result)
    }
  }

/** A paid call's estimated price, for a budget (`maxAnlas`, `freeOnly`). */
export interface Price {
  readonly anlas: number
  readonly free: boolean
  /** Where the Anlas come from, for people. */
  readonly detail: string
}

/**
 * The price of a call with `params` (as the caller gave them) for `account`; undefined: the account
 * is not known, and the price is the upper bound (no free rule applies).
 */
export type Pricing = (params: unknown, account: BudgetAccount | undefined) => Price

/**
 * An endpoint whose answer is a ZIP archive (NovelAI's images). Its result is made from the
 * entries and from the body that was sent (a seed drawn for the call, the sizes asked for).
 */
export interface ArchiveEndpoint<P, A, S = Resolved> extends Common<P, S> {
  readonly method: "POST"
  /** A paid generation: not retried once its answer has started, nor on a 500 (see `binary.ts`). */
  readonly paid: boolean
  /** What a call costs, for a budget. */
  readonly price?: Pricing | undefined
  /** Which of the archive's entries are the answer. */
  readonly keep: (name: string) => boolean
  /**
   * The answer is raw bytes, not a ZIP archive (a vibe encoding): read whole, within the call's
   * limit, and given to `decode` as one entry named `body`.
   */
  readonly raw?: boolean | undefined
  /** What the call needs from other calls of the client before it is sent (see {@link Completion}). */
  readonly complete?: ((runner: Runner<S>) => Completion) | undefined
  readonly decode: (
    name: string
  ) => (
    entries: ReadonlyArray<ZipEntry>,
    sent: Record<string, unknown>
  ) => Either.Either<A, Errors.NovelAIError>
}

/**
 * An endpoint answering with a stream of frames: length-prefixed msgpack maps, or SSE events
 * carrying the same objects as JSON (chosen by the answer's content type).
 */
export interface FrameStreamEndpoint<P, A, S = Resolved> extends Common<P, S> {
  /** The `Accept` header sent. */
  readonly accept: string
  /**
   * The most bytes one frame may have, unless the call's `maxResponseBytes` is lower (the stream as
   * a whole is the user's to hold, as a text stream is).
   */
  readonly frameLimit: number
  /** A paid generation: not retried once its answer has started, nor on a 500 (see `binary.ts`). */
  readonly paid: boolean
  /** What a call costs, for a budget. */
  readonly price?: Pricing | undefined
  /** What the call needs from other calls of the client before it is sent (see {@link Completion}). */
  readonly complete?: ((runner: Runner<S>) => Completion) | undefined
  /** One frame's object into a chunk (undefined: none), knowing the body that was sent. */
  readonly decode: (
    name: string
  ) => (frame: unknown, sent: Record<string, unknown>) => Either.Either<A | undefined, Errors.NovelAIError>
  readonly observe: (chunk: A, progress: Progress) => void
  /** How many parts (samples) the sent body asks for: the stream is complete when each finished. */
  readonly parts: (sent: Record<string, unknown>) => number
  /** What a complete stream has that a truncated one lacks, for the error's message. */
  readonly ending: string
}

/**
 * What a call needs from other calls of the same client before it is sent (a generation's vibes
 * given as images, encoded by the client's own encode call), made once per client, so that what
 * it keeps (a cache) is that client's. `params` runs first: the parameters as priced and budgeted,
 * with what the client already holds filled in; `wire` runs once the body is checked and the
 * budget passed: the body with the rest fetched, under the call's options.
 */
export interface Completion {
  readonly params: (params: unknown) => unknown
  readonly wire: (
    name: string,
    wire: Record<string, unknown>,
    options: unknown
  ) => Effect.Effect<Record<string, unknown>, Errors.NovelAIError>
}
