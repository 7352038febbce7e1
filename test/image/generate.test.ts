import { FetchHttpClient } from "@effect/platform"
import { Chunk, Effect, Fiber, Stream } from "effect"
import { Image, NovelAI, NovelAIClient } from "effect-novelai"
import { describe, expect, it } from "vitest"
import { pngSize } from "../../src/internal/image/bytes.js"
import { recordingGate, traced } from "../support.js"
import { failure, layer, run, simulators, success } from "./support.js"

const simulator = simulators()

/** Waits until `check` holds, as the simulator's sockets move (each turn lets I/O run). */
const until = async (check: () => boolean) => {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((resolve) => setImmediate(resolve))
  expect(check()).toBe(true)
}

describe("Image.generate against the simulator", () => {
  it("returns each sample's PNG at the size asked, with seed + index, from one ZIP request", async () => {
    const sim = await simulator()
    const result = success(
      await run(sim, Image.generate({ prompt: "1girl, cat ears", size: [512, 640], nSamples: 3, seed: 41 }))
    )
    expect(result.seed).toBe(41)
    expect(result.images.map((image) => [image.index, image.seed, image.mimeType])).toEqual([
      [0, 41, "image/png"],
      [1, 42, "image/png"],
      [2, 43, "image/png"]
    ])
    for (const image of result.images) expect(pngSize(image.bytes)).toEqual({ width: 512, height: 640 })
    // Deterministic from the seed: the same seed, the same pixels; another seed, others.
    const again = success(await run(sim, Image.generate({ prompt: "other", size: [512, 640], seed: 42 })))
    expect(Buffer.from(again.images[0]!.bytes).equals(Buffer.from(result.images[1]!.bytes))).toBe(false)
    expect(sim.requests.map((r) => r.path)).toEqual(["/ai/generate-image", "/ai/generate-image"])
    const sent = sim.requests[0]!.body as any
    expect(sent.model).toBe("nai-diffusion-4-5-full")
    expect(sent.parameters.v4_prompt.caption.base_caption).toBe(sent.input)
    expect(sim.requests[0]!.headers.authorization).toBe(`Bearer ${sim.apiKey}`)
  })

  it("draws a seed when none is given, sends it and returns it", async () => {
    const sim = await simulator()
    const result = success(await run(sim, Image.generate({ prompt: "x" })))
    expect((sim.requests[0]!.body as any).parameters.seed).toBe(result.seed)
    expect(result.images[0]!.seed).toBe(result.seed)
  })

  it("refuses bad parameters before sending anything, naming the field", async () => {
    const sim = await simulator()
    const error = failure(await run(sim, Image.generate({ prompt: "x", size: [1000, 1000] })))
    expect(error).toMatchObject({ _tag: "InvalidRequestError", field: "size" })
    const unknown = failure(await run(sim, Image.generate({ prompt: "x", width: 512 } as any)))
    expect(unknown).toMatchObject({ _tag: "InvalidRequestError", field: "width" })
    expect(unknown.message).toContain("size: [width, height]")
    const textModel = failure(await run(sim, Image.generate({ prompt: "x", model: "glm-4-6" })))
    expect(textModel).toMatchObject({ field: "model" })
    expect(sim.requests).toHaveLength(0)
  })

  it("a ZIP over maxResponseBytes is a ResponseTooLargeError, tried once; a stream frame over it too", async () => {
    const sim = await simulator()
    const params = { prompt: "1girl", size: [512, 512] as const, seed: 1 }
    const whole = success(await run(sim, Image.generate(params)))
    const cap = Math.floor(whole.images[0]!.bytes.length / 2)
    const error = failure(
      await run(sim, Image.generate(params, { maxResponseBytes: cap }), { maxRetries: 2 })
    )
    expect(error).toMatchObject({ _tag: "ResponseTooLargeError", limit: cap })
    expect(sim.requests).toHaveLength(2)
    const streamed = failure(
      await run(
        sim,
        Stream.runDrain(Image.generateStream({ ...params, steps: 2 }, { maxResponseBytes: cap })),
        { maxRetries: 2 }
      )
    )
    expect(streamed).toMatchObject({ _tag: "ResponseTooLargeError", limit: cap })
    expect(sim.requests).toHaveLength(3)
  })

  it("maps NovelAI's errors: 400 unknown model, 401, 402 not enough Anlas", async () => {
    const sim = await simulator({ apiKeys: ["pst-ok", { key: "pst-free", tier: "free" }] })
    const unknown = failure(await run(sim, Image.generate({ prompt: "x", model: "nai-diffusion-9" })))
    expect(unknown).toMatchObject({ _tag: "InvalidRequestError", status: 400 })
    expect(unknown.message).toContain("model nai-diffusion-9 doesn't exist")
    const bad = failure(await run(sim, Image.generate({ prompt: "x" }), { apiKey: "pst-wrong" }))
    expect(bad).toMatchObject({ _tag: "AuthenticationError", status: 401 })
    const poor = failure(await run(sim, Image.generate({ prompt: "x" }), { apiKey: "pst-free" }))
    expect(poor).toMatchObject({ _tag: "InsufficientAnlasError", status: 402 })
    expect(poor.message).toContain("Not enough Anlas")
  })

  it("charges the key what Image.cost says; a balance short of it is a 402 InsufficientAnlasError, not retried", async () => {
    const sim = await simulator({ apiKeys: ["pst-scroll"], anlas: { "pst-scroll": 50 } })
    const params = { prompt: "x", size: "portrait", steps: 28, nSamples: 2 } as const
    const price = Image.cost(params, { tier: 2 })
    expect(price.anlas).toBe(40)
    success(await run(sim, Image.generate(params)))
    expect(sim.anlas("pst-scroll")).toBe(10)
    const short = failure(await run(sim, Image.generate(params), { maxRetries: 2 }))
    expect(short).toMatchObject({ _tag: "InsufficientAnlasError", status: 402 })
    expect(sim.requests).toHaveLength(2)
    expect(sim.anlas("pst-scroll")).toBe(10)
    // Opus's free rule: one image of at most 1 MP and 28 steps costs nothing.
    const opus = await simulator({ apiKeys: [{ key: "pst-opus", tier: "opus" }], anlas: { "pst-opus": 0 } })
    const free = { prompt: "x", size: "portrait", steps: 28 } as const
    expect(Image.cost(free, { tier: 3 })).toMatchObject({ anlas: 0, free: true })
    success(await run(opus, Image.generate(free)))
    expect(failure(await run(opus, Image.generate({ ...free, nSamples: 2 })))).toMatchObject({
      _tag: "InsufficientAnlasError"
    })
  })
})

