import { Effect, Exit, Stream } from "effect"
import { Image, NovelAI } from "effect-novelai"
import type { Simulator } from "effect-novelai/testing"
import { describe, expect, it } from "vitest"
import { makeVibeCache, VIBE_CACHE_SIZE } from "../../src/internal/image/vibes.js"
import { makePng } from "../../src/testing/internal/image/png.js"
import { traced } from "../support.js"
import { failure, layer, run, simulators, success } from "./support.js"

const simulator = simulators()

const paths = (sim: Simulator) => sim.requests.map((r) => r.path)
const parameters = (sim: Simulator, index: number) => (sim.requests[index]!.body as any).parameters

/** A small, cheap generation (2 Anlas an image). */
const small = { prompt: "1girl", size: [64, 64] as const, steps: 1, seed: 7 }
const style = makePng(320, 256, 1)
const other = makePng(320, 256, 2)

describe("Image.encodeVibe", () => {
  it("posts {image, information_extracted, model} to /ai/encode-vibe, returns the raw bytes, charges 2 Anlas", async () => {
    const sim = await simulator({ anlas: 100 })
    const encoding = success(
      await run(sim, Image.encodeVibe(style, { informationExtracted: 0.8, model: "nai-diffusion-4-full" }))
    )
    expect(paths(sim)).toEqual(["/ai/encode-vibe"])
    expect(sim.requests[0]!.body).toEqual({
      image: Buffer.from(style).toString("base64"),
      information_extracted: 0.8,
      model: "nai-diffusion-4-full"
    })
    expect(encoding.model).toBe("nai-diffusion-4-full")
    expect(encoding.informationExtracted).toBe(0.8)
    expect(encoding.bytes).toBeInstanceOf(Uint8Array)
    expect(encoding.bytes.length).toBeGreaterThan(1000)
    expect(sim.anlas(sim.apiKey)).toBe(98)
    // The default model is V4.5 Full, the default information extracted 1.
    const defaults = success(await run(sim, Image.encodeVibe(style)))
    expect(defaults).toMatchObject({ model: "nai-diffusion-4-5-full", informationExtracted: 1 })
  })

  it("is a paid call: maxAnlas and freeOnly refuse it before anything is sent; a short balance is a 402", async () => {
    const sim = await simulator({ anlas: 1 })
    const over = failure(await run(sim, Image.encodeVibe(style, { maxAnlas: 1 })))
    expect(over).toMatchObject({ _tag: "BudgetExceededError", anlas: 2, maxAnlas: 1 })
    const free = failure(await run(sim, Image.encodeVibe(style), { freeOnly: true, account: { tier: 3 } }))
    expect(free).toMatchObject({ _tag: "BudgetExceededError" })
    expect(sim.requests).toHaveLength(0)
    const poor = failure(await run(sim, Image.encodeVibe(style)))
    expect(poor).toMatchObject({ _tag: "InsufficientAnlasError", status: 402 })
  })

  it("refuses models that take no encodings, and a non-PNG, before sending", async () => {
    const sim = await simulator()
    const v5 = failure(await run(sim, Image.encodeVibe(style, { model: "nai-diffusion-5-full" })))
    expect(v5).toMatchObject({ _tag: "InvalidRequestError", field: "model" })
    expect(v5.message).toContain("V5")
    const v3 = failure(await run(sim, Image.encodeVibe(style, { model: "nai-diffusion-3" })))
    expect(v3.message).toContain("448x448")
    const jpeg = failure(await run(sim, Image.encodeVibe(new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2]))))
    expect(jpeg).toMatchObject({ field: "image" })
    const range = failure(await run(sim, Image.encodeVibe(style, { informationExtracted: 2 })))
    expect(range).toMatchObject({ _tag: "InvalidRequestError" })
    expect(sim.requests).toHaveLength(0)
  })
})

