/**
 * Hostile use over real sockets: the Promise facade's iterators and lifecycle, compressed and
 * redirected answers on every transport.
 */
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { ClientClosedError, NovelAI, NovelAIClient, OpenAI } from "effect-novelai"
import { type Fault, startSimulator } from "effect-novelai/testing"
import { afterEach } from "vitest"

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }

const closing: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closing.splice(0)) await close()
})

/** A simulator and a facade client on it, both closed after the test. */
const facade = async (options: { chunkDelayMs?: number; tokens?: number; maxConcurrency?: number } = {}) => {
  const sim = await startSimulator({ chunkDelayMs: options.chunkDelayMs ?? 0, concurrencyLimit: 10 })
  const client = new NovelAI({
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    maxRetries: 0,
    ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
    ...(options.tokens ? { headers: { "x-simulator-tokens": String(options.tokens) } } : {})
  })
  closing.push(
    () => client.close(),
    () => sim.close()
  )
  return { sim, client }
}

const waitFor = async (done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe("the facade: a stream waiting for a slot can be aborted", () => {
  it("behind a running stream with maxConcurrency 1, an AbortSignal ends the wait with its reason (TimeoutError), as fetch does", async () => {
    const { sim, client } = await facade({ chunkDelayMs: 20, maxConcurrency: 1 })
    const running = client.openai.chatCompletionStream({ ...hi, maxTokens: 500 })
    await running.next()
    const error = await client.openai
      .chatCompletionStream(hi, AbortSignal.timeout(100))
      .next()
      .catch((e: unknown) => e)
    expect((error as Error).name).toBe("TimeoutError")
    // The waiting stream never reached the server; the running one still streams.
    expect(sim.requests).toHaveLength(1)
    expect(sim.requests[0]!.closedAt).toBeUndefined()
    await running.return?.()
  })
})

describe("the facade: next() called again before the last one settled", () => {
  it("two next() calls without awaiting send one generation, and give its first two chunks in order", async () => {
    const { sim, client } = await facade({ tokens: 32 })
    const stream = client.openai.chatCompletionStream(hi)
    const [first, second] = await Promise.all([stream.next(), stream.next()])
    expect(first.value?.choices[0]?.delta.role).toBe("assistant")
    expect(second.value?.choices[0]?.delta.content).toMatch(/\w/)
    await stream.return?.()
    expect(sim.requests).toHaveLength(1)
  })

  it("three concurrent next() calls on a 32-token stream, then the rest: each chunk once, 34 in all", async () => {
    const { sim, client } = await facade({ tokens: 32 })
    const stream = client.openai.chatCompletionStream(hi)
    const chunks = (await Promise.all([stream.next(), stream.next(), stream.next()])).map((r) => r.value)
    for await (const chunk of stream) chunks.push(chunk)
    // The role chunk, 32 tokens, the finish chunk.
    expect(chunks).toHaveLength(34)
    expect(chunks.filter((c) => c?.choices[0]?.finish_reason === "stop")).toHaveLength(1)
    expect(sim.requests).toHaveLength(1)
  })

  it("with maxConcurrency 1 the same does not deadlock", async () => {
    const { client } = await facade({ tokens: 8, maxConcurrency: 1 })
    const stream = client.openai.chatCompletionStream(hi)
    const chunks = (await Promise.all([stream.next(), stream.next(), stream.next()])).map((r) => r.value)
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks).toHaveLength(10)
  })
})

describe("the facade: close() while work is in flight", () => {
  it("a call in flight ends at once with a ClientClosedError, and is not retried", async () => {
    const sim = await startSimulator()
    closing.push(() => sim.close())
    const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url })
    sim.enqueueFault({ kind: "stall-headers", ms: 5_000 })
    const pending = client.openai.chatCompletion(hi).catch((e: unknown) => e)
    await waitFor(() => sim.requests.length === 1)
    await client.close()
    const error = await pending
    expect(error).toBeInstanceOf(ClientClosedError)
    // It did not wait for the stalled answer, nor try again.
    expect(sim.requests[0]!.status).toBeUndefined()
    expect(sim.requests).toHaveLength(1)
  })

  it("a stream's pending next() rejects with ClientClosedError, and so does a stream started later", async () => {
    const sim = await startSimulator()
    closing.push(() => sim.close())
    const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url })
    // The role chunk, one token, then nothing for 5 s.
    sim.enqueueFault({ kind: "stall", ms: 5_000, after: 1 })
    const stream = client.openai.chatCompletionStream(hi)
    await stream.next()
    await stream.next()
    const pending = stream.next()
    await client.close()
    await expect(pending).rejects.toBeInstanceOf(ClientClosedError)
    await expect(client.openai.chatCompletionStream(hi).next()).rejects.toBeInstanceOf(ClientClosedError)
  })
})

