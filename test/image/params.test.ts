import { Effect, Either, Random } from "effect"
import { describe, expect, it } from "vitest"
import { ImageGenerateParams, ImageGenerateStreamParams } from "../../src/ImageGeneration.js"
import { paramsEncoder } from "../../src/internal/core/decode.js"
import { mergeExtra, namesOf } from "../../src/internal/core/params.js"
import { modelOf } from "../../src/internal/image/models.js"
import { body, maxSamples, wireBody, withQualityTags, withUcPreset } from "../../src/internal/image/params.js"

const encode = paramsEncoder(ImageGenerateStreamParams, "generate")

/** The wire body of `params` as the client sends it (schema first, then the body). */
const wire = (params: Record<string, unknown>, seed = 1234) => {
  const encoded = Either.flatMap(encode({ model: "nai-diffusion-4-5-full", ...params }), (wire: any) =>
    mergeExtra("generate", wire, wire.extraBody)
  )
  if (Either.isLeft(encoded)) return encoded
  return wireBody("generate", encoded.right as Record<string, unknown>, seed)
}
const ok = (params: Record<string, unknown>, seed?: number) => {
  const result = wire(params, seed)
  if (Either.isLeft(result)) throw result.left
  return result.right as { input: string; model: string; action: string; parameters: Record<string, any> }
}
const refused = (params: Record<string, unknown>) => {
  const result = wire(params)
  if (Either.isRight(result)) throw new Error(`accepted: ${JSON.stringify(result.right)}`)
  return result.left
}

/** A PNG header (signature and IHDR) of the given size: enough for the size check. */
const pngHeader = (width: number, height: number) => {
  const bytes = new Uint8Array(33)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  new DataView(bytes.buffer).setUint32(16, width)
  new DataView(bytes.buffer).setUint32(20, height)
  return bytes
}

const V45_LIGHT =
  "lowres, artistic error, scan artifacts, worst quality, bad quality, jpeg artifacts, multiple views, very displeasing, too many watermarks, negative space, blank page"

describe("the V4.5 body (IMAGE-WIRE.md §4.1, §4.2)", () => {
  it("is the site's: quality tags in input and base_caption, the UC preset with nsfw, v4 prompts, defaults", () => {
    const body = ok({ prompt: "1girl, cat ears" })
    expect(body).toEqual({
      input: "1girl, cat ears, very aesthetic, masterpiece, no text",
      model: "nai-diffusion-4-5-full",
      action: "generate",
      use_new_shared_trial: true,
      parameters: {
        params_version: 4,
        width: 832,
        height: 1216,
        scale: 5,
        sampler: "k_euler_ancestral",
        steps: 23,
        n_samples: 1,
        seed: 1234,
        negative_prompt: `nsfw, ${V45_LIGHT}`,
        cfg_rescale: 0,
        noise_schedule: "karras",
        skip_cfg_above_sigma: null,
        characterPrompts: [],
        use_coords: false,
        legacy: false,
        legacy_v3_extend: false,
        legacy_uc: false,
        dynamic_thresholding: false,
        deliberate_euler_ancestral_bug: false,
        prefer_brownian: true,
        controlnet_strength: 1,
        add_original_image: true,
        normalize_reference_strength_multiple: true,
        image_format: "png",
        v4_prompt: {
          caption: {
            base_caption: "1girl, cat ears, very aesthetic, masterpiece, no text",
            char_captions: []
          },
          use_coords: false,
          use_order: true
        },
        v4_negative_prompt: {
          caption: { base_caption: `nsfw, ${V45_LIGHT}`, char_captions: [] },
          legacy_uc: false
        }
      }
    })
  })

  it("places characters at the same index in characterPrompts and both char_captions, with use_coords when any has a position", () => {
    const { parameters } = ok({
      prompt: "two girls",
      characters: [
        { prompt: "1girl, red hair", negativePrompt: "blue hair", position: "B2" },
        { prompt: "1girl, blue hair", position: [0.95, 0.42] },
        { prompt: "disabled", enabled: false },
        { prompt: "  " }
      ]
    })
    expect(parameters.use_coords).toBe(true)
    expect(parameters.v4_prompt.use_coords).toBe(true)
    expect(parameters.characterPrompts).toEqual([
      { prompt: "girl, red hair", uc: "blue hair", center: { x: 0.3, y: 0.3 }, enabled: true },
      // V4.5 snaps to the 5x5 grid.
      { prompt: "girl, blue hair", uc: "", center: { x: 0.9, y: 0.5 }, enabled: true }
    ])
    expect(parameters.v4_prompt.caption.char_captions).toEqual([
      { char_caption: "girl, red hair", centers: [{ x: 0.3, y: 0.3 }] },
      { char_caption: "girl, blue hair", centers: [{ x: 0.9, y: 0.5 }] }
    ])
    expect(parameters.v4_negative_prompt.caption.char_captions).toEqual([
      { char_caption: "blue hair", centers: [{ x: 0.3, y: 0.3 }] },
      { char_caption: "", centers: [{ x: 0.9, y: 0.5 }] }
    ])
  })

  it("sends use_coords false when no character has a position", () => {
    const { parameters } = ok({ prompt: "x", characters: [{ prompt: "a" }, { prompt: "b" }] })
    expect(parameters.use_coords).toBe(false)
    expect(parameters.characterPrompts.map((c: any) => c.center)).toEqual([
      { x: 0.5, y: 0.5 },
      { x: 0.3, y: 0.5 }
    ])
  })

  it("computes Variety Boost's sigma from the size", () => {
    const { parameters } = ok({ prompt: "x", varietyBoost: true })
    expect(parameters.skip_cfg_above_sigma).toBeCloseTo(58 * Math.sqrt((104 * 152) / (104 * 152)))
    const v4 = ok({ prompt: "x", varietyBoost: true, model: "nai-diffusion-4-full", size: "square" })
    expect(v4.parameters.skip_cfg_above_sigma).toBeCloseTo(19 * Math.sqrt((128 * 128) / (104 * 152)))
  })

  it("leaves the quality tags and preset out when asked, and puts the caller's UC after the preset", () => {
    const body = ok({ prompt: "a cat", quality: false, ucPreset: "strong", negativePrompt: "dog" })
    expect(body.input).toBe("a cat")
    expect(body.parameters.negative_prompt).toBe(
      `nsfw, ${modelOf("nai-diffusion-4-5-full").presets.heavy}, dog`
    )
    expect(
      ok({ prompt: "a cat, nsfw", ucPreset: "none", negativePrompt: "dog" }).parameters.negative_prompt
    ).toBe("dog")
    // A prompt asking for nsfw gets no nsfw in its UC.
    expect(ok({ prompt: "nsfw, a cat" }).parameters.negative_prompt).toBe(V45_LIGHT)
  })
})

