import { describe, expect, it } from "@effect/vitest"
import { type Duration, Effect, Either, Exit, Fiber, Random, Schedule, Stream, TestClock } from "effect"
import { OpenAI, RateLimitError, Retry, ServerError } from "effect-novelai"
import { json, makeTestClient, sse } from "../support.js"

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }
const ok = {
  id: "x",
  object: "chat.completion",
  created: 1,
  model: "glm-4-6",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }]
}

/** A server answering from a script of responses, the last one repeating. */
const scripted = (...responses: Array<() => Response>) => {
  let i = 0
  return () => responses[Math.min(i++, responses.length - 1)]!()
}
const status = (code: number, headers?: Record<string, string>) => () =>
  json({ statusCode: code, message: `status ${code}` }, { status: code, ...(headers ? { headers } : {}) })

/** The values Random.next gives the retry jitter, cycling; set per test (0: no jitter, 1: the most). */
let random: Array<number> = [0]

/** Lets the test client's promise-based responder run (it is real async, not Effect time). */
const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))

/** Forks `effect`, then steps the TestClock, noting how many requests had been sent at each step. */
const timeline = <A, E>(
  effect: Effect.Effect<A, E>,
  recorded: ReadonlyArray<unknown>,
  steps: ReadonlyArray<Duration.DurationInput>
) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(
      Effect.withRandom(effect, Random.fixed([random[0] ?? 0, ...random.slice(1)]))
    )
    yield* settle
    const counts: Array<number> = [recorded.length]
    for (const step of steps) {
      yield* TestClock.adjust(step)
      yield* settle
      counts.push(recorded.length)
    }
    return { counts, exit: yield* Fiber.await(fiber) }
  })

