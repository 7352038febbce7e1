import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Layer, Stream, Supervisor, TestClock } from "effect"
import { NovelAIClient, OpenAI, TimeoutError } from "effect-novelai"
import { API_KEY, runFor, settle } from "../support.js"

/**
 * A client whose answer is an event stream that sends `text`, then never answers a read, and whose
 * cancel never settles either; `sent` gets each request's abort signal.
 */
const deafClient = (text: string, sent?: (signal: AbortSignal) => void) =>
  HttpClient.make((request, _url, signal) => {
    sent?.(signal)
    return Effect.succeed(
      HttpClientResponse.fromWeb(
        request,
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(new TextEncoder().encode(text))
            },
            pull: () => new Promise<void>(() => {}),
            cancel: () => new Promise<void>(() => {})
          }),
          { headers: { "content-type": "text/event-stream" } }
        )
      )
    )
  })

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }

type Behaviour = "no-headers" | "stalled-body" | "stalled-stream"

/** A client whose server misbehaves as told, recording whether each request was aborted. */
const misbehaving = (behaviour: Behaviour, options?: Partial<NovelAIClient.Options>) => {
  const state = { requests: 0, aborted: 0 }
  const http = HttpClient.make((request, _url, signal) => {
    state.requests++
    signal.addEventListener("abort", () => {
      state.aborted++
    })
    // Like every platform client, it ends the request when the signal aborts.
    const aborted = new HttpClientError.RequestError({ request, reason: "Transport", cause: "aborted" })
    if (behaviour === "no-headers") {
      return Effect.async<never, HttpClientError.RequestError>((resume) => {
        signal.addEventListener("abort", () => resume(Effect.fail(aborted)))
      })
    }
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        signal.addEventListener("abort", () => controller.error(aborted))
        if (behaviour === "stalled-stream") {
          controller.enqueue(
            new TextEncoder().encode(
              'data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\n'
            )
          )
        } else {
          controller.enqueue(new TextEncoder().encode('{"choices":[{"message":{"content":"par'))
        }
        // ...and then nothing more, ever.
      }
    })
    const type = behaviour === "stalled-stream" ? "text/event-stream" : "application/json"
    return Effect.succeed(
      HttpClientResponse.fromWeb(request, new Response(body, { headers: { "content-type": type } }))
    )
  })
  // Generations unbounded: these tests are about deadlines, not the generation gate.
  const layer = NovelAIClient.layer({
    apiKey: API_KEY,
    maxRetries: 0,
    generationConcurrency: "unbounded",
    ...options
  }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, http)))
  return { state, layer }
}