describe("a gate of the user's own hears how each image generation ended", () => {
  it("a stream stopped before its finals is 'interrupted' (NovelAI goes on generating); a whole one 'done'", async () => {
    // Steps a few ms apart, so that the stream is stopped while the server is still generating.
    const sim = await simulator({ chunkDelayMs: 5, quirks: { lockOutlivesCancel: false } })
    const { gate: generationGate, outcomes } = recordingGate()
    const params = { prompt: "x", size: [256, 256] as const, steps: 40 }
    success(await run(sim, Stream.runDrain(Stream.take(Image.generateStream(params), 2)), { generationGate }))
    success(await run(sim, Stream.runDrain(Image.generateStream(params)), { generationGate }))
    expect(outcomes).toEqual(["interrupted", "done"])
  })
})

describe("tag suggestions", () => {
  it("Image.suggestTags sends the fragment, model and language as the query of a GET, and decodes the tags", async () => {
    const sim = await simulator()
    const tags = success(await run(sim, Image.suggestTags("1girl, cat e", { language: "en" })))
    expect(tags.map((t) => t.tag)).toEqual(["cat ears"])
    expect(tags[0]).toMatchObject({ count: 420_000 })
    expect(tags[0]!.confidence).toBeGreaterThan(0)
    const request = sim.requests[0]!
    expect(request.method).toBe("GET")
    expect(request.path).toBe("/ai/generate-image/suggest-tags")
    expect(request.body).toBeUndefined()
    const client = new NovelAI(sim.clientOptions)
    try {
      const viaFacade = await client.image.suggestTags({ prompt: "cat", model: "nai-diffusion-4-full" })
      expect(viaFacade.map((t) => t.tag)).toEqual(["cat ears", "cat tail", "cat girl", "catgirl"])
      await expect(client.image.suggestTags({ prompt: "" })).rejects.toMatchObject({
        _tag: "InvalidRequestError",
        field: "prompt"
      })
    } finally {
      await client.close()
    }
    expect(sim.requests).toHaveLength(2)
  })
})