describe("the default retry policy (TestClock)", () => {
  it.effect("retries 429 twice with exponential backoff and jitter, then fails", () =>
    Effect.gen(function* () {
      // Random 0: no jitter taken off, so delays are exactly 500 ms then 1000 ms.
      random = [0, 0, 0]
      const { recorded, layer } = makeTestClient(status(429), { maxRetries: undefined })
      const { counts, exit } = yield* timeline(
        OpenAI.chatCompletion(hi).pipe(Effect.provide(layer)),
        recorded,
        ["499 millis", "1 millis", "999 millis", "1 millis", "10 seconds"]
      )
      expect(counts).toEqual([1, 1, 2, 2, 3, 3])
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toBeInstanceOf(
        RateLimitError
      )
    })
  )

  it.effect("jitter takes up to 25 % off each delay", () =>
    Effect.gen(function* () {
      random = [1, 1]
      const { recorded, layer } = makeTestClient(
        scripted(status(503), status(503), () => json(ok)),
        {
          maxRetries: undefined
        }
      )
      const { counts, exit } = yield* timeline(
        OpenAI.chatCompletion(hi).pipe(Effect.provide(layer)),
        recorded,
        ["374 millis", "1 millis", "749 millis", "1 millis"]
      )
      expect(counts).toEqual([1, 1, 2, 2, 3])
      expect(Exit.isSuccess(exit)).toBe(true)
    })
  )

  it.effect("the backoff is capped at 8 seconds", () =>
    Effect.gen(function* () {
      random = [0, 0, 0, 0, 0, 0]
      const { recorded, layer } = makeTestClient(status(500))
      const call = OpenAI.chatCompletion(hi, { maxRetries: 6 }).pipe(Effect.provide(layer))
      // 0.5 + 1 + 2 + 4 = 7.5 s for the first four retries, then 8 s (not 8) and 8 s (not 16).
      const { counts } = yield* timeline(call, recorded, [
        "7500 millis",
        "7999 millis",
        "1 millis",
        "8 seconds"
      ])
      expect(counts).toEqual([1, 5, 5, 6, 7])
    })
  )

  it.effect("retry-after-ms and retry-after (seconds, HTTP date) replace the backoff", () =>
    Effect.gen(function* () {
      const ms = makeTestClient(
        scripted(status(429, { "retry-after-ms": "3000" }), () => json(ok)),
        {
          maxRetries: undefined
        }
      )
      const a = yield* timeline(OpenAI.chatCompletion(hi).pipe(Effect.provide(ms.layer)), ms.recorded, [
        "2999 millis",
        "1 millis"
      ])
      expect(a.counts).toEqual([1, 1, 2])
      const seconds = makeTestClient(
        scripted(status(429, { "retry-after": "5" }), () => json(ok)),
        {
          maxRetries: undefined
        }
      )
      const b = yield* timeline(
        OpenAI.chatCompletion(hi).pipe(Effect.provide(seconds.layer)),
        seconds.recorded,
        ["4999 millis", "1 millis"]
      )
      expect(b.counts).toEqual([1, 1, 2])
      // The TestClock starts at the epoch: a date 2 s after it means "wait 2 s".
      const dated = makeTestClient(
        scripted(status(503, { "retry-after": new Date(2000).toUTCString() }), () => json(ok)),
        { maxRetries: undefined }
      )
      const c = yield* timeline(OpenAI.chatCompletion(hi).pipe(Effect.provide(dated.layer)), dated.recorded, [
        "600 millis"
      ])
      // A 503's retry-after is not a RateLimitError's: the backoff applies (500 ms less jitter).
      expect(c.counts).toEqual([1, 2])
    })
  )

  it.effect("a retry-after beyond the 60 s cap is not waited for: the error comes at once", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(status(429, { "retry-after": "3600" }), {
        maxRetries: undefined
      })
      const error = yield* OpenAI.chatCompletion(hi).pipe(Effect.provide(layer), Effect.flip)
      expect(error).toBeInstanceOf(RateLimitError)
      expect(recorded).toHaveLength(1)
    })
  )

  it.effect("x-should-retry overrides the classification both ways", () =>
    Effect.gen(function* () {
      const no = makeTestClient(status(503, { "x-should-retry": "false" }), { maxRetries: undefined })
      const error = yield* OpenAI.chatCompletion(hi).pipe(Effect.provide(no.layer), Effect.flip)
      expect(error).toBeInstanceOf(ServerError)
      expect(no.recorded).toHaveLength(1)
      random = [0]
      const yes = makeTestClient(
        scripted(status(400, { "x-should-retry": "true" }), () => json(ok)),
        {
          maxRetries: undefined
        }
      )
      const { counts, exit } = yield* timeline(
        OpenAI.chatCompletion(hi).pipe(Effect.provide(yes.layer)),
        yes.recorded,
        ["500 millis"]
      )
      expect(counts).toEqual([1, 2])
      expect(Exit.isSuccess(exit)).toBe(true)
    })
  )

  it.effect("no retry for 400, 401, 402, 403, 404, 422, a decode error, or an error inside a 200 body", () =>
    Effect.gen(function* () {
      const cases: Array<() => Response> = [
        status(400),
        status(401),
        status(402),
        status(403),
        status(404),
        status(422),
        () => json({ choices: "nope" }),
        () => json({ error: "model overloaded" })
      ]
      for (const respond of cases) {
        const { recorded, layer } = makeTestClient(respond, { maxRetries: undefined })
        yield* OpenAI.chatCompletion(hi).pipe(Effect.provide(layer), Effect.flip)
        expect(recorded).toHaveLength(1)
      }
    })
  )

  it.effect("transport errors and 408 are retried", () =>
    Effect.gen(function* () {
      random = [0, 0]
      let calls = 0
      const { recorded, layer } = makeTestClient(
        () => {
          if (++calls === 1) throw new TypeError("fetch failed")
          return calls === 2 ? status(408)() : json(ok)
        },
        { maxRetries: undefined }
      )
      const { counts, exit } = yield* timeline(
        OpenAI.chatCompletion(hi).pipe(Effect.provide(layer)),
        recorded,
        ["500 millis", "1000 millis"]
      )
      expect(counts).toEqual([1, 2, 3])
      expect(Exit.isSuccess(exit)).toBe(true)
    })
  )

  it.effect("maxRetries: 0 per call disables; a client-wide maxRetries applies to every call", () =>
    Effect.gen(function* () {
      const client = makeTestClient(status(500), { maxRetries: undefined })
      yield* OpenAI.chatCompletion(hi, { maxRetries: 0 }).pipe(Effect.provide(client.layer), Effect.flip)
      expect(client.recorded).toHaveLength(1)
      random = [0, 0, 0, 0]
      const five = makeTestClient(status(500), { maxRetries: 4 })
      const { counts } = yield* timeline(
        OpenAI.listModels().pipe(Effect.provide(five.layer)),
        five.recorded,
        ["60 seconds"]
      )
      expect(counts).toEqual([1, 5])
    })
  )

  it.effect("a Schedule of your own replaces the policy, per client or per call", () =>
    Effect.gen(function* () {
      const mine = Schedule.spaced("2 seconds").pipe(Schedule.intersect(Schedule.recurs(1)))
      const client = makeTestClient(status(401), { retrySchedule: mine, maxRetries: undefined })
      const { counts } = yield* timeline(
        OpenAI.chatCompletion(hi).pipe(Effect.provide(client.layer)),
        client.recorded,
        ["1999 millis", "1 millis", "10 seconds"]
      )
      // The user's schedule retries even a 401: it is theirs to decide.
      expect(counts).toEqual([1, 1, 2, 2])
      const perCall = makeTestClient(status(500))
      const composed = Retry.schedule({ maxRetries: 1, initialDelay: "100 millis" })
      random = [0]
      const b = yield* timeline(
        OpenAI.chatCompletion(hi, { retrySchedule: composed }).pipe(Effect.provide(perCall.layer)),
        perCall.recorded,
        ["100 millis", "10 seconds"]
      )
      expect(b.counts).toEqual([1, 2, 2])
    })
  )
})