const transports: ReadonlyArray<[string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["Fetch", FetchHttpClient.layer],
  ["undici", NodeHttpClient.layerUndici],
  [
    "node:http",
    NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true })))
  ]
]

/** Runs `f` against a fresh simulator with `faults` queued, over `http`. */
const over = <A, E>(
  http: Layer.Layer<HttpClient.HttpClient>,
  faults: ReadonlyArray<Fault>,
  f: Effect.Effect<A, E, NovelAIClient.NovelAIClient>
) =>
  Effect.gen(function* () {
    const sim = yield* Effect.acquireRelease(
      Effect.promise(() => startSimulator()),
      (sim) => Effect.promise(() => sim.close())
    )
    for (const fault of faults) sim.enqueueFault(fault)
    const result = yield* f.pipe(
      Effect.provide(
        NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0 }).pipe(Layer.provide(http))
      ),
      Effect.either
    )
    return { sim, result }
  }).pipe(Effect.scoped)

for (const [name, http] of transports) {
  describe(`answers a proxy compressed although the client asked for none, over ${name}`, () => {
    for (const format of ["gzip", "deflate"] as const) {
      it.live(`${format}: a whole answer and a stream decode to the same text as uncompressed ones`, () =>
        Effect.gen(function* () {
          const plain = yield* over(http, [], OpenAI.chatCompletion({ ...hi, seed: 3 }))
          const packed = yield* over(
            http,
            [{ kind: "compress", format }],
            OpenAI.chatCompletion({ ...hi, seed: 3 })
          )
          expect(packed.sim.requests[0]!.headers["accept-encoding"]).toBe("identity")
          expect(packed.result._tag === "Right" && packed.result.right.choices[0]!.message.content).toBe(
            plain.result._tag === "Right" && plain.result.right.choices[0]!.message.content
          )
          const streamed = yield* over(
            http,
            [{ kind: "compress", format }],
            OpenAI.chatCompletionStream({ ...hi, seed: 3 }).pipe(OpenAI.textDeltas, Stream.mkString)
          )
          expect(streamed.result._tag === "Right" && streamed.result.right).toBe(
            plain.result._tag === "Right" && plain.result.right.choices[0]!.message.content
          )
        })
      )
    }

    it.live("br: decoded where the transport decodes it, else a ResponseDecodeError naming it", () =>
      Effect.gen(function* () {
        const { result } = yield* over(http, [{ kind: "compress", format: "br" }], OpenAI.chatCompletion(hi))
        if (name === "Fetch") {
          expect(result._tag).toBe("Right")
        } else {
          expect(result._tag === "Left" && result.left).toMatchObject({ _tag: "ResponseDecodeError" })
          expect(result._tag === "Left" && result.left.message).toMatch(/content-encoding: br/)
        }
      })
    )
  })

  describe(`a redirect is never followed, over ${name}`, () => {
    for (const status of [301, 302, 307, 308]) {
      it.live(
        `${status} to another host: an InvalidRequestError naming the new address; the key stays home`,
        () =>
          Effect.gen(function* () {
            const elsewhere = yield* Effect.acquireRelease(
              Effect.promise(() => startSimulator()),
              (sim) => Effect.promise(() => sim.close())
            )
            const location = `${elsewhere.url}/oa/v1/chat/completions`
            const { sim, result } = yield* over(
              http,
              [{ kind: "redirect", status, location }],
              OpenAI.chatCompletion(hi)
            )
            expect(result._tag === "Left" && result.left).toMatchObject({
              _tag: "InvalidRequestError",
              status
            })
            expect(result._tag === "Left" && result.left.message).toContain(location)
            expect(sim.requests).toHaveLength(1)
            expect(elsewhere.requests).toHaveLength(0)
          }).pipe(Effect.scoped)
      )
    }
  })
}