describe("a budget (maxAnlas, freeOnly) refuses a paid call before anything is sent", () => {
  const portrait = { prompt: "x", size: "portrait", steps: 28 } as const

  it("maxAnlas: an estimate over it is a BudgetExceededError naming the price; under it, sent", async () => {
    const sim = await simulator()
    const over = failure(await run(sim, Image.generate({ ...portrait, nSamples: 2 }, { maxAnlas: 30 })))
    expect(over).toMatchObject({ _tag: "BudgetExceededError", anlas: 40, maxAnlas: 30 })
    expect(over.message).toContain("over maxAnlas 30")
    const streamed = failure(
      await run(sim, Stream.runDrain(Image.generateStream({ ...portrait, nSamples: 2 })), { maxAnlas: 30 })
    )
    expect(streamed).toMatchObject({ _tag: "BudgetExceededError", anlas: 40 })
    expect(sim.requests).toHaveLength(0)
    success(await run(sim, Image.generate(portrait, { maxAnlas: 30 })))
    expect(sim.requests).toHaveLength(1)
  })

  it("freeOnly: free for an Opus account passes, anything else (or no account known) is refused", async () => {
    const sim = await simulator({ apiKeys: [{ key: "pst-opus", tier: "opus" }] })
    const opus = { apiKey: "pst-opus", freeOnly: true, account: { tier: 3 } }
    success(await run(sim, Image.generate(portrait), opus))
    const two = failure(await run(sim, Image.generate({ ...portrait, nSamples: 2 }), opus))
    expect(two).toMatchObject({ _tag: "BudgetExceededError" })
    expect(two.message).toContain("not free for this account")
    const unknown = failure(await run(sim, Image.generate(portrait), { apiKey: "pst-opus", freeOnly: true }))
    expect(unknown.message).toContain("knows no account")
    expect(sim.requests).toHaveLength(1)
    // Per call, over the client's: a call may lift the client's freeOnly.
    success(await run(sim, Image.generate({ ...portrait, nSamples: 2 }, { freeOnly: false }), opus))
    expect(sim.requests).toHaveLength(2)
  })

  it("each paid call's span carries its estimated price, for the client's account", async () => {
    const sim = await simulator({ apiKeys: [{ key: "pst-opus", tier: "opus" }] })
    const estimated = async (options: Partial<NovelAIClient.Options>, nSamples: number) => {
      const { spans } = await Effect.runPromise(
        traced(
          Effect.provide(
            Image.generate({ ...portrait, nSamples }),
            layer(sim, { apiKey: "pst-opus", ...options })
          )
        )
      )
      return spans
        .find((span) => span.name === "NovelAI.image.generate")
        ?.attributes.get("novelai.anlas.estimated")
    }
    expect(await estimated({}, 1)).toBe(20)
    expect(await estimated({ account: { tier: 3 } }, 1)).toBe(0)
    expect(await estimated({ account: { tier: 3 } }, 2)).toBe(20)
  })

  it("the facade takes them as client and call options; bad values are refused", async () => {
    const sim = await simulator()
    const client = new NovelAI({ ...sim.clientOptions, maxAnlas: 10 })
    try {
      await expect(client.image.generate(portrait)).rejects.toMatchObject({
        _tag: "BudgetExceededError",
        anlas: 20
      })
      await expect(client.image.generate(portrait, { maxAnlas: -1 })).rejects.toMatchObject({
        _tag: "InvalidRequestError"
      })
      expect(sim.requests).toHaveLength(0)
    } finally {
      await client.close()
    }
    expect(() => new NovelAI({ ...sim.clientOptions, account: { tier: "opus" } as never })).toThrow(
      /account must be/
    )
  })
})

