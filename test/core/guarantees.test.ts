/**
 * What the client guarantees under hostile use: the key kept out of errors, bad options refused
 * when the client is made, timeouts that end every wait, a closed client, streams' idle time,
 * frames that are not what they look like, Retry-After, unknown parameters. Swapped layers and the
 * TestClock; `real-sockets.test.ts` has what needs real sockets.
 */
import { inspect } from "node:util"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  ConfigProvider,
  Effect,
  Exit,
  Fiber,
  Layer,
  Random,
  Schedule,
  Scope,
  Stream,
  TestClock
} from "effect"
import { NovelAI, NovelAIClient, OpenAI, RateLimitError } from "effect-novelai"
import { API_KEY, chatChunk, controlledBody, json, makeTestClient, runFor, settle, sse } from "../support.js"

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }

const failure = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined

/** Every way an error is shown: none may contain the key. */
const shown = (error: unknown) =>
  [String(error), JSON.stringify(error), inspect(error, { depth: 5 }), (error as Error).message].join("\n")

describe("the key never reaches an error", () => {
  const cases: ReadonlyArray<
    [string, Effect.Effect<unknown, unknown, NovelAIClient.NovelAIClient>, () => Response]
  > = [
    [
      "a chat answer of the wrong shape",
      OpenAI.chatCompletion(hi),
      () => json({ choices: [{ index: API_KEY, message: { content: "x" } }] })
    ],
    [
      "a model list of the wrong shape",
      OpenAI.listModels(),
      () => json({ data: [{ id: "m", created: API_KEY }] })
    ],
    [
      "a stream chunk of the wrong shape",
      Stream.runDrain(OpenAI.chatCompletionStream(hi)),
      () => sse(`data: {"id":"c","created":${JSON.stringify(API_KEY)},"choices":[]}\n\n`)
    ],
    [
      "a request id that echoes the key",
      OpenAI.chatCompletion(hi),
      () => json({ statusCode: 400, message: "bad" }, { status: 400, headers: { "x-request-id": API_KEY } })
    ]
  ]
  for (const [name, call, respond] of cases) {
    it.effect(name, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(call.pipe(Effect.provide(makeTestClient(respond).layer)))
        expect(shown(error)).not.toContain(API_KEY)
        expect(shown(error)).toContain("[redacted]")
        expect((error as { requestId?: string }).requestId ?? "").not.toContain(API_KEY)
      })
    )
  }
})

describe("options HTTP or the client cannot use are refused when the client is made, nothing sent", () => {
  const refused: ReadonlyArray<[string, Partial<NovelAIClient.Options>, RegExp]> = [
    [
      "rateLimit.limit 0 (every call would wait forever)",
      { rateLimit: { limit: 0, interval: "1 second" } },
      /limit/
    ],
    ["rateLimit.limit -1", { rateLimit: { limit: -1, interval: "1 second" } }, /limit/],
    [
      "rateLimit.limit NaN (no limit at all, silently)",
      { rateLimit: { limit: Number.NaN, interval: "1 second" } },
      /limit/
    ],
    ["rateLimit.interval 0", { rateLimit: { limit: 2, interval: 0 } }, /interval/],
    ["maxConcurrency 1.5", { maxConcurrency: 1.5 }, /maxConcurrency/],
    ["maxConcurrency NaN", { maxConcurrency: Number.NaN }, /maxConcurrency/],
    ["maxRetries NaN", { maxRetries: Number.NaN }, /maxRetries/],
    ["timeout NaN", { timeout: Number.NaN }, /timeout/],
    ["idleTimeout 0", { idleTimeout: 0 }, /idleTimeout/],
    ["a key with non-ASCII characters", { apiKey: "pst-ключ" }, /apiKey/],
    ["a key with a DEL character", { apiKey: "pst-abc\x7f" }, /apiKey/],
    ["a key with an inner space", { apiKey: "pst-a b" }, /apiKey/],
    ["a header name with a space", { headers: { "x bad": "1" } }, /header name/],
    ["a header value with non-Latin characters", { headers: { "x-trace": "é\u2028" } }, /headers\.x-trace/],
    ["a header value with surrounding whitespace", { headers: { "x-trace": " 1" } }, /headers\.x-trace/],
    ["accept-encoding in the headers", { headers: { "Accept-Encoding": "gzip" } }, /accept-encoding/]
  ]
  for (const [name, options, message] of refused) {
    it.effect(name, () =>
      Effect.gen(function* () {
        const { recorded, layer } = makeTestClient(() => json({ length: 1 }), options)
        const error = yield* OpenAI.tokenCount({ prompt: "x" }).pipe(Effect.provide(layer), Effect.flip)
        expect(error._tag).toBe("ConfigurationError")
        expect(error.message).toMatch(message)
        expect(recorded).toEqual([])
      })
    )
  }

  it("the facade refuses them in its constructor", () => {
    expect(() => new NovelAI({ apiKey: "pst-ключ" })).toThrow(/apiKey/)
    expect(() => new NovelAI({ apiKey: "pst-x", rateLimit: { limit: 0, interval: "1 second" } })).toThrow(
      /limit/
    )
  })
})

