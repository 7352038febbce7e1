/** The native text family's client options: its default model and the tokenizers of its models. */
import * as Either from "effect/Either"
import { DEFAULT_TEXT_MODEL } from "../../TextGeneration.js"
import { type OptionsExtension, show } from "../core/options.js"
import * as Tokenizers from "./tokenizers.js"

export interface NativeSettings {
  /** The model native calls use when they name none. */
  readonly defaultTextModel: string
  /** The native models' tokenizers: the client's own loaders over the defaults. */
  readonly tokenizers: Tokenizers.Tokenizers
}

const loaders = (
  input: unknown
): Either.Either<Readonly<Record<string, Tokenizers.TokenizerLoader>> | undefined, string> => {
  if (input === undefined) return Either.right(undefined)
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return Either.left(`tokenizers must be an object of model ids to loaders (got ${show(input)})`)
  }
  for (const [model, loader] of Object.entries(input)) {
    if (typeof loader !== "function") {
      return Either.left(
        `tokenizers[${JSON.stringify(model)}] must be a function loading the tokenizer, e.g. () => import("llama3-tokenizer-js") (got ${show(loader)})`
      )
    }
  }
  return Either.right(input as Record<string, Tokenizers.TokenizerLoader>)
}

export const options: OptionsExtension<NativeSettings> = {
  names: ["defaultTextModel", "tokenizers"],
  resolve: (input) =>
    Either.gen(function* () {
      const defaultTextModel = input.defaultTextModel ?? DEFAULT_TEXT_MODEL
      if (typeof defaultTextModel !== "string" || defaultTextModel.trim() === "") {
        return yield* Either.left(
          `defaultTextModel must be a non-empty string (got ${show(defaultTextModel)})`
        )
      }
      return { defaultTextModel, tokenizers: Tokenizers.make(yield* loaders(input.tokenizers)) }
    })
}