/** Streams a chat with no jitter, advancing the TestClock past the first backoff (500 ms); its text deltas. */
const deltasAfterOneBackoff = (
  layer: ReturnType<typeof makeTestClient>["layer"],
  backoff: Duration.DurationInput = "500 millis"
) =>
  Effect.gen(function* () {
    const fiber = yield* OpenAI.chatCompletionStream(hi).pipe(
      OpenAI.textDeltas,
      Stream.runCollect,
      Effect.provide(layer),
      Effect.withRandom(Random.fixed([0])),
      Effect.fork
    )
    yield* settle
    yield* TestClock.adjust(backoff)
    return [...(yield* Fiber.join(fiber))]
  })

describe("streams are retried only before their first chunk", () => {
  const chunk = (text: string, finish: string | null = null) =>
    `data: {"choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":${JSON.stringify(finish)}}]}\n\n`

  it.effect("a 503 before any chunk is retried, and the stream then completes", () =>
    Effect.gen(function* () {
      random = [0]
      const { recorded, layer } = makeTestClient(
        scripted(status(503), () => sse(`${chunk("a") + chunk("b", "stop")}data: [DONE]\n\n`)),
        { maxRetries: undefined }
      )
      expect(yield* deltasAfterOneBackoff(layer)).toEqual(["a", "b"])
      expect(recorded).toHaveLength(2)
    })
  )

  it.effect(
    "an error frame saying the generation is locked, before any chunk, is retried after the lock's backoff",
    () =>
      Effect.gen(function* () {
        random = [0]
        const { recorded, layer } = makeTestClient(
          scripted(
            () => sse('data: {"error":{"message":"concurrent generation is locked","code":429}}\n\n'),
            () => sse(`${chunk("x", "stop")}data: [DONE]\n\n`)
          ),
          { maxRetries: undefined }
        )
        expect(yield* deltasAfterOneBackoff(layer, "1 second")).toEqual(["x"])
        expect(recorded).toHaveLength(2)
      })
  )

  it.effect("a failure after a chunk is not retried: no duplicated or spliced text", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(
        () => sse(`${chunk("a")}data: {"error":{"message":"overloaded","code":503}}\n\n`),
        { maxRetries: undefined }
      )
      const result = yield* OpenAI.chatCompletionStream(hi).pipe(
        OpenAI.textDeltas,
        Stream.either,
        Stream.runCollect,
        Effect.provide(layer)
      )
      const items = [...result]
      expect(items).toHaveLength(2)
      expect(items[0]).toEqual(Either.right("a"))
      expect(Either.isLeft(items[1]!)).toBe(true)
      expect(recorded).toHaveLength(1)
    })
  )
})