describe("timeouts", () => {
  it.effect("request timeout: no headers within `timeout` is a TimeoutError (request) and aborts", () =>
    Effect.gen(function* () {
      const { state, layer } = misbehaving("no-headers", { timeout: "30 seconds" })
      const { done, exit } = yield* runFor(
        OpenAI.chatCompletion(hi).pipe(Effect.provide(layer)),
        "29 seconds",
        "1 second"
      )
      expect(done).toEqual([false, true])
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      expect(error).toBeInstanceOf(TimeoutError)
      expect(error).toMatchObject({ phase: "request", endpoint: "chatCompletion" })
      expect(error?.message).toBe("chatCompletion: no response within 30s; the connection was closed")
      expect(state.aborted).toBe(1)
    })
  )

  it.effect("the default request timeout is 10 minutes", () =>
    Effect.gen(function* () {
      const { layer } = misbehaving("no-headers")
      const { done } = yield* runFor(
        OpenAI.listModels().pipe(Effect.provide(layer)),
        "9 minutes",
        "59 seconds",
        "1 second"
      )
      expect(done).toEqual([false, false, true])
    })
  )

  it.effect("a non-streaming body that stalls is a TimeoutError (body), not retried by default", () =>
    Effect.gen(function* () {
      const { state, layer } = misbehaving("stalled-body", { timeout: "5 seconds", maxRetries: 2 })
      const { exit } = yield* runFor(
        OpenAI.chatCompletion(hi).pipe(Effect.provide(layer)),
        "5 seconds",
        "1 minute"
      )
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toMatchObject({
        _tag: "TimeoutError",
        phase: "body"
      })
      expect(state.requests).toBe(1)
      expect(state.aborted).toBe(1)
    })
  )

  it.effect("a request timeout before any response is retried", () =>
    Effect.gen(function* () {
      const { state, layer } = misbehaving("no-headers", { timeout: "1 second", maxRetries: 2 })
      yield* runFor(
        OpenAI.listModels().pipe(Effect.provide(layer)),
        "1 second",
        "1 second",
        "2 seconds",
        "5 seconds"
      )
      expect(state.requests).toBe(3)
      expect(state.aborted).toBe(3)
    })
  )

  it.effect("calls on one client with different timeouts each end at their own deadline", () =>
    Effect.gen(function* () {
      const { state, layer } = misbehaving("no-headers", { timeout: "1 minute" })
      const endsAt = <A, E>(call: Effect.Effect<A, E, NovelAIClient.NovelAIClient>) =>
        call.pipe(Effect.flip, Effect.zip(Clock.currentTimeMillis))
      const calls = Effect.all(
        [
          endsAt(OpenAI.listModels()),
          // Armed a second later with a deadline before the first one's.
          Effect.zipRight(Effect.sleep("1 second"), endsAt(OpenAI.listModels({ timeout: "5 seconds" })))
        ],
        { concurrency: "unbounded" }
      ).pipe(Effect.provide(layer))
      const { done, exit } = yield* runFor(calls, "1 second", "5 seconds", "53 seconds", "1 second")
      expect(done).toEqual([false, false, false, true])
      const [first, second] = Exit.isSuccess(exit) ? exit.value : []
      expect(first).toMatchObject([{ _tag: "TimeoutError", phase: "request" }, 60_000])
      expect(second).toMatchObject([{ _tag: "TimeoutError", phase: "request" }, 6_000])
      expect(state.aborted).toBe(2)
    })
  )

  it.effect("40 overlapping calls with arbitrary timeouts each end exactly at their own deadline", () =>
    Effect.gen(function* () {
      // Starts and timeouts in whole seconds from a fixed seed: deadlines arrive in every order,
      // earlier than the one the watchdog sleeps for, equal to it, and after it went idle.
      let seed = 7
      const next = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
        return seed % n
      }
      const plan = Array.from({ length: 40 }, () => ({ start: next(60), timeout: 1 + next(60) }))
      const { state, layer } = misbehaving("no-headers", { timeout: "10 minutes" })
      const ended: Array<number> = []
      yield* Effect.gen(function* () {
        yield* Effect.forEach(plan, ({ start, timeout }, i) =>
          Effect.sleep(`${start} seconds`).pipe(
            Effect.zipRight(OpenAI.listModels({ timeout: `${timeout} seconds` })),
            Effect.flip,
            Effect.zipRight(Clock.currentTimeMillis),
            Effect.tap((at) =>
              Effect.sync(() => {
                ended[i] = at
              })
            ),
            Effect.fork
          )
        )
        yield* settle
        for (let second = 0; second < 121; second++) {
          yield* TestClock.adjust("1 second")
          yield* settle
        }
      }).pipe(Effect.provide(layer))
      expect(ended).toEqual(plan.map(({ start, timeout }) => (start + timeout) * 1000))
      expect(state.aborted).toBe(40)
    })
  )

  it.effect(
    "a transport that ignores its abort signal and interruption still cannot hold a call past its deadline",
    () =>
      Effect.gen(function* () {
        const deaf = HttpClient.make(() => Effect.uninterruptible(Effect.never))
        const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0, timeout: "5 seconds" }).pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, deaf))
        )
        const { done, exit } = yield* runFor(
          OpenAI.tokenCount({ prompt: "Hi" }).pipe(Effect.provide(layer)),
          "4 seconds",
          "1 second"
        )
        expect(done).toEqual([false, true])
        expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toMatchObject({
          _tag: "TimeoutError",
          phase: "request",
          endpoint: "tokenCount"
        })
      })
  )

  it.effect(
    "a complete stream whose body never ends, nor its cancel: its request is aborted 500 ms after the stream's end",
    () =>
      Effect.gen(function* () {
        let signal: AbortSignal | undefined
        const deaf = deafClient(
          'data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
          (given) => {
            signal = given
          }
        )
        const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0 }).pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, deaf))
        )
        const text = yield* OpenAI.chatCompletionStream(hi).pipe(
          OpenAI.textDeltas,
          Stream.mkString,
          Effect.provide(layer)
        )
        expect(text).toBe("a")
        expect(signal?.aborted).toBe(false)
        yield* TestClock.adjust("500 millis")
        for (let i = 0; i < 5 && signal?.aborted !== true; i++) yield* Effect.yieldNow()
        expect(signal?.aborted).toBe(true)
      })
  )

  it.effect(
    "a stream body that never answers a read, even when cancelled, still ends at the idle deadline",
    () =>
      Effect.gen(function* () {
        const deaf = deafClient(
          'data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\n'
        )
        const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0, idleTimeout: "10 seconds" }).pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, deaf))
        )
        const { done, exit } = yield* runFor(
          OpenAI.chatCompletionStream(hi).pipe(
            OpenAI.textDeltas,
            Stream.either,
            Stream.runCollect,
            Effect.provide(layer)
          ),
          "9 seconds",
          "1 second"
        )
        expect(done).toEqual([false, true])
        const items = Exit.isSuccess(exit) ? [...exit.value] : []
        expect(items).toMatchObject([
          { _tag: "Right", right: "a" },
          { _tag: "Left", left: { _tag: "TimeoutError", phase: "idle" } }
        ])
      })
  )

  // Deadlines and their work are fibers of the client's own while a call waits, and none is left
  // once it is over: a client with nothing in flight holds nothing.
  for (const [what, behaviour, call] of [
    ["20 calls waiting for headers", "no-headers", OpenAI.listModels()],
    ["20 silent streams", "stalled-stream", Stream.runDrain(OpenAI.chatCompletionStream(hi))]
  ] as const) {
    it.effect(`${what}: nothing of theirs is left running once they end`, () =>
      Effect.gen(function* () {
        const { state, layer } = misbehaving(behaviour)
        const supervisor = yield* Supervisor.track
        yield* Effect.gen(function* () {
          const fibers = yield* Effect.forEach(Array.from({ length: 20 }), () =>
            Effect.fork(call as Effect.Effect<unknown, unknown, NovelAIClient.NovelAIClient>)
          )
          yield* settle
          expect(state.requests).toBe(20)
          yield* Fiber.interruptAll(fibers)
          yield* settle
          expect(state.aborted).toBe(20)
          // The client is still open, and idle.
          const running = (yield* supervisor.value).filter((fiber) => fiber.unsafePoll() === null)
          expect(running.length).toBe(0)
        }).pipe(Effect.provide(layer), Effect.supervised(supervisor))
      })
    )
  }

  for (const [behaviour, phase, what] of [
    ["no-headers", "request", "no headers"],
    ["stalled-body", "body", "a JSON body that stalls"]
  ] as const) {
    it.effect(
      `a streaming request with ${what} within \`timeout\` is a TimeoutError (${phase}) and aborts`,
      () =>
        Effect.gen(function* () {
          const { state, layer } = misbehaving(behaviour, { timeout: "30 seconds" })
          const { done, exit } = yield* runFor(
            Stream.runDrain(OpenAI.chatCompletionStream(hi)).pipe(Effect.provide(layer)),
            "29 seconds",
            "1 second"
          )
          expect(done).toEqual([false, true])
          expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toMatchObject({
            _tag: "TimeoutError",
            phase,
            endpoint: "chatCompletionStream"
          })
          expect(state.aborted).toBe(1)
        })
    )
  }

  it.effect("stream idle timeout: silence after a chunk fails the stream and aborts; per call too", () =>
    Effect.gen(function* () {
      const { state, layer } = misbehaving("stalled-stream", { idleTimeout: "20 seconds" })
      const collected = OpenAI.chatCompletionStream(hi).pipe(
        OpenAI.textDeltas,
        Stream.either,
        Stream.runCollect,
        Effect.provide(layer)
      )
      const { done, exit } = yield* runFor(collected, "19 seconds", "1 second")
      expect(done).toEqual([false, true])
      const items = Exit.isSuccess(exit) ? [...exit.value] : []
      expect(items[0]).toMatchObject({ _tag: "Right", right: "a" })
      expect(items[1]).toMatchObject({ _tag: "Left", left: { _tag: "TimeoutError", phase: "idle" } })
      expect(state.aborted).toBe(1)

      const perCall = OpenAI.chatCompletionStream(hi, { idleTimeout: "3 seconds" }).pipe(
        Stream.runDrain,
        Effect.provide(layer)
      )
      const second = yield* runFor(perCall, "2 seconds", "1 second")
      expect(second.done).toEqual([false, true])
    })
  )

  it.effect("the default idle timeout is 2 minutes; a slow consumer does not count as silence", () =>
    Effect.gen(function* () {
      const { layer } = misbehaving("stalled-stream")
      const slow = OpenAI.chatCompletionStream(hi).pipe(
        Stream.tap(() => Effect.sleep("5 minutes")),
        Stream.runDrain,
        Effect.provide(layer)
      )
      // 5 minutes consuming the first chunk, then 2 minutes of real silence from the server.
      const { done } = yield* runFor(slow, "5 minutes", "119 seconds", "1 second")
      expect(done).toEqual([false, false, true])
    })
  )

  it.effect("bad durations are refused when the client is made", () =>
    Effect.gen(function* () {
      for (const options of [
        { timeout: -1 },
        { idleTimeout: "soon" as never },
        { maxRetries: -1 },
        { maxConcurrency: 0 }
      ]) {
        const { layer } = misbehaving("no-headers", options)
        const error = yield* OpenAI.listModels().pipe(Effect.provide(layer), Effect.flip)
        expect(error._tag).toBe("ConfigurationError")
      }
    })
  )
})
