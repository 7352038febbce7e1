/**
 * The native models' tokenizers: which model uses which, loaded once per process on first use (a
 * call that needs none loads none), and text encoded without BOS or EOS.
 */
import * as Effect from "effect/Effect"
import { loadLlama3 } from "#llama3"
import { InvalidRequestError } from "../../Errors.js"

/** A tokenizer as this library uses one: token ids of a text, without BOS or EOS. */
export interface Tokenizer {
  readonly encode: (text: string) => ReadonlyArray<number>
}

/** Loads a tokenizer: an object with `encode`, or a module whose default export is one. */
export type TokenizerLoader = () => unknown

/** The tokenizers this library loads by itself: Erato's, where the runtime can load it. */
const DEFAULTS: Readonly<Record<string, TokenizerLoader | undefined>> = {
  "llama-3-erato-v1": loadLlama3
}

/** What each native model's tokenizer is, for messages. */
const KNOWN: Readonly<Record<string, string>> = {
  "llama-3-erato-v1": "Llama 3's",
  "kayra-v1": "nerdstash v2",
  "clio-v1": "nerdstash v1"
}

type Encoder = { readonly encode: (text: string, options?: { bos: boolean; eos: boolean }) => unknown }

const isEncoder = (u: unknown): u is Encoder =>
  (typeof u === "object" || typeof u === "function") &&
  u !== null &&
  typeof (u as { encode?: unknown }).encode === "function"

/** The loaded tokenizers, by loader: one load per process, whichever client asks. */
const loaded = new WeakMap<TokenizerLoader, Promise<Tokenizer>>()

const adapt = (value: unknown): Tokenizer => {
  const encoder = isEncoder(value)
    ? value
    : isEncoder((value as { default?: unknown } | null)?.default)
      ? (value as { default: Encoder }).default
      : undefined
  if (encoder === undefined) throw new TypeError("the loader gave no object with an encode(text) method")
  return {
    encode: (text) => {
      // llama3-tokenizer-js adds BOS and EOS unless told not to; a tokenizer without options ignores them.
      const ids = encoder.encode(text, { bos: false, eos: false })
      if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
        throw new TypeError("the tokenizer's encode(text) did not return an array of token ids")
      }
      return ids as ReadonlyArray<number>
    }
  }
}

/**
 * The ids of `text`, or why not as a request error: a tokenizer of the user's that throws or
 * returns something other than ids refuses the call, it does not crash it.
 */
export const encode = (
  tokenizer: Tokenizer,
  text: string,
  model: string,
  endpoint: string,
  field: string
): Effect.Effect<ReadonlyArray<number>, InvalidRequestError> =>
  Effect.try({
    try: () => tokenizer.encode(text),
    catch: (error) =>
      new InvalidRequestError({
        message: `${endpoint}: ${field}: ${model}'s tokenizer failed: ${error instanceof Error ? error.message : String(error)}`,
        endpoint,
        field
      })
  })

const load = (loader: TokenizerLoader): Promise<Tokenizer> => {
  let promise = loaded.get(loader)
  if (promise === undefined) {
    promise = Promise.resolve()
      .then(loader)
      .then(adapt)
      .catch((error: unknown) => {
        // A failed load is tried again by the next call (the package may be installed by then).
        loaded.delete(loader)
        throw error
      })
    loaded.set(loader, promise)
  }
  return promise
}

/** The tokenizers of one client: its own loaders over the defaults. */
export interface Tokenizers {
  /** The tokenizer of `model`, loading it on first use; why not, as a request error of `endpoint`. */
  readonly get: (
    model: string,
    endpoint: string,
    field: string
  ) => Effect.Effect<Tokenizer, InvalidRequestError>
}

export const make = (custom: Readonly<Record<string, TokenizerLoader>> | undefined): Tokenizers => ({
  get: (model, endpoint, field) => {
    const loader = custom?.[model] ?? DEFAULTS[model]
    const refuse = (why: string) =>
      Effect.fail(new InvalidRequestError({ message: `${endpoint}: ${field} ${why}`, endpoint, field }))
    if (loader === undefined) {
      const which = KNOWN[model]
      return refuse(
        which === undefined
          ? `as text needs ${model}'s tokenizer, which this library does not know: give token ids, or a loader in the client's \`tokenizers\` option`
          : model in DEFAULTS
            ? `as text needs ${model}'s tokenizer (${which}), which is not loaded by default here: give token ids, or pass \`tokenizers: { "${model}": () => import("llama3-tokenizer-js") }\` to the client`
            : `as text needs ${model}'s tokenizer (${which}), which no package ships that this library could verify: give token ids, or a loader in the client's \`tokenizers\` option`
      )
    }
    return Effect.tryPromise({
      try: () => load(loader),
      catch: (error) =>
        new InvalidRequestError({
          message: `${endpoint}: ${field} as text needs ${model}'s tokenizer, which could not be loaded${
            loader === DEFAULTS[model]
              ? " (install the optional package llama3-tokenizer-js, or give token ids)"
              : ""
          }: ${error instanceof Error ? error.message : String(error)}`,
          endpoint,
          field
        })
    })
  }
})
