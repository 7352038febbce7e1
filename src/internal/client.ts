/**
 * The client's families, assembled: what the service, the accessors and the facade are derived
 * from. A family added here appears in each of them.
 */
import type * as Either from "effect/Either"
import type { ConfigurationError } from "../Errors.js"
import type { Host } from "./core/endpoint.js"
import { type Api, type Family, makeApi, type Runner } from "./core/family.js"
import { type EndpointPaths, type Resolved, resolveOptions } from "./core/options.js"
import { NativeFamily } from "./native/endpoints.js"
import { models as nativeModels } from "./native/models.js"
import { OpenAIFamily } from "./openai/endpoints.js"
import { models as openaiModels } from "./openai/models.js"

/** The families, by the name the service and the facade give them (`client.openai`, `client.text`). */
export const families = {
  openai: OpenAIFamily,
  text: NativeFamily
} satisfies Record<string, Family<Resolved>>

export type Families = typeof families

/** The models of every family, so that a call naming another family's model is refused. */
export const registries = [openaiModels, nativeModels]

/** The families' methods on the service. */
export type Apis = { readonly [K in keyof Families]: Api<Families[K]> }

/** Every endpoint path, by host. */
const paths: EndpointPaths = (() => {
  const byHost: Record<Host, Array<string>> = { text: [], image: [] }
  for (const family of Object.values(families) as Array<Family<Resolved>>) {
    for (const op of Object.values(family)) {
      if (op.kind !== "local" && !byHost[op.endpoint.host].includes(op.endpoint.path)) {
        byHost[op.endpoint.host].push(op.endpoint.path)
      }
    }
  }
  return byHost
})()

/** The client's options, checked. */
export const resolve = (input: unknown): Either.Either<Resolved, ConfigurationError> =>
  resolveOptions(input, paths)

/** Every family's methods, on one client's runner. */
export const makeApis = (runner: Runner<Resolved>): Apis => {
  const apis: Record<string, unknown> = {}
  for (const [name, family] of Object.entries(families))
    apis[name] = makeApi(runner, family as Family<Resolved>)
  return apis as Apis
}