describe("Image.generateStream against the simulator", () => {
  it("streams steps - 1 previews then a final per sample, over msgpack frames", async () => {
    const sim = await simulator()
    const events = Chunk.toArray(
      success(
        await run(
          sim,
          Stream.runCollect(
            Image.generateStream({ prompt: "x", steps: 5, nSamples: 2, seed: 7, size: "small_square" })
          )
        )
      )
    )
    expect(
      events.map((e) => `${e.event_type}:${e.samp_ix}:${e.event_type === "intermediate" ? e.step_ix : ""}`)
    ).toEqual([
      "intermediate:0:0",
      "intermediate:0:1",
      "intermediate:0:2",
      "intermediate:0:3",
      "final:0:",
      "intermediate:1:0",
      "intermediate:1:1",
      "intermediate:1:2",
      "intermediate:1:3",
      "final:1:"
    ])
    const finals = events.filter((e) => e.event_type === "final")
    expect(finals.map((e) => e.event_type === "final" && e.seed)).toEqual([7, 8])
    expect(pngSize(finals[0]!.image)).toEqual({ width: 640, height: 640 })
    expect(new Set(events.map((e) => e.gen_id)).size).toBe(1)
    expect(sim.requests[0]!.headers.accept).toContain("application/msgpack")
    expect((sim.requests[0]!.body as any).parameters.stream).toBe("msgpack")
  })

  it("gives the same events over SSE", async () => {
    const sim = await simulator()
    const params = { prompt: "x", steps: 3, seed: 9, size: "small_square" } as const
    const msgpack = success(await run(sim, Stream.runCollect(Image.generateStream(params))))
    const sse = success(await run(sim, Stream.runCollect(Image.generateStream({ ...params, stream: "sse" }))))
    expect(Chunk.toArray(sse).map((e) => ({ ...e, gen_id: 0 }))).toEqual(
      Chunk.toArray(msgpack).map((e) => ({ ...e, gen_id: 0 }))
    )
  })

  it("interrupting the stream closes the request", async () => {
    const sim = await simulator({ chunkDelayMs: 5 })
    const first = success(
      await run(sim, Stream.runCollect(Stream.take(Image.generateStream({ prompt: "x", steps: 50 }), 2)))
    )
    expect(Chunk.size(first)).toBe(2)
    await until(() => sim.requests[0]?.closedAt !== undefined)
    expect(sim.requests[0]!.clientClosedEarly).toBe(true)
    expect(sim.requests[0]!.chunks).toBeLessThan(50)
  })

  it("interrupting generate closes its request", async () => {
    const sim = await simulator({ chunkDelayMs: 20 })
    const program = Effect.gen(function* () {
      const fiber = yield* Effect.fork(Image.generate({ prompt: "x", steps: 50 }))
      yield* Effect.promise(() => until(() => sim.requests.length === 1))
      yield* Fiber.interrupt(fiber)
    })
    success(await run(sim, program))
    await until(() => sim.requests[0]?.closedAt !== undefined)
    expect(sim.requests[0]!.clientClosedEarly).toBe(true)
  })

  it("an abandoned generation keeps the key's image lock, as NovelAI's does", async () => {
    const sim = await simulator({ chunkDelayMs: 20 })
    success(await run(sim, Stream.runDrain(Stream.take(Image.generateStream({ prompt: "x", steps: 50 }), 1))))
    await until(() => sim.requests[0]?.closedAt !== undefined)
    const locked = failure(await run(sim, Image.generate({ prompt: "y" }), { lockWait: 0 }))
    expect(locked).toMatchObject({ _tag: "RateLimitError", generationLock: true })
  })

  it("a stream cut before a final is a StreamTruncatedError; an error frame a ServerError", async () => {
    const sim = await simulator()
    sim.enqueueFault({ kind: "cut", after: 3 })
    const cut = failure(await run(sim, Stream.runCollect(Image.generateStream({ prompt: "x", steps: 10 }))))
    expect(cut).toMatchObject({ _tag: "StreamTruncatedError", chunksReceived: 3 })
    sim.enqueueFault({ kind: "error-frame", after: 2, message: "CUDA out of memory" })
    const errored = failure(
      await run(sim, Stream.runCollect(Image.generateStream({ prompt: "x", steps: 10 })))
    )
    expect(errored).toMatchObject({ _tag: "ServerError" })
    expect(errored.message).toContain("sample 0 failed: CUDA out of memory")
    sim.enqueueFault({ kind: "malformed", after: 1 })
    const malformed = failure(
      await run(sim, Stream.runCollect(Image.generateStream({ prompt: "x", steps: 10 })))
    )
    expect(malformed).toMatchObject({ _tag: "ResponseDecodeError" })
  })
})