describe("per model", () => {
  it("V5: karras only, no Variety Boost field, free coordinates to 0.001, 32 characters", () => {
    const { parameters, input } = ok({
      model: "nai-diffusion-5-full",
      prompt: "x",
      characters: [{ prompt: "a", position: [0.12345, 0.9876] }]
    })
    expect(input).toBe("x, very aesthetic, masterpiece, no text")
    expect(parameters.scale).toBe(7)
    expect(parameters).not.toHaveProperty("skip_cfg_above_sigma")
    expect(parameters.characterPrompts[0].center).toEqual({ x: 0.123, y: 0.988 })
    expect(parameters.negative_prompt).toBe(
      "nsfw, lowres, bad hands, bad anatomy, artistic error, sepia, white haze, worst quality, very displeasing, jpeg artifacts, 0::ai-generated::"
    )
    expect(refused({ model: "nai-diffusion-5-full", prompt: "x", noiseSchedule: "exponential" }).field).toBe(
      "noiseSchedule"
    )
    expect(refused({ model: "nai-diffusion-5-full", prompt: "x", varietyBoost: true }).field).toBe(
      "varietyBoost"
    )
    const many = Array.from({ length: 33 }, (_, i) => ({ prompt: `c${i}` }))
    expect(refused({ model: "nai-diffusion-5-full", prompt: "x", characters: many }).field).toBe("characters")
    expect(
      ok({ model: "nai-diffusion-5-full", prompt: "x", characters: many.slice(0, 32) }).parameters
        .characterPrompts
    ).toHaveLength(32)
  })

  it("V5 Curated: no nsfw in its UC (curated)", () => {
    const { parameters } = ok({ model: "nai-diffusion-5-curated", prompt: "x" })
    expect(parameters.negative_prompt.startsWith("nsfw")).toBe(false)
  })

  it("V4: its own tags, default character UC, scale 5.5", () => {
    const { parameters, input } = ok({
      model: "nai-diffusion-4-full",
      prompt: "x",
      characters: [{ prompt: "a" }]
    })
    expect(input).toBe("x, no text, best quality, very aesthetic, absurdres")
    expect(parameters.scale).toBe(5.5)
    expect(parameters.characterPrompts[0].uc).toBe("lowres, aliasing, ")
  })

  it("V3: input only, sm flags, no v4 prompts, native schedule and ddim_v3 allowed, no characters", () => {
    const { parameters, input, model } = ok({
      model: "nai-diffusion-3",
      prompt: "cat:1.2|dog",
      sampler: "ddim_v3"
    })
    expect(model).toBe("nai-diffusion-3")
    expect(input).toBe(
      "cat, best quality, amazing quality, very aesthetic, absurdres:1.2|dog, best quality, amazing quality, very aesthetic, absurdres"
    )
    expect(parameters).not.toHaveProperty("v4_prompt")
    expect(parameters).not.toHaveProperty("v4_negative_prompt")
    expect(parameters).not.toHaveProperty("noise_schedule")
    expect(parameters).not.toHaveProperty("prefer_brownian")
    expect(parameters.sm).toBe(false)
    expect(parameters.sm_dyn).toBe(false)
    expect(parameters.characterPrompts).toEqual([])
    expect(
      ok({ model: "nai-diffusion-3", prompt: "x", noiseSchedule: "native" }).parameters.noise_schedule
    ).toBe("native")
    expect(refused({ model: "nai-diffusion-3", prompt: "x", characters: [{ prompt: "a" }] }).field).toBe(
      "characters"
    )
    expect(refused({ prompt: "x", sampler: "ddim_v3" }).field).toBe("sampler")
    expect(refused({ prompt: "x", noiseSchedule: "native" }).field).toBe("noiseSchedule")
  })

  it("takes the SDK's two wrong ids as NovelAI's", () => {
    expect(ok({ model: "nai-diffusion-4-curated", prompt: "x" }).model).toBe(
      "nai-diffusion-4-curated-preview"
    )
    expect(ok({ model: "nai-diffusion-3-furry", prompt: "x" }).model).toBe("nai-diffusion-furry-3")
  })

  it("refuses a preset the model does not have", () => {
    const error = refused({ model: "nai-diffusion-4-full", prompt: "x", ucPreset: "furry_focus" })
    expect(error.field).toBe("ucPreset")
    expect(error.message).toContain("strong, light, none")
  })

  it("V4+ quality tags go on the first | segment, before a text: block", () => {
    const model = modelOf("nai-diffusion-4-5-full")
    expect(withQualityTags("a girl, text: hello | b", model)).toBe(
      "a girl, very aesthetic, masterpiece, no text, text: hello | b"
    )
    expect(withUcPreset("", "none", model, "x")).toBe("")
  })
})

