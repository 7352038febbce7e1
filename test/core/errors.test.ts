import { inspect } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Stream, TestClock } from "effect"
import {
  AuthenticationError,
  Errors,
  InvalidRequestError,
  isNovelAIError,
  OpenAI,
  RateLimitError,
  ServerError,
  TimeoutError
} from "effect-novelai"
import { API_KEY, json, makeTestClient } from "../support.js"

const bodies: ReadonlyArray<[string, (status: number, message: string) => Response]> = [
  ["{ statusCode, message }", (status, message) => json({ statusCode: status, message }, { status })],
  ['{ error: "..." }', (status, message) => json({ error: message }, { status })],
  [
    "{ error: { message, type, code } }",
    (status, message) => json({ error: { message, type: "invalid_request_error", code: "bad" } }, { status })
  ],
  [
    "plain text",
    (status, message) => new Response(message, { status, headers: { "content-type": "text/plain" } })
  ]
]

const table: ReadonlyArray<[number, string]> = [
  [400, "InvalidRequestError"],
  [401, "AuthenticationError"],
  [402, "AuthenticationError"],
  [403, "AuthenticationError"],
  [404, "InvalidRequestError"],
  [408, "TimeoutError"],
  [409, "InvalidRequestError"],
  [413, "InvalidRequestError"],
  [422, "InvalidRequestError"],
  [429, "RateLimitError"],
  [500, "ServerError"],
  [502, "ServerError"],
  [503, "ServerError"]
]

const expectNoKey = (error: unknown) => {
  const texts = [
    (error as Error).message,
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
    (error as Error).stack ?? ""
  ]
  for (const text of texts) expect(text).not.toContain(API_KEY)
}

const call = (layer: ReturnType<typeof makeTestClient>["layer"]) =>
  OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }).pipe(
    Effect.flip,
    Effect.provide(layer)
  )

describe("HTTP errors map to the NovelAIError union with the server's message", () => {
  for (const [status, tag] of table) {
    for (const [shape, respond] of bodies) {
      it.effect(`${status} with ${shape} -> ${tag}`, () =>
        Effect.gen(function* () {
          const message = `server says ${status}`
          const { layer } = makeTestClient(() => respond(status, message))
          const error = yield* call(layer)
          expect(error._tag).toBe(tag)
          expect(error.status).toBe(status)
          expect(error.message).toContain(message)
          expect(error.endpoint).toBe("chatCompletion")
          expect(error).toBeInstanceOf(Error)
          expect(isNovelAIError(error)).toBe(true)
          expectNoKey(error)
        })
      )
    }
  }

  it.effect("401/402/403 are AuthenticationError, with subscription and permission said", () =>
    Effect.gen(function* () {
      const e402 = yield* call(
        makeTestClient(() => json({ statusCode: 402, message: "no sub" }, { status: 402 })).layer
      )
      expect(e402).toBeInstanceOf(AuthenticationError)
      expect(e402.message).toMatch(/an active NovelAI subscription is required/i)
      const e403 = yield* call(
        makeTestClient(() => json({ statusCode: 403, message: "tier" }, { status: 403 })).layer
      )
      expect(e403.message).toMatch(/permission denied/i)
      const empty = yield* call(makeTestClient(() => new Response("", { status: 401 })).layer)
      expect(empty).toBeInstanceOf(AuthenticationError)
      expect(empty.message).toMatch(/NOVELAI_API_KEY/)
    })
  )

  // An HTTP-date Retry-After is measured against the clock (here the TestClock, set to a known date).
  it.effect("429 carries retryAfter from retry-after-ms, retry-after seconds, or an HTTP date", () =>
    Effect.gen(function* () {
      const now = Date.parse("2026-11-26T12:00:00Z")
      yield* TestClock.setTime(now)
      const respond = (headers: Record<string, string>) => () =>
        json({ statusCode: 429, message: "concurrent generation is locked" }, { status: 429, headers })
      const ms = yield* call(makeTestClient(respond({ "retry-after-ms": "1500", "retry-after": "9" })).layer)
      expect(ms).toBeInstanceOf(RateLimitError)
      if (!(ms instanceof RateLimitError)) return
      expect(ms.retryAfter && Duration.toMillis(ms.retryAfter)).toBe(1500)
      const seconds = yield* call(makeTestClient(respond({ "retry-after": "3" })).layer)
      expect(
        (seconds as RateLimitError).retryAfter && Duration.toMillis((seconds as RateLimitError).retryAfter!)
      ).toBe(3000)
      const date = new Date(now + 10_000).toUTCString()
      const dated = (yield* call(makeTestClient(respond({ "retry-after": date })).layer)) as RateLimitError
      expect(Duration.toMillis(dated.retryAfter!)).toBe(10_000)
      const none = (yield* call(makeTestClient(respond({})).layer)) as RateLimitError
      expect(none.retryAfter).toBeUndefined()
      expect(none.message).toBe("concurrent generation is locked")
    })
  )

  it.effect("requestId comes from x-request-id", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() =>
        json({ statusCode: 500, message: "boom" }, { status: 500, headers: { "x-request-id": "req_123" } })
      )
      const error = yield* call(layer)
      expect(error).toBeInstanceOf(ServerError)
      expect(error.requestId).toBe("req_123")
    })
  )

  it.effect("an { error } body with status 200 is an error, not a result", () =>
    Effect.gen(function* () {
      const plain = yield* call(makeTestClient(() => json({ error: "model overloaded" })).layer)
      expect(plain).toBeInstanceOf(ServerError)
      expect(plain.message).toBe("model overloaded")
      const locked = yield* call(
        makeTestClient(() => json({ error: { message: "concurrent generation is locked", code: 429 } })).layer
      )
      expect(locked).toBeInstanceOf(RateLimitError)
      const invalid = yield* call(makeTestClient(() => json({ statusCode: 400, message: "bad input" })).layer)
      expect(invalid).toBeInstanceOf(InvalidRequestError)
      expect(invalid.message).toBe("bad input")
    })
  )

  it.effect("a key echoed by the server is scrubbed from the message", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() =>
        json({ statusCode: 401, message: `invalid token Bearer ${API_KEY}` }, { status: 401 })
      )
      const error = yield* call(layer)
      expect(error.message).toContain("[redacted]")
      expectNoKey(error)
    })
  )

  it.effect("a failed connection is a TransportError without the key", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() => {
        throw new TypeError("fetch failed")
      })
      const error = yield* OpenAI.listModels().pipe(Effect.flip, Effect.provide(layer))
      expect(error).toBeInstanceOf(Errors.TransportError)
      expect(error.message).toMatch(/listModels: the request could not be sent \(fetch failed\)/)
      expectNoKey(error)
    })
  )

  it.effect("a stream request answered with an error status fails before any chunk", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() => json({ statusCode: 408, message: "slow" }, { status: 408 }))
      const error = yield* OpenAI.chatCompletionStream({ messages: [{ role: "user", content: "Hi" }] }).pipe(
        Stream.runCollect,
        Effect.flip,
        Effect.provide(layer)
      )
      expect(error).toBeInstanceOf(TimeoutError)
      expect(error.message).toBe("slow")
    })
  )
})
