/** The models `/oa/v1` serves (GLM, Xialong), and the default a call naming none gets. */
import type { ModelRegistry } from "../core/endpoint.js"
import type { Resolved } from "../core/options.js"
import type { OpenAISettings } from "./options.js"

type Settings = Resolved & OpenAISettings

export const models: ModelRegistry<Settings> = {
  family: "/oa/v1",
  owns: (model) => /^(glm-|xialong-)/.test(model),
  describe: "an /oa/v1 model",
  notServed: "not served on /oa/v1",
  use: "use client.openai.completion or chatCompletion for it",
  defaultModel: (settings) => settings.defaultModel
}
