/**
 * The facade's default transport everywhere but Node: the Fetch client (Bun, Deno, browsers, edge
 * workers). Chosen by the package's `#default-http` import conditions (see `package.json`), so a
 * bundler for the browser never sees the Node-only client; `defaultHttp.node.ts` is Node's.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Layer from "effect/Layer"

export const defaultHttpClient: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer

/** Which one this is, for the facade's `transport` and for tests. */
export const defaultTransport: "fetch" | "undici" = "fetch"