describe("sizes and samples", () => {
  it("takes presets and [w, h] in multiples of 64, at most 3,145,728 px", () => {
    expect(ok({ prompt: "x", size: "large_landscape" }).parameters).toMatchObject({
      width: 1536,
      height: 1024
    })
    expect(ok({ prompt: "x", size: [1024, 3072] }).parameters).toMatchObject({ width: 1024, height: 3072 })
    expect(refused({ prompt: "x", size: [1000, 1000] }).field).toBe("size")
    expect(refused({ prompt: "x", size: [2048, 2048] }).message).toContain("3,145,728")
    expect(refused({ prompt: "x", size: "huge" }).field).toBe("size")
  })

  it("caps nSamples by area as NovelAI does", () => {
    expect(maxSamples(512, 704)).toBe(8)
    expect(maxSamples(640, 640)).toBe(6)
    expect(maxSamples(832, 1216)).toBe(4)
    expect(ok({ prompt: "x", size: [512, 640], nSamples: 8 }).parameters.n_samples).toBe(8)
    const error = refused({ prompt: "x", nSamples: 5 })
    expect(error.field).toBe("nSamples")
    expect(error.message).toContain("at most 4 at 832x1216")
  })
})

describe("refusals name the field", () => {
  it.each([
    [{ prompt: 1 }, "prompt"],
    [{ prompt: "x", steps: 51 }, "steps"],
    [{ prompt: "x", steps: 0 }, "steps"],
    [{ prompt: "x", scale: 10.5 }, "scale"],
    [{ prompt: "x", seed: 2 ** 32 }, "seed"],
    [{ prompt: "x", seed: -1 }, "seed"],
    [{ prompt: "x", nSamples: 9 }, "nSamples"],
    [{ prompt: "x", cfgRescale: 2 }, "cfgRescale"],
    [{ prompt: "x", sampler: "plms" }, "sampler"],
    [{ prompt: "x", characters: [{ prompt: "a", position: "F1" }] }, "characters[0].position"],
    [{ prompt: "x", characters: [{ prompt: "a", position: [1.5, 0] }] }, "characters[0].position"],
    [{ prompt: "x", image: "cat.png" }, "image"],
    [{ prompt: "x", mask: new Uint8Array(4) }, "mask"],
    [{ prompt: "x", strength: 0.5 }, "strength"],
    [{ prompt: "x", ucPreset: "medium" }, "ucPreset"]
  ])("%j → %s", (params, field) => {
    const error = refused(params)
    expect(error._tag).toBe("InvalidRequestError")
    expect(error.field).toBe(field)
  })

  it("accepts the largest seed and seed 0", () => {
    expect(ok({ prompt: "x", seed: 4_294_967_295 }, 4_294_967_295).parameters.seed).toBe(4_294_967_295)
    expect(ok({ prompt: "x", seed: 0 }, 0).parameters.seed).toBe(0)
  })

  it("stream is a parameter of generateStream only", () => {
    expect(namesOf(ImageGenerateParams).has("stream")).toBe(false)
    expect(namesOf(ImageGenerateStreamParams).has("stream")).toBe(true)
    expect(refused({ prompt: "x", stream: "jsonl" }).field).toBe("stream")
  })
})

