/**
 * The facade's default transport on Node: `@effect/platform-node`'s undici client, the faster one
 * there, when that optional peer is installed, else the Fetch client. (Bun and Deno, which also
 * answer to the `node` condition, get `defaultHttp.ts`: their undici has no `Dispatcher.request`.)
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

export const defaultHttpClient: Layer.Layer<HttpClient.HttpClient> = Layer.unwrapEffect(
  Effect.tryPromise(() => import("@effect/platform-node/NodeHttpClient")).pipe(
    Effect.map((module) => module.layerUndici),
    Effect.orElseSucceed(() => FetchHttpClient.layer)
  )
)

/** Which one this is, for the facade's `transport` and for tests. */
export const defaultTransport: "fetch" | "undici" = "undici"