describe("one rule each for the base URL, the key and empty variables, everywhere", () => {
  const refused: ReadonlyArray<[string, string, RegExp]> = [
    ["a query", "https://text.novelai.net/?region=eu", /query or fragment/],
    ["a fragment", "https://text.novelai.net/#x", /query or fragment/],
    [
      "a full endpoint URL",
      "https://text.novelai.net/oa/v1/chat/completions",
      /endpoint URL.*e\.g\. https:\/\/text\.novelai\.net \(got/
    ]
  ]
  for (const [name, baseUrl, message] of refused) {
    it(`a base URL with ${name} is refused, not silently cut`, () => {
      expect(() => new NovelAI({ apiKey: "pst-x", baseUrl })).toThrow(message)
    })
  }

  it.effect("a key with surrounding whitespace (a pasted newline) is sent without it", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => json({ length: 1 }), { apiKey: `  ${API_KEY}\n` })
      yield* OpenAI.tokenCount({ prompt: "x" }).pipe(Effect.provide(layer))
      expect(recorded[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`)
    })
  )

  it.effect("NOVELAI_BASE_URL set to the empty string counts as unset in layerConfig, as in the facade", () =>
    Effect.gen(function* () {
      const { recorded } = makeTestClient(() => json({ length: 1 }))
      const http = HttpClient.make((request) => {
        recorded.push({ method: request.method, url: request.url, headers: request.headers, body: undefined })
        return Effect.succeed(HttpClientResponse.fromWeb(request, json({ length: 1 })))
      })
      const layer = NovelAIClient.layerConfig().pipe(
        Layer.provide(Layer.succeed(HttpClient.HttpClient, http)),
        Layer.provide(
          Layer.setConfigProvider(
            ConfigProvider.fromMap(
              new Map([
                ["NOVELAI_API_KEY", API_KEY],
                ["NOVELAI_BASE_URL", ""]
              ])
            )
          )
        )
      )
      yield* OpenAI.tokenCount({ prompt: "x" }).pipe(Effect.provide(layer))
      expect(recorded[0]!.url).toBe("https://text.novelai.net/oa/v1/internal/token-count")
    })
  )

  it.effect(
    "NOVELAI_API_KEY set to the empty string says it is not set, in layerConfig as in the facade",
    () =>
      Effect.gen(function* () {
        const error = yield* OpenAI.listModels().pipe(
          Effect.provide(
            NovelAIClient.layerConfig().pipe(
              Layer.provide(
                Layer.succeed(
                  HttpClient.HttpClient,
                  HttpClient.make((request) => Effect.succeed(HttpClientResponse.fromWeb(request, json([]))))
                )
              ),
              Layer.provide(
                Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["NOVELAI_API_KEY", ""]])))
              )
            )
          ),
          Effect.flip
        )
        expect(error._tag).toBe("ConfigurationError")
        expect(error.message).toMatch(/NOVELAI_API_KEY is not set/)
        const previous = process.env.NOVELAI_API_KEY
        process.env.NOVELAI_API_KEY = ""
        try {
          expect(() => new NovelAI()).toThrow(/No API key/)
        } finally {
          if (previous === undefined) delete process.env.NOVELAI_API_KEY
          else process.env.NOVELAI_API_KEY = previous
        }
      })
  )
})

describe("a timeout can be turned off", () => {
  it.effect("timeout: Infinity, on the client or per call, never fires", () =>
    Effect.gen(function* () {
      const never = HttpClient.make(() => Effect.never)
      const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0, timeout: Infinity }).pipe(
        Layer.provide(Layer.succeed(HttpClient.HttpClient, never))
      )
      const fiber = yield* Effect.fork(
        Effect.all(
          [OpenAI.listModels(), OpenAI.tokenCount({ prompt: "x" }, { timeout: Number.POSITIVE_INFINITY })],
          { concurrency: "unbounded" }
        ).pipe(Effect.provide(layer))
      )
      yield* settle
      yield* TestClock.adjust("365 days")
      yield* settle
      expect(fiber.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(fiber)
    })
  )
})

describe("a stream waiting for a slot can be cancelled", () => {
  it.effect(
    "behind a running stream with maxConcurrency 1, Effect.timeout ends the wait at its deadline",
    () =>
      Effect.gen(function* () {
        const body = controlledBody()
        const { requests, http } = body.client()
        const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0, maxConcurrency: 1 }).pipe(
          Layer.provide(http)
        )
        body.push(chatChunk("first"))
        const { done, exit } = yield* Effect.gen(function* () {
          const holder = yield* Effect.fork(Stream.runDrain(OpenAI.chatCompletionStream(hi)))
          yield* settle
          const waiting = Stream.runDrain(OpenAI.chatCompletionStream(hi)).pipe(Effect.timeout("200 millis"))
          const result = yield* runFor(waiting, "199 millis", "1 millis")
          yield* Fiber.interrupt(holder)
          return result
        }).pipe(Effect.provide(layer))
        expect(done).toEqual([false, true])
        expect(failure(exit)).toMatchObject({ _tag: "TimeoutException" })
        expect(requests).toHaveLength(1)
      })
  )
})

describe("a closed client fails every call at once, in flight or later", () => {
  it.effect("a call made after the client's scope closed is a ClientClosedError, and nothing is sent", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => json({ length: 1 }))
      const scope = yield* Scope.make()
      const client = yield* Layer.buildWithScope(layer, scope).pipe(
        Effect.map(
          (context) =>
            context.unsafeMap.get(NovelAIClient.NovelAIClient.key) as NovelAIClient.NovelAIClient.Service
        )
      )
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(client.openai.tokenCount({ prompt: "x" }))
      expect(error._tag).toBe("ClientClosedError")
      expect(recorded).toEqual([])
    })
  )

  it.effect("a call in flight when the scope closes ends at once with ClientClosedError, not retried", () =>
    Effect.gen(function* () {
      let sent = 0
      const never = HttpClient.make(() => {
        sent++
        return Effect.never
      })
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        NovelAIClient.layer({ apiKey: API_KEY }).pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, never))
        ),
        scope
      )
      const fiber = yield* OpenAI.chatCompletion(hi).pipe(Effect.provide(context), Effect.fork)
      yield* settle
      yield* Scope.close(scope, Exit.void)
      yield* settle
      const exit = fiber.unsafePoll()
      expect(exit && failure(exit)).toMatchObject({ _tag: "ClientClosedError" })
      expect(sent).toBe(1)
    })
  )
})

describe("`timeout` covers the wait for a slot", () => {
  it.effect("a call queued behind a stream past its timeout is a TimeoutError (queue), nothing sent", () =>
    Effect.gen(function* () {
      const body = controlledBody()
      const { requests, http } = body.client()
      const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 2, maxConcurrency: 1 }).pipe(
        Layer.provide(http)
      )
      body.push(chatChunk("first"))
      const { done, exit } = yield* Effect.gen(function* () {
        const holder = yield* Effect.fork(Stream.runDrain(OpenAI.chatCompletionStream(hi)))
        yield* settle
        const result = yield* runFor(
          OpenAI.tokenCount({ prompt: "x" }, { timeout: "500 millis" }),
          "499 millis",
          "1 millis"
        )
        yield* Fiber.interrupt(holder)
        return result
      }).pipe(Effect.provide(layer))
      expect(done).toEqual([false, true])
      expect(failure(exit)).toMatchObject({ _tag: "TimeoutError", phase: "queue" })
      expect(requests).toHaveLength(1)
    })
  )
})

describe("a stream's idle time counts data only; a finished stream may go quiet", () => {
  it.effect("SSE comments every 200 ms do not keep a stream alive past its idle timeout", () =>
    Effect.gen(function* () {
      const body = controlledBody()
      const { http } = body.client()
      const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0, idleTimeout: "1 second" }).pipe(
        Layer.provide(http)
      )
      body.push(chatChunk("a"))
      const fiber = yield* OpenAI.chatCompletionStream(hi).pipe(
        OpenAI.textDeltas,
        Stream.either,
        Stream.runCollect,
        Effect.provide(layer),
        Effect.fork
      )
      yield* settle
      for (let i = 0; i < 4; i++) {
        yield* TestClock.adjust("200 millis")
        body.push(': ping\n\nevent: ping\ndata: {"type":"ping"}\n\n')
        yield* settle
      }
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("200 millis")
      yield* settle
      const items = Chunk.toArray(yield* Fiber.join(fiber))
      expect(items).toMatchObject([
        { _tag: "Right", right: "a" },
        { _tag: "Left", left: { _tag: "TimeoutError", phase: "idle" } }
      ])
      expect(body.state.aborted).toBe(true)
    })
  )

  it.effect(
    "every choice finished, then silence and no [DONE]: the stream completes after 1 s and closes",
    () =>
      Effect.gen(function* () {
        const body = controlledBody()
        const { http } = body.client()
        const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0 }).pipe(Layer.provide(http))
        body.push(chatChunk("Hello") + chatChunk(" world", "stop"))
        const { done, exit } = yield* runFor(
          OpenAI.chatCompletionStream(hi).pipe(OpenAI.textDeltas, Stream.runCollect, Effect.provide(layer)),
          "999 millis",
          "1 millis"
        )
        expect(done).toEqual([false, true])
        expect(Exit.isSuccess(exit) && Chunk.toArray(exit.value)).toEqual(["Hello", " world"])
        expect(body.state.aborted).toBe(true)
      })
  )
})

describe("a 200 that is not an event stream, on a streaming call", () => {
  it.effect("an HTML page is a ResponseDecodeError naming its content type, with an excerpt", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(
        () =>
          new Response("<html><body>Sign in to the hotel wifi</body></html>", {
            headers: { "content-type": "text/html" }
          })
      )
      const error = yield* Stream.runDrain(OpenAI.chatCompletionStream(hi)).pipe(
        Effect.provide(layer),
        Effect.flip
      )
      expect(error._tag).toBe("ResponseDecodeError")
      expect(error.message).toMatch(/content-type text\/html.*Sign in to the hotel wifi/)
    })
  )

  it.effect("a JSON error body is the typed error it describes", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() =>
        json({ statusCode: 429, message: "concurrent generation is locked" })
      )
      const error = yield* Stream.runDrain(OpenAI.chatCompletionStream(hi)).pipe(
        Effect.provide(layer),
        Effect.flip
      )
      expect(error).toBeInstanceOf(RateLimitError)
      expect(error.message).toBe("concurrent generation is locked")
    })
  )
})

describe("frames that are not what they look like", () => {
  const deltas = (body: string) =>
    OpenAI.chatCompletionStream(hi).pipe(
      OpenAI.textDeltas,
      Stream.runCollect,
      Effect.map(Chunk.toArray),
      Effect.provide(makeTestClient(() => sse(body)).layer)
    )

  it.effect("[DONE] padded with any amount of whitespace ends the stream", () =>
    Effect.gen(function* () {
      expect(yield* deltas(`${chatChunk("x")}data:${" ".repeat(12)}[DONE]${" ".repeat(12)}\n\n`)).toEqual([
        "x"
      ])
    })
  )

  it.effect('19. a valid answer with a falsy error field (false, "", 0) is a result', () =>
    Effect.gen(function* () {
      for (const error of [false, "", 0]) {
        const { layer } = makeTestClient(() =>
          json({ error, choices: [{ index: 0, text: "ok", finish_reason: "stop" }] })
        )
        const completion = yield* OpenAI.completion({ prompt: "x" }).pipe(Effect.provide(layer))
        expect(completion.choices[0]!.text).toBe("ok")
      }
      expect(
        yield* deltas(
          `data: {"error":false,"choices":[{"index":0,"delta":{"content":"y"},"finish_reason":"stop"}]}\n\n`
        )
      ).toEqual(["y"])
    })
  )

  it.effect("a named event other than error is not a chunk", () =>
    Effect.gen(function* () {
      expect(
        yield* deltas(`event: ping\ndata: {"type":"ping"}\n\n${chatChunk("z", "stop")}data: [DONE]\n\n`)
      ).toEqual(["z"])
    })
  )
})

describe("Retry-After as HTTP has it", () => {
  const limited = (headers: Record<string, string>) =>
    makeTestClient(() => json({ statusCode: 429, message: "slow down" }, { status: 429, headers }))

  it.effect("hexadecimal and exponent notations are not numbers of seconds", () =>
    Effect.gen(function* () {
      for (const value of ["0x2", "1e1", "-3", "2.5"]) {
        const error = (yield* OpenAI.listModels().pipe(
          Effect.provide(limited({ "retry-after": value }).layer),
          Effect.flip
        )) as RateLimitError
        expect(error.retryAfter).toBeUndefined()
      }
    })
  )

  it.effect("retry-after: 0 is no instruction: the default backoff applies, not an immediate retry", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(
        () =>
          json({ statusCode: 429, message: "slow down" }, { status: 429, headers: { "retry-after": "0" } }),
        { maxRetries: 1 }
      )
      const { done } = yield* runFor(
        OpenAI.listModels().pipe(Effect.provide(layer), Effect.withRandom(Random.fixed([0])), Effect.either),
        "499 millis",
        "1 millis"
      )
      expect(done).toEqual([false, true])
      expect(recorded).toHaveLength(2)
    })
  )
})

describe("parameters the endpoint does not take are refused, not dropped", () => {
  const refused: ReadonlyArray<[Record<string, unknown>, RegExp]> = [
    [{ max_tokens: 5 }, /unknown parameter "max_tokens": did you mean maxTokens\?/],
    [{ stream: true }, /unknown parameter "stream": .*chatCompletionStream/],
    [{ tools: [] }, /unknown parameter "tools": NovelAI has no tool calling/],
    [
      { response_format: { type: "json_object" } },
      /unknown parameter "response_format": NovelAI has no JSON mode/
    ],
    [{ frobnicate: 1 }, /unknown parameter "frobnicate": .*extraBody/]
  ]
  for (const [extra, message] of refused) {
    it.effect(`${Object.keys(extra)[0]}`, () =>
      Effect.gen(function* () {
        const { recorded, layer } = makeTestClient(() => json({}))
        const error = yield* OpenAI.chatCompletion({ ...hi, ...extra } as never).pipe(
          Effect.provide(layer),
          Effect.flip
        )
        expect(error._tag).toBe("InvalidRequestError")
        expect(error.message).toMatch(message)
        expect(recorded).toEqual([])
      })
    )
  }

  it.effect("extraBody sends what the library does not know yet; it may not replace a typed parameter", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(
        () =>
          json({
            id: "x",
            created: 1,
            model: "glm-4-6",
            choices: [{ index: 0, message: { content: "ok" }, finish_reason: "stop" }]
          }),
        { collectStream: false }
      )
      yield* OpenAI.chatCompletion({ ...hi, maxTokens: 5, extraBody: { some_new_option: { a: 1 } } }).pipe(
        Effect.provide(layer)
      )
      expect(recorded[0]!.body).toEqual({ ...hi, model: "glm-4-6", max_tokens: 5, some_new_option: { a: 1 } })
      const clash = yield* OpenAI.chatCompletion({ ...hi, maxTokens: 5, extraBody: { max_tokens: 9 } }).pipe(
        Effect.provide(layer),
        Effect.flip
      )
      expect(clash.message).toMatch(/extraBody\.max_tokens would replace a parameter/)
      expect(recorded).toHaveLength(1)
    })
  )
})

describe("a per-call maxRetries caps the client's retry schedule instead of replacing it", () => {
  it.effect("client: every 2 s up to 5 times; call: maxRetries 1 -> two requests, 2 s apart", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(
        () => json({ statusCode: 503, message: "busy" }, { status: 503 }),
        {
          maxRetries: undefined,
          retrySchedule: Schedule.spaced("2 seconds").pipe(Schedule.intersect(Schedule.recurs(5)))
        }
      )
      const { done } = yield* runFor(
        OpenAI.listModels({ maxRetries: 1 }).pipe(Effect.provide(layer), Effect.either),
        "1999 millis",
        "1 millis",
        "1 minute"
      )
      expect(done).toEqual([false, true, true])
      expect(recorded).toHaveLength(2)
    })
  )
})