describe("img2img and infill (IMAGE-WIRE.md §4.3)", () => {
  const png = pngHeader(832, 1216)

  it("img2img: base model, image base64, strength, noise, extra_noise_seed = seed - 1", () => {
    const body = ok({ prompt: "x", image: png, strength: 0.5, noise: 0.1 }, 100)
    expect(body.action).toBe("img2img")
    expect(body.model).toBe("nai-diffusion-4-5-full")
    expect(body.parameters).toMatchObject({
      image: Buffer.from(png).toString("base64"),
      strength: 0.5,
      noise: 0.1,
      extra_noise_seed: 99,
      color_correct: false
    })
  })

  it("takes an ArrayBuffer and base64 (a data URL too) as the same image", () => {
    const b64 = Buffer.from(png).toString("base64")
    const a = ok({ prompt: "x", image: png.buffer }).parameters.image
    const b = ok({ prompt: "x", image: `data:image/png;base64,${b64}` }).parameters.image
    expect(a).toBe(b64)
    expect(b).toBe(b64)
  })

  it("refuses an image of the wrong size with the size needed, and an image that is not a PNG", () => {
    const error = refused({ prompt: "x", image: pngHeader(512, 512) })
    expect(error.field).toBe("image")
    expect(error.message).toContain("must be 832x1216")
    expect(refused({ prompt: "x", image: new Uint8Array([0xff, 0xd8, 0xff]) }).message).toContain("PNG")
  })

  it("infill: the inpainting model (V5 Curated → V4.5 Curated's), mask at full size, strength ≠ 1 adds img2img", () => {
    const body = ok({ model: "nai-diffusion-5-curated", prompt: "x", image: png, mask: png, strength: 0.6 })
    expect(body.action).toBe("infill")
    expect(body.model).toBe("nai-diffusion-4-5-curated-inpainting")
    expect(body.parameters).toMatchObject({
      mask: Buffer.from(png).toString("base64"),
      inpaintImg2ImgStrength: 0.6,
      img2img: { strength: 0.6, color_correct: true },
      add_original_image: true
    })
    expect(ok({ prompt: "x", image: png, mask: png }).model).toBe("nai-diffusion-4-5-full-inpainting")
    expect(ok({ prompt: "x", image: png, mask: png }).parameters).not.toHaveProperty("img2img")
  })
})

describe("seeds and extras", () => {
  it("draws a uint32 seed when none is given", () => {
    const seeds = Effect.runSync(
      Effect.forEach([1, 2, 3], () =>
        Effect.map(
          body()("generate", { prompt: "x", model: "nai-diffusion-4-5-full" }),
          (w: any) => w.parameters.seed
        )
      ).pipe(Effect.withRandom(Random.make(42)))
    )
    for (const seed of seeds) {
      expect(Number.isInteger(seed)).toBe(true)
      expect(seed).toBeGreaterThanOrEqual(0)
      expect(seed).toBeLessThanOrEqual(4_294_967_295)
    }
    expect(new Set(seeds).size).toBe(3)
  })

  it("puts extraBody's fields into parameters, refusing one the client sets", () => {
    expect(ok({ prompt: "x", extraBody: { tag_hint_qt: 1 } }).parameters.tag_hint_qt).toBe(1)
    expect(refused({ prompt: "x", extraBody: { sampler: "k_euler" } }).field).toBe("extraBody.sampler")
  })

  it("puts stream into parameters", () => {
    expect(ok({ prompt: "x", stream: "msgpack" }).parameters.stream).toBe("msgpack")
  })
})
