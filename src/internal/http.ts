/**
 * The HTTP pipeline: the user's `HttpClient`, configured once per client with the host, the key,
 * the headers and the tracing choices, then the user's own `transformClient`. Requests are scoped:
 * closing the scope a request runs in aborts it.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { flow, identity } from "effect/Function"
import type * as Scope from "effect/Scope"
import type { Resolved } from "./options.js"

export type ScopedClient = HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope>

export const configure = (client: HttpClient.HttpClient, options: Resolved): ScopedClient =>
  client.pipe(
    HttpClient.mapRequest(
      flow(
        HttpClientRequest.prependUrl(options.baseUrl),
        HttpClientRequest.bearerToken(options.apiKey),
        HttpClientRequest.setHeader("user-agent", options.userAgent),
        HttpClientRequest.setHeaders(options.headers)
      )
    ),
    HttpClient.withTracerPropagation(options.tracePropagation),
    // The endpoint span carries what matters; the platform's http.client span costs about 20 µs a call.
    options.httpSpans ? identity : HttpClient.withTracerDisabledWhen(() => true),
    options.transformClient ?? identity,
    HttpClient.withScope
  )
