/**
 * The client's families, assembled: what the service, the accessors and the facade are derived
 * from. A family added here appears in each of them.
 */
import * as Either from "effect/Either"
import type { ConfigurationError } from "../Errors.js"
import { AccountFamily } from "./account/endpoints.js"
import type { Host } from "./core/endpoint.js"
import { refusal } from "./core/endpoint.js"
import { type Api, type Family, makeApi, type Runner } from "./core/family.js"
import { type EndpointPaths, type OptionsExtension, type Resolved, resolveOptions } from "./core/options.js"
import { ImageFamily } from "./image/endpoints.js"
import { models as imageModels } from "./image/models.js"
import { NativeFamily } from "./native/endpoints.js"
import { models as nativeModels } from "./native/models.js"
import { type NativeSettings, options as nativeOptions } from "./native/options.js"
import { OpenAIFamily } from "./openai/endpoints.js"
import { models as openaiModels } from "./openai/models.js"
import { type OpenAISettings, options as openaiOptions } from "./openai/options.js"

/** The client's settings: the core's and every family's. */
export type Settings = Resolved & OpenAISettings & NativeSettings

/** The families, by the name the service and the facade give them (`client.openai`, `client.text`, `client.image`, `client.account`). */
export const families = {
  openai: OpenAIFamily,
  text: NativeFamily,
  image: ImageFamily,
  account: AccountFamily
} satisfies Record<string, Family<Settings>>

export type Families = typeof families

/** The models of every family, so that a call naming another family's model is refused. */
export const registries = [openaiModels, nativeModels, imageModels]

/** The families' methods on the service. */
export type Apis = { readonly [K in keyof Families]: Api<Families[K]> }

/** Every endpoint path, by host. */
const paths: EndpointPaths = (() => {
  const byHost: Record<Host, Array<string>> = { text: [], image: [] }
  for (const family of Object.values(families) as Array<Family<Settings>>) {
    for (const op of Object.values(family)) {
      if (op.kind !== "local" && !byHost[op.endpoint.host].includes(op.endpoint.path)) {
        byHost[op.endpoint.host].push(op.endpoint.path)
      }
    }
  }
  return byHost
})()

const extension: OptionsExtension<OpenAISettings & NativeSettings> = {
  names: [...openaiOptions.names, ...nativeOptions.names],
  resolve: (input) =>
    Either.flatMap(openaiOptions.resolve(input), (openai) =>
      Either.flatMap(
        nativeOptions.resolve(input),
        (native): Either.Either<OpenAISettings & NativeSettings, string> => {
          const settings = { ...openai, ...native }
          // A default model of another family would fail every call that names none.
          for (const [option, registry, model] of [
            ["defaultModel", openaiModels, settings.defaultModel],
            ["defaultTextModel", nativeModels, settings.defaultTextModel]
          ] as const) {
            const refused = refusal(registry, registries, model)
            if (refused !== undefined) return Either.left(`${option}: ${refused}`)
          }
          return Either.right(settings)
        }
      )
    )
}

/** The client's options, checked; `also`: option names the caller reads itself (the facade's). */
export const resolve = (
  input: unknown,
  also?: ReadonlyArray<string>
): Either.Either<Settings, ConfigurationError> => resolveOptions(input, paths, extension, also)

/** Every family's methods, on one client's runner. */
export const makeApis = (runner: Runner<Settings>): Apis => {
  const apis: Record<string, unknown> = {}
  for (const [name, family] of Object.entries(families))
    apis[name] = makeApi(runner, family as Family<Settings>)
  return apis as Apis
}
