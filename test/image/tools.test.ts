import { Effect, Fiber } from "effect"
import { Image, type ImageTools, NovelAI } from "effect-novelai"
import type { Simulator } from "effect-novelai/testing"
import { describe, expect, it } from "vitest"
import { pngSize, toBase64 } from "../../src/internal/image/bytes.js"
import { makePng } from "../../src/testing/internal/image/png.js"
import { failure, layer, run, simulators, success } from "./support.js"

const simulator = simulators()

/** The first bytes of a PNG of any size: all the client reads of an image it refuses. */
const pngHeader = (width: number, height: number) => {
  const bytes = new Uint8Array(33)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  const view = new DataView(bytes.buffer)
  view.setUint32(16, width)
  view.setUint32(20, height)
  return bytes
}

const portrait = makePng(832, 1216, 7)
const small = makePng(64, 96, 3)

describe("Image.augment: the director tools", () => {
  it("sends each tool's body as NovelAI's site does: req_type, the image's own size, the PNG as base64", async () => {
    const sim = await simulator()
    const image = small
    const calls: ReadonlyArray<readonly [ImageTools.AugmentParams, Record<string, unknown>]> = [
      [{ tool: "lineart", image }, {}],
      [{ tool: "sketch", image }, {}],
      [{ tool: "declutter", image }, {}],
      [{ tool: "declutter-keep-bubbles", image }, {}],
      [
        { tool: "colorize", image },
        { prompt: "", defry: 0 }
      ],
      [
        { tool: "colorize", image, prompt: "red hair", defry: 3 },
        { prompt: "red hair", defry: 3 }
      ],
      [
        { tool: "emotion", image, emotion: "happy" },
        { prompt: "happy;;", defry: 0 }
      ],
      [
        { tool: "emotion", image, emotion: "shy", prompt: "blush", level: 2 },
        { prompt: "shy;;blush", defry: 2 }
      ],
      [
        { tool: "emotion", image: toBase64(image), emotion: "love", defry: 5 },
        { prompt: "love;;", defry: 5 }
      ]
    ]
    for (const [params, extra] of calls) {
      const result = success(await run(sim, Image.augment(params)))
      expect(result).toMatchObject({ tool: params.tool, width: 64, height: 96 })
      if (result.tool === "bg-removal") throw new Error("not bg-removal")
      expect(pngSize(result.image)).toEqual({ width: 64, height: 96 })
      expect(result.images).toEqual([result.image])
      expect(sim.requests.at(-1)!.body).toEqual({
        req_type: params.tool,
        width: 64,
        height: 96,
        image: toBase64(image),
        ...extra,
        use_new_shared_trial: true
      })
    }
    expect(sim.requests.map((r) => r.path)).toEqual(calls.map(() => "/ai/augment-image"))
  })

  it("bg-removal gives its three images by name: masked, generated, blend, each at the input's size", async () => {
    const sim = await simulator()
    const result = success(await run(sim, Image.augment({ tool: "bg-removal", image: small })))
    if (result.tool !== "bg-removal") throw new Error("not bg-removal")
    const { masked, generated, blend } = result
    for (const png of [masked, generated, blend]) expect(pngSize(png)).toEqual({ width: 64, height: 96 })
    expect(result.images).toEqual([masked, generated, blend])
    // Three different images, in the archive's order.
    expect(new Set([masked, generated, blend].map((png) => toBase64(png))).size).toBe(3)
    expect(sim.requests[0]!.body).toEqual({
      req_type: "bg-removal",
      width: 64,
      height: 96,
      image: toBase64(small),
      use_new_shared_trial: true
    })
  })

  it("charges what Image.cost estimates: 20 for a tool at 832x1216 on Tablet, bg-removal 65 even on Opus", async () => {
    const sim = await simulator({
      apiKeys: [
        { key: "pst-tablet", tier: "tablet" },
        { key: "pst-opus", tier: "opus" }
      ],
      anlas: { "pst-tablet": 100, "pst-opus": 100 }
    })
    const lineart = Image.cost({ tool: "lineart", size: [832, 1216] }, { tier: 1 })
    expect(lineart.anlas).toBe(20)
    success(await run(sim, Image.augment({ tool: "lineart", image: portrait }), { apiKey: "pst-tablet" }))
    expect(sim.anlas("pst-tablet")).toBe(100 - lineart.anlas)

    expect(Image.cost({ tool: "sketch", size: [832, 1216] }, { tier: 3 }).anlas).toBe(0)
    success(await run(sim, Image.augment({ tool: "sketch", image: portrait }), { apiKey: "pst-opus" }))
    expect(sim.anlas("pst-opus")).toBe(100)
    const removal = Image.cost({ tool: "bg-removal", size: [832, 1216] }, { tier: 3 })
    expect(removal.anlas).toBe(65)
    success(await run(sim, Image.augment({ tool: "bg-removal", image: portrait }), { apiKey: "pst-opus" }))
    expect(sim.anlas("pst-opus")).toBe(100 - 65)
  })

  it("a balance short of the price is a 402 InsufficientAnlasError, not retried, nothing charged", async () => {
    const sim = await simulator({ apiKeys: ["pst-poor"], anlas: { "pst-poor": 30 } })
    const error = failure(
      await run(sim, Image.augment({ tool: "bg-removal", image: portrait }), { maxRetries: 2 })
    )
    expect(error).toMatchObject({ _tag: "InsufficientAnlasError", status: 402 })
    expect(error.message).toContain("Not enough Anlas")
    expect(sim.requests).toHaveLength(1)
    expect(sim.anlas("pst-poor")).toBe(30)
  })

  it("refuses bad parameters before sending anything, naming the field", async () => {
    const sim = await simulator()
    const refused = async (params: unknown, field: string, text: string) => {
      const error = failure(await run(sim, Image.augment(params as ImageTools.AugmentParams)))
      expect(error).toMatchObject({ _tag: "InvalidRequestError", field })
      expect(error.message).toContain(text)
    }
    await refused({ tool: "blur", image: small }, "tool", "bg-removal")
    await refused({ tool: "lineart", image: small, prompt: "x" }, "prompt", "not taken by lineart")
    await refused({ tool: "bg-removal", image: small, defry: 1 }, "defry", "not taken by bg-removal")
    await refused({ tool: "colorize", image: small, defry: 6 }, "defry", "from 0 to 5")
    await refused({ tool: "colorize", image: small, level: 1 }, "level", "colorize's strength is defry")
    await refused({ tool: "emotion", image: small }, "emotion", "is missing")
    await refused({ tool: "emotion", image: small, emotion: "glad" }, "emotion", "happy")
    await refused({ tool: "emotion", image: small, emotion: "sad", level: 1, defry: 2 }, "level", "give one")
    await refused({ tool: "sketch", image: new TextEncoder().encode("GIF89a...") }, "image", "must be a PNG")
    await refused({ tool: "sketch", image: "/tmp/picture.png" }, "image", "a file path is not read")
    await refused({ tool: "sketch", image: small, width: 64 }, "width", "read from the image")
    // Over 3,145,728 − 2,000 pixels: refused with the size NovelAI's site would scale it to.
    await refused({ tool: "sketch", image: pngHeader(2048, 1536) }, "image", "at most 3,143,728 pixels")
    await refused(
      { tool: "sketch", image: pngHeader(2048, 1536) },
      "image",
      "scale it down to about 2047x1535"
    )
    expect(sim.requests).toHaveLength(0)
    // Just under the limit goes.
    expect(Image.cost({ tool: "sketch", size: [2048, 1535] }, { tier: 1 }).anlas).toBeGreaterThan(0)
  })

  it("a budget refuses a call priced over maxAnlas before it is sent", async () => {
    const sim = await simulator()
    const error = failure(
      await run(sim, Image.augment({ tool: "bg-removal", image: portrait }, { maxAnlas: 64 }))
    )
    expect(error).toMatchObject({ _tag: "BudgetExceededError", anlas: 65, maxAnlas: 64 })
    expect(sim.requests).toHaveLength(0)
  })

  it("holds the key's image lock while it runs: another request of the key meanwhile is a 429", async () => {
    const sim = await simulator({ chunkDelayMs: 20 })
    const fiber = Effect.runFork(Effect.provide(Image.augment({ tool: "lineart", image: small }), layer(sim)))
    for (let i = 0; i < 5000 && sim.activeGenerations() === 0; i++)
      await new Promise((resolve) => setImmediate(resolve))
    expect(sim.activeGenerations()).toBe(1)
    const response = await fetch(`${sim.url}/ai/upscale`, {
      method: "POST",
      headers: { authorization: `Bearer ${sim.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        image: toBase64(small),
        model: "nai-diffusion-5-curated",
        declared_blur_sigma: 0
      })
    })
    expect(response.status).toBe(429)
    expect(await response.json()).toMatchObject({ message: "Concurrent generation is locked" })
    const result = await Effect.runPromise(Fiber.join(fiber))
    expect(result.tool).toBe("lineart")
    expect(sim.activeGenerations()).toBe(0)
  })
})

describe("Image.upscale: the ×2 upscaler", () => {
  it("doubles the size; sends the image, nai-diffusion-5-curated by default, declared_blur_sigma 0", async () => {
    const sim = await simulator()
    const result = success(await run(sim, Image.upscale(small)))
    expect(result).toMatchObject({ width: 128, height: 192, model: "nai-diffusion-5-curated" })
    expect(pngSize(result.image)).toEqual({ width: 128, height: 192 })
    expect(sim.requests[0]!.path).toBe("/ai/upscale")
    expect(sim.requests[0]!.body).toEqual({
      image: toBase64(small),
      model: "nai-diffusion-5-curated",
      declared_blur_sigma: 0
    })
    const full = success(await run(sim, Image.upscale(toBase64(small), { model: "nai-diffusion-5-full" })))
    expect(full.model).toBe("nai-diffusion-5-full")
    expect((sim.requests[1]!.body as { model: string }).model).toBe("nai-diffusion-5-full")
  })

  it("charges 1 to 4 Anlas by the input's area, never free; a short balance is a 402", async () => {
    const sim = await simulator({ apiKeys: [{ key: "pst-opus", tier: "opus" }], anlas: { "pst-opus": 3 } })
    const price = Image.cost({ kind: "upscale", size: [832, 1216] }, { tier: 3 })
    expect(price).toMatchObject({ anlas: 1, free: false })
    const result = success(await run(sim, Image.upscale(portrait)))
    expect(result).toMatchObject({ width: 1664, height: 2432 })
    expect(sim.anlas("pst-opus")).toBe(2)
    // 1024x1536 is over 1,048,576 px: 2 Anlas.
    const larger = makePng(1024, 1536, 1)
    expect(Image.cost({ kind: "upscale", size: [1024, 1536] }, { tier: 3 }).anlas).toBe(2)
    success(await run(sim, Image.upscale(larger)))
    expect(sim.anlas("pst-opus")).toBe(0)
    expect(failure(await run(sim, Image.upscale(small)))).toMatchObject({
      _tag: "InsufficientAnlasError",
      status: 402
    })
    expect(sim.anlas("pst-opus")).toBe(0)
  })

  it("refuses before sending: an image over 3,145,728 px, a model the upscaler does not take, a non-PNG", async () => {
    const sim = await simulator()
    const over = failure(await run(sim, Image.upscale(pngHeader(2048, 1537))))
    expect(over).toMatchObject({ _tag: "InvalidRequestError", field: "image" })
    expect(over.message).toContain("at most 3,145,728 pixels (got 2048x1537")
    const model = failure(
      await run(sim, Image.upscale(small, { model: "nai-diffusion-4-5-full" as "nai-diffusion-5-full" }))
    )
    expect(model).toMatchObject({ _tag: "InvalidRequestError", field: "model" })
    expect(model.message).toContain("nai-diffusion-5-curated or nai-diffusion-5-full")
    const text = failure(await run(sim, Image.upscale(small, { model: "glm-4-6" as "nai-diffusion-5-full" })))
    expect(text).toMatchObject({ _tag: "InvalidRequestError", field: "model" })
    expect(failure(await run(sim, Image.upscale(new Uint8Array(40))))).toMatchObject({ field: "image" })
    expect(sim.requests).toHaveLength(0)
  })
})

describe("the simulator checks the tools' bodies as NovelAI does", () => {
  const post = (sim: Simulator, path: string, body: unknown) =>
    fetch(`${sim.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${sim.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body)
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { message: string }
    }))

  it("400 for an unknown req_type, a size that is not the image's, defry out of range, a bad emotion prompt, a model it lacks; 401 without a key", async () => {
    const sim = await simulator()
    const image = toBase64(small)
    const base = { req_type: "lineart", width: 64, height: 96, image, use_new_shared_trial: true }
    const cases: ReadonlyArray<readonly [string, unknown, string]> = [
      ["/ai/augment-image", { ...base, req_type: "blur" }, "req_type blur doesn't exist"],
      ["/ai/augment-image", { ...base, width: 832, height: 1216 }, "must be the image's size (64x96)"],
      ["/ai/augment-image", { ...base, req_type: "colorize", prompt: "", defry: 6 }, "defry"],
      [
        "/ai/augment-image",
        { ...base, req_type: "emotion", prompt: "happy", defry: 0 },
        "<emotion>;;<prompt>"
      ],
      [
        "/ai/augment-image",
        { ...base, req_type: "emotion", prompt: "glad;;", defry: 0 },
        "<emotion>;;<prompt>"
      ],
      ["/ai/upscale", { image, model: "nai-diffusion-4-5-full", declared_blur_sigma: 0 }, "doesn't exist"]
    ]
    for (const [path, body, message] of cases) {
      const answer = await post(sim, path, body)
      expect(answer.status).toBe(400)
      expect(answer.body.message).toContain("Validation error")
      expect(answer.body.message).toContain(message)
    }
    const anonymous = await fetch(`${sim.url}/ai/upscale`, { method: "POST", body: "{}" })
    expect(anonymous.status).toBe(401)
    expect(sim.anlas(sim.apiKey)).toBe(1000)
  })
})

describe("the Promise facade", () => {
  it("client.image.augment resolves to the PNGs as Buffers, client.image.upscale to one; refusals reject", async () => {
    const sim = await simulator()
    const client = new NovelAI(sim.clientOptions)
    try {
      const images = await client.image.augment({ tool: "bg-removal", image: small })
      expect(images).toHaveLength(3)
      for (const png of images) {
        expect(Buffer.isBuffer(png)).toBe(true)
        expect(pngSize(png)).toEqual({ width: 64, height: 96 })
      }
      const [line] = await client.image.augment({ tool: "lineart", image: small })
      expect(Buffer.isBuffer(line)).toBe(true)
      const big = await client.image.upscale({ image: small })
      expect(Buffer.isBuffer(big)).toBe(true)
      expect(pngSize(big)).toEqual({ width: 128, height: 192 })
      await expect(
        client.image.augment({ tool: "sketch", image: pngHeader(4096, 4096) })
      ).rejects.toMatchObject({
        _tag: "InvalidRequestError",
        field: "image"
      })
    } finally {
      await client.close()
    }
    expect(sim.requests.map((r) => r.path)).toEqual(["/ai/augment-image", "/ai/augment-image", "/ai/upscale"])
  })
})