describe("vibes on a generation", () => {
  it("an image used as a vibe twice is encoded once by the client: one /ai/encode-vibe, 2 Anlas", async () => {
    const sim = await simulator({ anlas: 1000 })
    success(
      await run(
        sim,
        Effect.gen(function* () {
          yield* Image.generate({ ...small, vibes: [{ image: style }] })
          // The same bytes as base64, in a stream this time: the same cache.
          yield* Stream.runDrain(
            Image.generateStream({ ...small, vibes: [{ image: Buffer.from(style).toString("base64") }] })
          )
        })
      )
    )
    expect(paths(sim)).toEqual(["/ai/encode-vibe", "/ai/generate-image", "/ai/generate-image-stream"])
    // 2 for the encoding, 2 for each of the two images.
    expect(sim.anlas(sim.apiKey)).toBe(1000 - 2 - 2 - 2)
    expect(parameters(sim, 2).reference_image_multiple).toEqual(parameters(sim, 1).reference_image_multiple)
  })

  it("the same image twice in one call, and a new client, each as NovelAI would bill them", async () => {
    const sim = await simulator({ anlas: 1000 })
    success(
      await run(sim, Image.generate({ ...small, vibes: [{ image: style }, { image: style, strength: 0.3 }] }))
    )
    expect(paths(sim)).toEqual(["/ai/encode-vibe", "/ai/generate-image"])
    // Another client has its own cache.
    success(await run(sim, Image.generate({ ...small, vibes: [{ image: style }] })))
    expect(paths(sim).filter((p) => p === "/ai/encode-vibe")).toHaveLength(2)
  })

  it("sends the encodings as reference_image_multiple with reference_strength_multiple (default 0.6)", async () => {
    const sim = await simulator({ anlas: 1000 })
    const body = success(
      await run(
        sim,
        Effect.gen(function* () {
          const encoding = yield* Image.encodeVibe(other, { model: "nai-diffusion-4-5-curated" })
          yield* Image.generate({
            ...small,
            model: "nai-diffusion-4-5-curated",
            vibes: [
              { encoding, strength: 0.4 },
              { image: style, informationExtracted: 0.5 },
              { image: other, enabled: false }
            ]
          })
          return encoding
        })
      )
    )
    expect(paths(sim)).toEqual(["/ai/encode-vibe", "/ai/encode-vibe", "/ai/generate-image"])
    expect(sim.requests[1]!.body).toMatchObject({
      information_extracted: 0.5,
      model: "nai-diffusion-4-5-curated"
    })
    const p = parameters(sim, 2)
    expect(p.reference_image_multiple).toHaveLength(2)
    expect(p.reference_image_multiple[0]).toBe(Buffer.from(body.bytes).toString("base64"))
    expect(p.reference_strength_multiple).toEqual([0.4, 0.6])
    // The encodings carry it: NovelAI's site sends it for V3's raw images only.
    expect(p.reference_information_extracted_multiple).toBeUndefined()
    expect(p.normalize_reference_strength_multiple).toBe(true)
  })

  it("V3 takes the 448x448 images themselves, with information extracted and strength; nothing is encoded", async () => {
    const sim = await simulator({ anlas: 1000 })
    const square = makePng(448, 448, 3)
    success(
      await run(
        sim,
        Image.generate({
          ...small,
          model: "nai-diffusion-3",
          vibes: [{ image: square, informationExtracted: 0.7 }]
        })
      )
    )
    expect(paths(sim)).toEqual(["/ai/generate-image"])
    const p = parameters(sim, 0)
    expect(p.reference_image_multiple).toEqual([square.toString("base64")])
    expect(p.reference_information_extracted_multiple).toEqual([0.7])
    expect(p.reference_strength_multiple).toEqual([0.6])
    const wrong = failure(
      await run(sim, Image.generate({ ...small, model: "nai-diffusion-3", vibes: [{ image: style }] }))
    )
    expect(wrong).toMatchObject({ _tag: "InvalidRequestError", field: "vibes[0].image" })
    expect(wrong.message).toContain("must be 448x448")
    expect(wrong.message).toContain("got 320x256")
    expect(sim.requests).toHaveLength(1)
  })

  it("refuses what NovelAI does not take before any request: V5, a mask, with references, over 16, non-PNG", async () => {
    const sim = await simulator()
    const refused = async (params: Record<string, unknown>, field: string, says: string) => {
      const error = failure(await run(sim, Image.generate({ ...small, ...params } as any)))
      expect(error).toMatchObject({ _tag: "InvalidRequestError", field })
      expect(error.message).toContain(says)
    }
    await refused(
      { model: "nai-diffusion-5-full", vibes: [{ image: style }] },
      "vibes",
      "V5 models take no vibe"
    )
    const source = makePng(64, 64, 9)
    await refused({ image: source, mask: source, vibes: [{ image: style }] }, "vibes", "inpainting")
    await refused(
      { vibes: [{ image: style }], characterReferences: [{ image: makePng(1024, 1536, 1) }] },
      "vibes",
      "character references"
    )
    await refused(
      { vibes: Array.from({ length: 17 }, () => ({ image: style })) },
      "vibes",
      "at most 16 (got 17)"
    )
    await refused({ vibes: [{ image: "aGVsbG8gd29ybGQgdGhpcyBpcyBub3QgYSBwbmc=" }] }, "vibes[0].image", "PNG")
    await refused({ vibes: [{ strength: 0.5 }] }, "vibes[0]", "needs an encoding")
    await refused({ vibes: [{ image: style, strength: 2 }] }, "vibes[0].strength", "")
    await refused(
      { vibes: [{ image: style }], controlnet: { images: [{ image: style }] } },
      "controlnet",
      "not both"
    )
    // An encoding is for one model.
    const encoding = {
      bytes: new Uint8Array([1, 2, 3]),
      model: "nai-diffusion-4-full",
      informationExtracted: 1
    }
    await refused({ vibes: [{ encoding }] }, "vibes[0].encoding", "encoded for nai-diffusion-4-full")
    // Disabled vibes do not count.
    expect(sim.requests).toHaveLength(0)
  })

  it("the simulator refuses vibes it did not encode, and V5 vibes, as a 400", async () => {
    const sim = await simulator()
    const forged = failure(
      await run(sim, Image.generate({ ...small, vibes: [{ encoding: new Uint8Array([1, 2, 3, 4]) }] }))
    )
    expect(forged).toMatchObject({ _tag: "InvalidRequestError", status: 400 })
    expect(forged.message).toContain("not a vibe encoding")
    const v5 = failure(
      await run(
        sim,
        Image.generate({
          ...small,
          model: "nai-diffusion-5-full",
          extraBody: { reference_image_multiple: ["AAAA"] }
        })
      )
    )
    expect(v5).toMatchObject({ status: 400 })
    expect(v5.message).toContain("vibe transfer is not supported")
  })

  it("the client's cache is bounded: past 64 images the least recently used is encoded again", async () => {
    const sim = await simulator({ anlas: 100_000 })
    const images = Array.from({ length: VIBE_CACHE_SIZE + 1 }, (_, i) => makePng(8, 8, 100 + i))
    success(
      await run(
        sim,
        Effect.gen(function* () {
          for (let i = 0; i < images.length; i += 16) {
            yield* Image.generate({ ...small, vibes: images.slice(i, i + 16).map((image) => ({ image })) })
          }
          // The last is kept; the first, least recently used, was dropped for the 65th.
          yield* Image.generate({ ...small, vibes: [{ image: images[VIBE_CACHE_SIZE]! }] })
          yield* Image.generate({ ...small, vibes: [{ image: images[1]! }] })
          yield* Image.generate({ ...small, vibes: [{ image: images[0]! }] })
        })
      )
    )
    const encodes = paths(sim).filter((p) => p === "/ai/encode-vibe")
    expect(encodes).toHaveLength(VIBE_CACHE_SIZE + 2)
    const last = sim.requests.filter((r) => r.path === "/ai/encode-vibe").at(-1)!
    expect((last.body as any).image).toBe(images[0]!.toString("base64"))
  })

  it("a cache keeps the most recently used entries", () => {
    const cache = makeVibeCache(2)
    const encoding = (model: string) => ({ bytes: new Uint8Array(1), model, informationExtracted: 1 })
    cache.set("a", encoding("a"))
    cache.set("b", encoding("b"))
    expect(cache.get("a")?.model).toBe("a")
    cache.set("c", encoding("c"))
    expect(cache.get("b")).toBeUndefined()
    expect(cache.get("a")?.model).toBe("a")
    expect(cache.size()).toBe(2)
  })

  it("the encodings are child calls of the generation's span, priced and named", async () => {
    const sim = await simulator({ anlas: 1000 })
    const { spans, exit } = await Effect.runPromise(
      traced(Effect.provide(Image.generate({ ...small, vibes: [{ image: style }] }), layer(sim)))
    )
    success(exit)
    const parent = spans.find((span) => span.name === "NovelAI.image.generate")!
    const child = spans.find((span) => span.name === "NovelAI.image.encodeVibe")!
    expect(child.attributes.get("novelai.anlas.estimated")).toBe(2)
    expect(child.parent._tag === "Some" && child.parent.value.spanId).toBe(parent.spanId)
  })
})

