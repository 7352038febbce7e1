/**
 * The HTTP pipeline: the user's `HttpClient`, configured once per client with the hosts, the key,
 * the headers and the tracing choices, then the user's own `transformClient`.
 *
 * A call runs on a fiber of its own (see `deadline.ts`), and interrupting it aborts its request. A
 * stream's request outlives the effect that sent it, so streams use the scoped client: closing the
 * stream's scope aborts the request.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import { flow, identity } from "effect/Function"
import { globalValue } from "effect/GlobalValue"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type { Host } from "./endpoint.js"
import { DEFAULT_USER_AGENT, type Resolved } from "./options.js"

export interface Clients {
  readonly client: HttpClient.HttpClient
  readonly scoped: HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope>
  /** The URL of `path` on `host`. */
  readonly url: (host: Host, path: string) => string
}

/**
 * Whether this runs in a browser, a page or a worker. NovelAI answers CORS allowing only the
 * `Authorization` and `Content-Type` request headers, so there the client sends no other of its own
 * (a `User-Agent` would fail the preflight; browsers set `Accept-Encoding` themselves).
 */
export const inBrowser = (): boolean => {
  const scope = globalThis as { document?: unknown; WorkerGlobalScope?: unknown }
  return typeof scope.document === "object" || typeof scope.WorkerGlobalScope === "function"
}

export const configure = (base: HttpClient.HttpClient, options: Resolved): Clients => {
  const browser = inBrowser()
  const userAgent = options.userAgent ?? (browser ? undefined : DEFAULT_USER_AGENT)
  const client = base.pipe(
    HttpClient.mapRequest(
      flow(
        HttpClientRequest.bearerToken(options.apiKey),
        userAgent === undefined ? identity : HttpClientRequest.setHeader("user-agent", userAgent),
        // Uncompressed answers: a transport that does not decode them (undici's request API) would
        // hand the client compressed bytes.
        browser ? identity : HttpClientRequest.setHeader("accept-encoding", "identity"),
        HttpClientRequest.setHeaders(options.headers)
      )
    ),
    HttpClient.withTracerPropagation(options.tracePropagation),
    // The endpoint span carries what matters; the platform's http.client span costs time on every call.
    options.httpSpans ? identity : HttpClient.withTracerDisabledWhen(() => true),
    options.transformClient ?? identity
  )
  const hosts: Readonly<Record<Host, string>> = { text: options.baseUrl, image: options.imageBaseUrl }
  return { client, scoped: withScope(client), url: (host, path) => hosts[host] + path }
}

/**
 * The platform's own map from a request to the controller whose signal its transports use, which
 * `HttpClient.withScope` fills (the platform's `globalValue`, shared by this key).
 */
const scopedRequests = globalValue(
  "@effect/platform/HttpClient/scopedRequests",
  () => new WeakMap<HttpClientRequest.HttpClientRequest, AbortController>()
)

/** The reason a request is aborted with when its scope closes: made once. */
const SCOPE_CLOSED = new DOMException("The request's scope closed", "AbortError")

/**
 * `HttpClient.withScope`, but the request is aborted with one reason made once: the platform's
 * `abort()` builds a `DOMException` and its stack trace on every close, 10 to 17 µs of each call's
 * CPU under Effect's deep stacks. test/core/pipeline.test.ts holds the map to the platform's: were
 * it renamed, the transport would make a controller of its own that closing the scope never aborts.
 */
const withScope = (
  client: HttpClient.HttpClient
): HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope> =>
  HttpClient.transform(client, (effect, request) => {
    const controller = new AbortController()
    scopedRequests.set(request, controller)
    return Effect.zipRight(
      Effect.scopeWith((scope) =>
        Scope.addFinalizer(
          scope,
          Effect.sync(() => controller.abort(SCOPE_CLOSED))
        )
      ),
      effect
    )
  })

/**
 * Runs `effect` with the Fetch client told not to follow redirects (other `RequestInit` options
 * given in the context are kept). The attempts' fibers are forked from a runtime made here, so
 * every request of the client gets it; the other transports follow none by default. A redirect is
 * then an answer like any other, which `errors.ts` reports: the key never goes to another host.
 */
export const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
    Effect.provideService(effect, FetchHttpClient.RequestInit, {
      ...Option.getOrUndefined(init),
      redirect: "manual"
    })
  )