describe("retries never run a paid generation twice", () => {
  it("a 500 is not retried by default; a gateway's 503 is", async () => {
    const sim = await simulator()
    sim.enqueueFault({ kind: "server-error", status: 500 })
    const error = failure(await run(sim, Image.generate({ prompt: "x" }), { maxRetries: 2 }))
    expect(error).toMatchObject({ _tag: "ServerError", status: 500, shouldRetry: false })
    expect(sim.requests).toHaveLength(1)
    sim.reset()
    sim.enqueueFault({ kind: "server-error", status: 503 })
    success(await run(sim, Image.generate({ prompt: "x" }), { maxRetries: 2 }))
    expect(sim.requests.map((r) => r.status)).toEqual([503, 200])
  })

  it("a stream whose answer had started is not retried, even before its first event", async () => {
    const sim = await simulator()
    sim.enqueueFault({ kind: "reset", after: 0 })
    const error = failure(
      await run(sim, Stream.runCollect(Image.generateStream({ prompt: "x" })), { maxRetries: 2 })
    )
    expect(error).toMatchObject({ _tag: "TransportError", shouldRetry: false })
    expect(sim.requests).toHaveLength(1)
  })
})

describe("the account's image lock", () => {
  it("another client of the key gets 429 Concurrent generation is locked while a stream holds it", async () => {
    const sim = await simulator({ chunkDelayMs: 5 })
    const holder = NovelAIClient.make({ apiKey: sim.apiKey, imageBaseUrl: sim.url, maxRetries: 0 })
    const program = Effect.gen(function* () {
      const a = yield* holder
      const b = yield* NovelAIClient.make({ apiKey: sim.apiKey, imageBaseUrl: sim.url, maxRetries: 0 })
      // The first stream has started (its first event arrived) and holds the lock.
      const pull = yield* Stream.toPull(a.image.generateStream({ prompt: "x", steps: 50 }))
      yield* pull
      const locked = yield* Effect.exit(b.image.generate({ prompt: "y" }))
      return locked
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))
    const locked = await Effect.runPromise(program)
    expect(failure(locked)).toMatchObject({ _tag: "RateLimitError", status: 429, generationLock: true })
  })

  it("by default another client waits the lock out (lockWait) and then generates", async () => {
    const sim = await simulator({ chunkDelayMs: 5 })
    const program = Effect.gen(function* () {
      const a = yield* NovelAIClient.make({ apiKey: sim.apiKey, imageBaseUrl: sim.url, maxRetries: 0 })
      const b = yield* NovelAIClient.make({ apiKey: sim.apiKey, imageBaseUrl: sim.url })
      const pull = yield* Stream.toPull(a.image.generateStream({ prompt: "x", steps: 20 }))
      yield* pull
      // The holder goes on to its end while the other waits.
      yield* Effect.fork(Effect.forever(pull).pipe(Effect.ignore))
      return yield* b.image.generate({ prompt: "y", steps: 5 })
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))
    const result = await Effect.runPromise(program)
    expect(result.images).toHaveLength(1)
    const statuses = sim.requests.filter((r) => r.path === "/ai/generate-image").map((r) => r.status)
    expect(statuses[0]).toBe(429)
    expect(statuses.at(-1)).toBe(200)
  })

  it("one client queues its own image generations on its gate instead of hitting the lock", async () => {
    const sim = await simulator({ chunkDelayMs: 1 })
    const results = success(
      await run(
        sim,
        Effect.all([Image.generate({ prompt: "a", steps: 5 }), Image.generate({ prompt: "b", steps: 5 })], {
          concurrency: "unbounded"
        })
      )
    )
    expect(results).toHaveLength(2)
    expect(sim.requests.map((r) => r.status)).toEqual([200, 200])
  })

  it("the text and image slots are separate: a text generation does not wait for an image", async () => {
    const sim = await simulator({ chunkDelayMs: 2 })
    const program = Effect.gen(function* () {
      const client = yield* NovelAIClient.NovelAIClient
      const pull = yield* Stream.toPull(client.image.generateStream({ prompt: "x", steps: 50 }))
      yield* pull
      return yield* client.text.generate({ input: "Once", maxLength: 5 })
    }).pipe(Effect.scoped)
    const text = success(await run(sim, program, { baseUrl: sim.url }))
    expect(typeof text.output).toBe("string")
  })
})

