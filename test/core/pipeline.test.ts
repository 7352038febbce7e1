/**
 * The HTTP pipeline's scoped client: closing a request's scope aborts its request through the
 * signal the transport was given (the platform's own map from request to controller, shared).
 */
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { Resolved } from "../../src/internal/core/options.js"
import { configure } from "../../src/internal/core/pipeline.js"

const options = {
  apiKey: Redacted.make("pst-test"),
  baseUrl: "http://127.0.0.1:1",
  imageBaseUrl: "http://127.0.0.1:2",
  userAgent: undefined,
  headers: {},
  tracePropagation: false,
  httpSpans: false,
  transformClient: undefined
} as unknown as Resolved

describe("the scoped client", () => {
  it.effect("closing the scope aborts the transport's signal, as an AbortError; an open scope does not", () =>
    Effect.gen(function* () {
      const signals: Array<AbortSignal> = []
      const transport = HttpClient.make((request, _url, signal) => {
        signals.push(signal)
        return Effect.succeed(HttpClientResponse.fromWeb(request, new Response("{}")))
      })
      const { scoped } = configure(transport, options)
      const request = HttpClientRequest.get("http://127.0.0.1:1/x")
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* scoped.execute(request)
          expect(signals[0]?.aborted).toBe(false)
        })
      )
      expect(signals).toHaveLength(1)
      const [signal] = signals
      expect(signal?.aborted).toBe(true)
      expect(signal?.reason).toBeInstanceOf(DOMException)
      expect((signal?.reason as DOMException | undefined)?.name).toBe("AbortError")
      // Each request has a controller of its own.
      yield* Effect.scoped(scoped.execute(request))
      expect(signals[1]).not.toBe(signals[0])
      expect(signals[1]?.aborted).toBe(true)
    })
  )
})
