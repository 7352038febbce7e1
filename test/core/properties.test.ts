/**
 * Property-based tests: no input, however odd, makes the client throw, die or hang.
 */
import { Cause, Chunk, Effect, Exit, ManagedRuntime, Stream } from "effect"
import { isNovelAIError, type NovelAIClient, OpenAI } from "effect-novelai"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import { json, makeTestClient, type Recorded, sse } from "../support.js"

const runtimes: Array<ManagedRuntime.ManagedRuntime<NovelAIClient.NovelAIClient, unknown>> = []
afterAll(() => Promise.all(runtimes.map((runtime) => runtime.dispose())))

const runtimeFor = (respond: Parameters<typeof makeTestClient>[0]) => {
  const { recorded, layer } = makeTestClient(respond)
  const runtime = ManagedRuntime.make(layer)
  runtimes.push(runtime)
  return { recorded, runtime }
}

/** Never hangs: a run that takes longer than this is a failure of the property. */
const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutFail(effect, { duration: "2 seconds", onTimeout: () => new Error("hung") })

const keys = [
  "model",
  "maxTokens",
  "temperature",
  "topP",
  "topK",
  "minP",
  "stop",
  "n",
  "frequencyPenalty",
  "presencePenalty",
  "seed",
  "enableThinking",
  "unifiedLinear",
  "unifiedQuadratic",
  "unifiedCubic",
  "unifiedIncreaseLinearWithEntropy",
  "prompt",
  "messages"
] as const

const value = fc.oneof(
  fc.anything(),
  fc.double(),
  fc.integer({ min: -5000, max: 5000 }),
  fc.string(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constant(undefined)
)
const message = fc.oneof(
  fc.record({ role: fc.constantFrom("system", "user", "assistant"), content: fc.string() }),
  fc.record({ role: fc.anything(), content: fc.anything(), name: fc.anything() }, { requiredKeys: [] }),
  fc.anything()
)
const params = fc.oneof(
  fc.record(
    {
      ...Object.fromEntries(keys.map((k) => [k, value])),
      messages: fc.oneof(fc.array(message, { maxLength: 3 }), value),
      prompt: fc.oneof(fc.string(), value)
    },
    { requiredKeys: [] }
  ),
  fc.anything()
)

const chatOk = { choices: [{ message: { content: "ok" }, finish_reason: "stop" }] }

describe("arbitrary parameters", () => {
  it("give a valid request or InvalidRequestError before anything is sent; never a throw, defect or hang", async () => {
    const { recorded, runtime } = runtimeFor((request) =>
      request.url.endsWith("token-count")
        ? json({ length: 1 })
        : json(request.url.endsWith("chat/completions") ? chatOk : { choices: [{ text: "ok" }] })
    )
    const calls = [
      (p: unknown) => OpenAI.chatCompletion(p as never),
      (p: unknown) => OpenAI.completion(p as never),
      (p: unknown) => OpenAI.tokenCount(p as never),
      (p: unknown) => Stream.runDrain(OpenAI.chatCompletionStream(p as never))
    ]
    await fc.assert(
      fc.asyncProperty(params, fc.nat({ max: calls.length - 1 }), async (input, which) => {
        const before = recorded.length
        const exit = await runtime.runPromiseExit(bounded(calls[which]!(input)))
        if (Exit.isSuccess(exit)) {
          expect(recorded.length).toBe(before + 1)
          const body = (recorded.at(-1) as Recorded).body as Record<string, unknown> | undefined
          if (body) for (const key of Object.keys(body)) expect(key).toMatch(/^[a-z_]+$/)
          return
        }
        // A stream body of "ok" chunks is not what every call expects; those failures are typed too.
        expect(Cause.isDie(exit.cause)).toBe(false)
        const failure = Cause.failureOption(exit.cause)
        expect(failure._tag).toBe("Some")
        const error = failure._tag === "Some" ? failure.value : undefined
        expect(isNovelAIError(error)).toBe(true)
        if ((error as unknown as { _tag: string })._tag === "InvalidRequestError")
          expect(recorded.length).toBe(before)
      }),
      { numRuns: 400, seed: 20261125 }
    )
  }, 60_000)
})

const fragments = [
  'data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\n',
  'data: {"choices":[{"index":0,"delta":{"content":"é🦊"},"finish_reason":"stop"}]}\r\n\r\n',
  "data: [DONE]\n\n",
  ": keep-alive\n\n",
  "retry: 100\n",
  "id: 7\n",
  "event: error\n",
  'data: {"error":"boom"}\n\n',
  'data: {"statusCode":500,"message":"x"}\n\n',
  "data: {not json\n\n",
  "\r",
  "\n",
  "data:",
  '{"choices":'
]

const bytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(...fragments).map((f) => new TextEncoder().encode(f)),
      fc.string().map((s) => new TextEncoder().encode(s)),
      fc.uint8Array({ maxLength: 16 })
    ),
    { maxLength: 12 }
  )
  .map((parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let at = 0
    for (const part of parts) {
      out.set(part, at)
      at += part.length
    }
    return out
  })

describe("arbitrary byte streams at arbitrary split points", () => {
  it("give chunks or a typed error, never a defect or a hang", async () => {
    let body: ReadonlyArray<Uint8Array> = []
    const { runtime } = runtimeFor(() => {
      let i = 0
      return sse(
        new ReadableStream({
          pull(controller) {
            if (i < body.length) controller.enqueue(body[i++]!)
            else controller.close()
          }
        })
      )
    })
    await fc.assert(
      fc.asyncProperty(bytes, fc.array(fc.nat(), { maxLength: 8 }), async (input, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b)
        body = [0, ...points, input.length]
          .slice(1)
          .map((end, i, all) => input.subarray(i === 0 ? 0 : all[i - 1]!, end))
        const exit = await runtime.runPromiseExit(
          bounded(
            OpenAI.chatCompletionStream({ messages: [{ role: "user", content: "x" }] }).pipe(
              Stream.either,
              Stream.runCollect
            )
          )
        )
        expect(Exit.isSuccess(exit)).toBe(true)
        if (Exit.isSuccess(exit)) {
          const items = Chunk.toArray(exit.value)
          for (const item of items) if (item._tag === "Left") expect(isNovelAIError(item.left)).toBe(true)
          // An error, when there is one, is the last thing the stream gives.
          expect(items.slice(0, -1).every((item) => item._tag === "Right")).toBe(true)
        }
      }),
      { numRuns: 500, seed: 20261125 }
    )
  }, 60_000)
})
