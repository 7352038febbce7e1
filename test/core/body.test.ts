/**
 * A Node readable body read directly (core/body.ts): what the platform's undici client hands over,
 * read without the platform's `Stream`. Its reads must keep the stream's guarantees: bounded
 * memory when the consumer is slow, the deadline ending a silent body, the same errors.
 */
import { PassThrough } from "node:stream"
import { HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Exit, Fiber, Option, Scope, TestClock } from "effect"
import * as Body from "../../src/internal/core/body.js"
import { Ended, makeDeadlines } from "../../src/internal/core/deadline.js"

const context = { endpoint: "openai.chatCompletionStream", scrub: (text: string) => text }
const request = HttpClientRequest.post("http://127.0.0.1:1/oa/v1/chat/completions")
const response = HttpClientResponse.fromWeb(request, new Response(null))

const setup = Effect.gen(function* () {
  const deadlines = yield* makeDeadlines
  const deadline = yield* deadlines.make
  const body = new PassThrough()
  const reader = Body.nodeReads(context, response, body, deadline)
  return { body, deadline, deadlines, reader, read: reader.read }
})

/** Lets the body's queued events (data, end) run: they come on later ticks of Node's loop. */
const ticks = Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))

/** A request's scope, as a stream sends it in, and whether it has been closed (its request aborted). */
const requestScope = Effect.gen(function* () {
  const request = yield* Scope.make()
  const reading = yield* Scope.make()
  let closed = false
  yield* Scope.addFinalizer(
    request,
    Effect.sync(() => (closed = true))
  )
  return { scopes: { request, reading }, closed: () => closed }
})

const text = (chunks: Chunk.Chunk<Uint8Array>) =>
  Chunk.toReadonlyArray(chunks)
    .map((bytes) => Buffer.from(bytes).toString())
    .join("")