describe("what vibes and references cost", () => {
  it("the generation's price counts the encodings still to make, and a budget is checked before any", async () => {
    const sim = await simulator({ anlas: 1000 })
    const params = { ...small, vibes: [{ image: style }, { image: other }] }
    expect(Image.cost(params, { tier: 1 }).anlas).toBe(2 + 4)
    const over = failure(await run(sim, Image.generate(params, { maxAnlas: 5 })))
    expect(over).toMatchObject({ _tag: "BudgetExceededError", anlas: 6 })
    expect(sim.requests).toHaveLength(0)
    success(
      await run(
        sim,
        Effect.gen(function* () {
          yield* Image.generate(params, { maxAnlas: 6 })
          // Both encodings kept: the same call now costs the image alone.
          yield* Image.generate(params, { maxAnlas: 2 })
        })
      )
    )
    expect(paths(sim)).toEqual([
      "/ai/encode-vibe",
      "/ai/encode-vibe",
      "/ai/generate-image",
      "/ai/generate-image"
    ])
    expect(sim.anlas(sim.apiKey)).toBe(1000 - 6 - 2)
  })

  it("an Opus account's free image stays free with kept encodings (freeOnly)", async () => {
    const sim = await simulator({ apiKeys: [{ key: "pst-opus", tier: "opus" }], anlas: { "pst-opus": 100 } })
    const options = { apiKey: "pst-opus", account: { tier: 3 } }
    success(
      await run(
        sim,
        Effect.gen(function* () {
          const first = yield* Effect.exit(
            Image.generate({ ...small, vibes: [{ image: style }] }, { freeOnly: true })
          )
          expect(Exit.isFailure(first)).toBe(true)
          yield* Image.generate({ ...small, vibes: [{ image: style }] })
          yield* Image.generate({ ...small, vibes: [{ image: style }] }, { freeOnly: true })
        }),
        options
      )
    )
    expect(paths(sim)).toEqual(["/ai/encode-vibe", "/ai/generate-image", "/ai/generate-image"])
    expect(sim.anlas("pst-opus")).toBe(98)
  })

  it("more than 4 vibes cost 2 each beyond the fourth; character references 5 per image", async () => {
    const sim = await simulator({ anlas: 1000 })
    const five = Array.from({ length: 5 }, (_, i) => ({ image: makePng(8, 8, 200 + i) }))
    success(await run(sim, Image.generate({ ...small, vibes: five })))
    // 5 encodings, 2 for the fifth vibe, 2 for the image.
    expect(sim.anlas(sim.apiKey)).toBe(1000 - 10 - 2 - 2)
    const reference = makePng(1024, 1536, 4)
    const params = { ...small, nSamples: 2, characterReferences: [{ image: reference }] }
    expect(Image.cost(params, { tier: 1 }).anlas).toBe(2 * 2 + 5 * 2)
    success(await run(sim, Image.generate(params)))
    expect(sim.anlas(sim.apiKey)).toBe(1000 - 14 - 14)
  })
})