describe("the Promise facade", () => {
  it("client.image.readMetadata reads back what the image was made with; bytes that are not a PNG reject", async () => {
    const sim = await simulator()
    const client = new NovelAI({ apiKey: sim.apiKey, imageBase: sim.url })
    try {
      const [png] = await client.image.generate({ prompt: "1girl, cat ears", size: [512, 512], seed: 77 })
      const meta = await client.image.readMetadata(png!)
      expect(meta).toMatchObject({ seed: 77, width: 512, height: 512 })
      expect(meta?.prompt).toContain("1girl, cat ears")
      const effect = success(await Effect.runPromiseExit(Image.readMetadata(png!)))
      expect(effect._tag === "Some" && effect.value.seed).toBe(77)
      await expect(client.image.readMetadata(new TextEncoder().encode("<html>"))).rejects.toMatchObject({
        _tag: "ImageMetadataError",
        reason: "NotPng"
      })
    } finally {
      await client.close()
    }
  })

  it("generate resolves to Buffers to write as they are; the SDK's imageBase option is taken", async () => {
    const sim = await simulator()
    const client = new NovelAI({ apiKey: sim.apiKey, imageBase: sim.url })
    try {
      const images = await client.image.generate({ prompt: "1girl", size: "small_portrait" })
      expect(images).toHaveLength(1)
      expect(Buffer.isBuffer(images[0])).toBe(true)
      expect(pngSize(images[0]!)).toEqual({ width: 512, height: 768 })
      // An ArrayBuffer or base64 image in, as the SDK takes them.
      const png = images[0]!
      const base64 = Buffer.from(png).toString("base64")
      await client.image.generate({ prompt: "x", size: "small_portrait", image: base64, strength: 0.5 })
      const arrayBuffer = new Uint8Array(png).buffer
      await client.image.generate({ prompt: "x", size: "small_portrait", image: arrayBuffer })
      expect(sim.requests.map((r) => (r.body as any).parameters.image)).toEqual([undefined, base64, base64])
    } finally {
      await client.close()
    }
  })

  it("generateStream yields events with base64 images; break closes the request", async () => {
    const sim = await simulator({ chunkDelayMs: 2 })
    const client = new NovelAI({ apiKey: sim.apiKey, imageBaseUrl: sim.url })
    try {
      const seen: Array<string> = []
      for await (const chunk of client.image.generateStream({ prompt: "x", steps: 40 })) {
        if (chunk.event_type === "intermediate") seen.push(`step ${chunk.step_ix}, sigma ${chunk.sigma}`)
        expect(typeof chunk.image).toBe("string")
        expect(pngSize(Buffer.from(chunk.image, "base64"))).toBeDefined()
        if (seen.length === 3) break
      }
      expect(seen).toHaveLength(3)
      await until(() => sim.requests[0]?.closedAt !== undefined)
      expect(sim.requests[0]!.clientClosedEarly).toBe(true)
    } finally {
      await client.close()
    }
  })

  it("an AbortSignal ends the stream and the request", async () => {
    const sim = await simulator({ chunkDelayMs: 2 })
    const client = new NovelAI({ apiKey: sim.apiKey, imageBaseUrl: sim.url })
    try {
      const controller = new AbortController()
      const stream = client.image.generateStream({ prompt: "x", steps: 40 }, controller.signal)
      await stream.next()
      controller.abort()
      await expect(stream.next()).rejects.toMatchObject({ name: "AbortError" })
      await until(() => sim.requests[0]?.closedAt !== undefined)
      expect(sim.requests[0]!.clientClosedEarly).toBe(true)
    } finally {
      await client.close()
    }
  })
})
