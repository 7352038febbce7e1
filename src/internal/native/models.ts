/** The models the native text API serves (Erato, Kayra, Clio and their kin); newer ids pass. */
import type { ModelRegistry } from "../core/endpoint.js"
import type { Resolved } from "../core/options.js"
import type { NativeSettings } from "./options.js"

type Settings = Resolved & NativeSettings

const KNOWN: ReadonlySet<string> = new Set(["llama-3-erato-v1", "kayra-v1", "clio-v1"])

export const models: ModelRegistry<Settings> = {
  family: "native",
  owns: (model) => KNOWN.has(model) || /^(llama-3-erato|kayra|clio)/.test(model),
  describe: "a native model",
  // NovelAI answers 403 to a native call naming another API's model.
  notServed: "not served by the native API (NovelAI answers 403)",
  use: "use client.text.generate (Text.generate) for it",
  defaultModel: (settings) => settings.defaultTextModel
}