describe("character references", () => {
  it("sends director_reference_* as NovelAI's site does, with infill too", async () => {
    const sim = await simulator({ anlas: 1000 })
    const portrait = makePng(1024, 1536, 5)
    const square = makePng(1472, 1472, 6)
    success(
      await run(
        sim,
        Image.generate({
          ...small,
          characterReferences: [
            { image: portrait },
            { image: Buffer.from(square).toString("base64"), type: "style", fidelity: 0.4, strength: 0.8 }
          ]
        })
      )
    )
    const p = parameters(sim, 0)
    expect(p.director_reference_images).toEqual([portrait.toString("base64"), square.toString("base64")])
    expect(p.director_reference_descriptions).toEqual([
      { caption: { base_caption: "character&style", char_captions: [] }, legacy_uc: false },
      { caption: { base_caption: "style", char_captions: [] }, legacy_uc: false }
    ])
    expect(p.director_reference_information_extracted).toEqual([1, 1])
    expect(p.director_reference_strength_values).toEqual([1, 0.8])
    expect(p.director_reference_secondary_strength_values).toEqual([0.25, 0.6])
    const source = makePng(64, 64, 9)
    success(
      await run(
        sim,
        Image.generate({ ...small, image: source, mask: source, characterReferences: [{ image: portrait }] })
      )
    )
    expect(sim.requests[1]!.body).toMatchObject({
      action: "infill",
      model: "nai-diffusion-4-5-full-inpainting"
    })
    expect(parameters(sim, 1).director_reference_images).toHaveLength(1)
  })

  it("refuses them on models without references, at a wrong size (saying the size by aspect), over 16", async () => {
    const sim = await simulator()
    const portrait = makePng(1024, 1536, 5)
    const refused = async (params: Record<string, unknown>, field: string, says: string) => {
      const error = failure(await run(sim, Image.generate({ ...small, ...params } as any)))
      expect(error).toMatchObject({ _tag: "InvalidRequestError", field })
      expect(error.message).toContain(says)
    }
    for (const model of ["nai-diffusion-4-full", "nai-diffusion-5-full", "nai-diffusion-3"]) {
      await refused(
        { model, characterReferences: [{ image: portrait }] },
        "characterReferences",
        "V4.5 models only"
      )
    }
    await refused(
      { characterReferences: [{ image: makePng(832, 1216, 1) }] },
      "characterReferences[0].image",
      "must be 1024x1536"
    )
    await refused(
      { characterReferences: [{ image: makePng(1216, 832, 1) }] },
      "characterReferences[0].image",
      "must be 1536x1024"
    )
    await refused(
      { characterReferences: [{ image: portrait }, { image: makePng(1000, 1100, 1) }] },
      "characterReferences[1].image",
      "must be 1472x1472"
    )
    await refused(
      { characterReferences: Array.from({ length: 17 }, () => ({ image: portrait })) },
      "characterReferences",
      "at most 16"
    )
    await refused(
      { characterReferences: [{ image: portrait, type: "face" }] },
      "characterReferences[0].type",
      ""
    )
    expect(sim.requests).toHaveLength(0)
  })
})

