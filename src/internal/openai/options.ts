/** The `/oa/v1` family's client option: the model a call naming none gets. */
import * as Either from "effect/Either"
import { type OptionsExtension, show } from "../core/options.js"

export const DEFAULT_MODEL = "glm-4-6"

export interface OpenAISettings {
  /** The model `/oa/v1` calls use when they name none. */
  readonly defaultModel: string
}

export const options: OptionsExtension<OpenAISettings> = {
  names: ["defaultModel"],
  resolve: (input) => {
    const defaultModel = input.defaultModel ?? DEFAULT_MODEL
    return typeof defaultModel === "string" && defaultModel.trim() !== ""
      ? Either.right({ defaultModel })
      : Either.left(`defaultModel must be a non-empty string (got ${show(defaultModel)})`)
  }
}