describe("a Node readable body read directly", () => {
  it.scoped("gives what arrived since the last read, then None at the end", () =>
    Effect.gen(function* () {
      const { body, read } = yield* setup
      body.write("data: 1\n\n")
      body.write("data: 2\n\n")
      yield* Effect.yieldNow()
      expect(text(yield* read)).toBe("data: 1\n\ndata: 2\n\n")
      const waiting = yield* Effect.fork(read)
      body.end("data: [DONE]\n\n")
      expect(text(yield* Fiber.join(waiting))).toBe("data: [DONE]\n\n")
      expect(yield* Effect.either(read)).toEqual(Either.left(Option.none()))
    })
  )

  it.scoped("pauses the socket while 64 chunks wait unread, and resumes it once they are read", () =>
    Effect.gen(function* () {
      const { body, read } = yield* setup
      for (let i = 0; i < 200; i++) body.write(`data: ${i}\n\n`)
      yield* Effect.yieldNow()
      expect(body.isPaused()).toBe(true)
      expect(Chunk.size(yield* read)).toBe(64)
      expect(body.isPaused()).toBe(false)
    })
  )

  it.scoped("a body that sends nothing ends at the deadline, not later", () =>
    Effect.gen(function* () {
      const { deadline, read } = yield* setup
      deadline.set(Duration.seconds(2))
      const waiting = yield* Effect.fork(Effect.either(read))
      yield* TestClock.adjust("1999 millis")
      expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)
      yield* TestClock.adjust("1 milli")
      const ended = yield* Fiber.join(waiting)
      expect(Either.isLeft(ended) && ended.left).toEqual(new Ended("timeout"))
    })
  )

  it.scoped("once the deadline has ended, what is queued is not handed over", () =>
    Effect.gen(function* () {
      const { body, deadline, read } = yield* setup
      body.write("data: 1\n\n")
      yield* Effect.yieldNow()
      deadline.end("closed")
      expect(yield* Effect.either(read)).toEqual(Either.left(new Ended("closed")))
    })
  )

  it.scoped("a connection that fails mid-body is the TransportError the platform's stream gives", () =>
    Effect.gen(function* () {
      const { body, read } = yield* setup
      const waiting = yield* Effect.fork(Effect.either(read))
      body.destroy(new Error("socket hang up"))
      const failed = yield* Fiber.join(waiting)
      const error =
        Either.isLeft(failed) && Option.isOption(failed.left) ? Option.getOrUndefined(failed.left) : undefined
      expect(error).toMatchObject({
        _tag: "TransportError",
        message:
          "openai.chatCompletionStream: the connection failed while reading the response (socket hang up)"
      })
    })
  )

  // Body.settle: the end of a complete stream's body is awaited, so that its connection is kept.
  describe("once the stream is over", () => {
    it.scoped("a complete stream's body that has not ended: the request closes when it ends", () =>
      Effect.gen(function* () {
        const { body, deadlines, reader } = yield* setup
        const { scopes, closed } = yield* requestScope
        body.write("data: [DONE]\n\n")
        yield* Effect.yieldNow()
        yield* Body.settle(deadlines, scopes, reader, true, Exit.void)
        yield* Effect.yieldNow()
        expect(closed()).toBe(false)
        // What follows the last event is dropped, not queued.
        body.write("data: late\n\n")
        yield* ticks
        expect(closed()).toBe(false)
        body.end()
        yield* ticks
        expect(closed()).toBe(true)
      })
    )

    it.scoped("a body that ends before the wait has started: the request closes at once", () =>
      Effect.gen(function* () {
        // A readable whose events the test fires itself, synchronously.
        const listeners = new Map<string, (...args: Array<any>) => void>()
        const body = {
          on: (event: string, f: () => void) => listeners.set(event, f),
          pause: () => {},
          resume: () => {}
        }
        const deadlines = yield* makeDeadlines
        const reader = Body.nodeReads(context, response, body, yield* deadlines.make)
        const { scopes, closed } = yield* requestScope
        yield* Body.settle(deadlines, scopes, reader, true, Exit.void)
        // The wait runs on a daemon fiber, not started yet: the body ends in between.
        listeners.get("end")!()
        for (let i = 0; i < 5 && !closed(); i++) yield* Effect.yieldNow()
        expect(closed()).toBe(true)
      })
    )

    it.scoped("a body that does not end: the request closes 500 ms later, on the client's clock", () =>
      Effect.gen(function* () {
        const { deadlines, reader } = yield* setup
        const { scopes, closed } = yield* requestScope
        yield* Body.settle(deadlines, scopes, reader, true, Exit.void)
        yield* TestClock.adjust("499 millis")
        expect(closed()).toBe(false)
        yield* TestClock.adjust("1 milli")
        expect(closed()).toBe(true)
      })
    )

    it.scoped("a body that keeps sending after the stream is over is cut after 64 KiB", () =>
      Effect.gen(function* () {
        const { body, deadlines, reader } = yield* setup
        const { scopes, closed } = yield* requestScope
        yield* Body.settle(deadlines, scopes, reader, true, Exit.void)
        yield* ticks
        for (let i = 0; i < 64; i++) {
          body.write(Buffer.alloc(1024))
          yield* ticks
        }
        expect(closed()).toBe(false)
        body.write(Buffer.alloc(1))
        yield* ticks
        expect(closed()).toBe(true)
      })
    )

    it.effect("closing the client ends the wait at once", () =>
      Effect.gen(function* () {
        const client = yield* Scope.make()
        const { deadlines, reader } = yield* Effect.provideService(setup, Scope.Scope, client)
        const { scopes, closed } = yield* Effect.provideService(requestScope, Scope.Scope, client)
        yield* Body.settle(deadlines, scopes, reader, true, Exit.void)
        yield* Scope.close(client, Exit.void)
        for (let i = 0; i < 10 && !closed(); i++) yield* Effect.yieldNow()
        expect(closed()).toBe(true)
      })
    )

    it.scoped("an incomplete stream (cut by its consumer, failed) aborts its request at once", () =>
      Effect.gen(function* () {
        const { deadlines, reader } = yield* setup
        const { scopes, closed } = yield* requestScope
        yield* Body.settle(deadlines, scopes, reader, false, Exit.void)
        expect(closed()).toBe(true)
      })
    )
  })
})