describe("the Promise facade", () => {
  it("takes the SDK's controlnet as vibes (infoExtracted default 0.7) and its strength as controlnet_strength", async () => {
    const sim = await simulator({ anlas: 1000 })
    const client = new NovelAI({ ...sim.clientOptions })
    try {
      await client.image.generate({
        ...small,
        controlnet: {
          images: [{ image: style }, { image: other, infoExtracted: 0.3, strength: 0.9 }],
          strength: 0.5
        }
      })
      // Kept by the client: the same images again encode nothing, and are priced so.
      await client.image.generate({ ...small, controlnet: { images: [{ image: style }] } }, { maxAnlas: 2 })
      await expect(
        client.image.generate(
          { ...small, controlnet: { images: [{ image: makePng(8, 8, 77) }] } },
          { maxAnlas: 2 }
        )
      ).rejects.toMatchObject({ _tag: "BudgetExceededError", anlas: 4 })
      const encodes = sim.requests.filter((r) => r.path === "/ai/encode-vibe").map((r) => r.body as any)
      expect(encodes.map((b) => b.information_extracted)).toEqual([0.7, 0.3])
      const [first, second] = sim.requests
        .filter((r) => r.path === "/ai/generate-image")
        .map((r) => (r.body as any).parameters)
      expect(first.reference_strength_multiple).toEqual([0.6, 0.9])
      expect(first.controlnet_strength).toBe(0.5)
      expect(second.controlnet_strength).toBe(1)
      expect(second.reference_image_multiple[0]).toBe(first.reference_image_multiple[0])
      const encoding = await client.image.encodeVibe({ image: style, model: "nai-diffusion-4-full" })
      expect(Buffer.isBuffer(encoding.bytes)).toBe(true)
      expect(encoding.model).toBe("nai-diffusion-4-full")
    } finally {
      await client.close()
    }
  })
})
