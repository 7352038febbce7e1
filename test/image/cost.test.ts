/**
 * What a user is told a call will cost, checked against every worked figure of IMAGE-WIRE.md
 * (the section is in each test's name) and the edges of its rules.
 */
import { describe, expect, it } from "vitest"
import {
  augmentCost,
  augmentSize,
  type CostEstimate,
  cost,
  encodeVibeCost,
  generationCost,
  upscaleCost
} from "../../src/internal/image/cost.js"

const V45 = "nai-diffusion-4-5-full"
const V45_CURATED = "nai-diffusion-4-5-curated"
const V4 = "nai-diffusion-4-full"
const V5 = "nai-diffusion-5-full"
const V5_CURATED = "nai-diffusion-5-curated"
const V3 = "nai-diffusion-3"

const tablet = { tier: 1 } as const
const opus = { tier: 3 } as const
/** Opus whose V5 usage battery is exhausted, as `/user/subscription` reports it. */
const opusDrained = { tier: 3, active: true, battery: { negative: true } } as const

const sumOfParts = (estimate: CostEstimate) => estimate.parts.reduce((sum, part) => sum + part.anlas, 0)

describe("§8 checks (live study): the price of one image when nothing is free", () => {
  it.each([
    [V4, [832, 1216], 23, 17],
    [V45, [832, 1216], 23, 17],
    [V45_CURATED, [832, 1216], 23, 17],
    [V5, [832, 1216], 23, 26],
    [V5_CURATED, [832, 1216], 23, 26],
    [V45, [832, 1216], 28, 20],
    [V5, [832, 1216], 28, 30],
    [V45, [1024, 1536], 28, 30],
    [V5, [1024, 1536], 28, 45]
  ] as const)("%s at %j, %i steps costs %i", (model, size, steps, anlas) => {
    const estimate = generationCost({ model, size, steps }, tablet)
    expect(estimate.anlas).toBe(anlas)
    expect(estimate.perImage).toBe(anlas)
    expect(estimate.free).toBe(false)
  })

  it("§8: the defaults are V4.5 Full, portrait (832×1216) and 23 steps", () => {
    expect(generationCost({}, tablet).anlas).toBe(17)
    expect(generationCost({ size: "portrait" }, tablet).anlas).toBe(17)
    expect(generationCost({ size: "large_portrait", steps: 28 }, tablet).anlas).toBe(30)
  })

  it("§8: 1024×1536 is over Opus's free area, so it costs Opus the full price", () => {
    const estimate = generationCost({ model: V45, size: "large_portrait", steps: 28 }, opus)
    expect(estimate.anlas).toBe(30)
    expect(estimate.opusFree).toBe(false)
    expect(estimate.parts[0]?.detail).toContain("1,572,864 px is over 1,048,576")
    expect(generationCost({ model: V5, size: "large_portrait", steps: 28 }, opus).anlas).toBe(45)
  })
})

describe("§7 usage battery: V5 images once the battery is exhausted", () => {
  it.each([
    ["small", "small_portrait", 11],
    ["normal", "portrait", 26],
    ["large", "large_portrait", 39]
  ] as const)(
    "§7: a %s V5 image (%s) at 23 steps is billed %i on Opus with a negative battery",
    (_, size, anlas) => {
      const estimate = generationCost({ model: V5, size, steps: 23 }, opusDrained)
      expect(estimate.anlas).toBe(anlas)
      expect(estimate.opusFree).toBe(false)
    }
  )

  it("§7: the estimate says the exhausted battery is why a normal V5 image is not free", () => {
    const estimate = generationCost({ model: V5, size: "portrait" }, opusDrained)
    expect(estimate.parts[0]?.detail).toContain("battery is exhausted")
  })

  it("§7: while the battery is not negative, a normal V5 image is free on Opus", () => {
    expect(generationCost({ model: V5 }, { tier: 3, battery: { negative: false } }).anlas).toBe(0)
    // `{ tier }` alone assumes a battery that is not exhausted
    expect(generationCost({ model: V5 }, opus).anlas).toBe(0)
  })

  it("§7: the battery bills V5 only: a V4.5 image stays free on Opus with a negative battery", () => {
    expect(generationCost({ model: V45 }, opusDrained).anlas).toBe(0)
  })
})

describe("§8 Opus free rule", () => {
  it("§8: one image per request is free: n_samples 4 bills 3", () => {
    const estimate = generationCost({ model: V45, size: "portrait", nSamples: 4 }, opus)
    expect(estimate.anlas).toBe(3 * 17)
    expect(estimate.opusFree).toBe(true)
    expect(estimate.parts.map((part) => part.reason)).toEqual(["opus-free", "images"])
    expect(generationCost({ model: V45, size: "portrait", nSamples: 4 }, tablet).anlas).toBe(4 * 17)
  })

  it("§8: a single normal image is free on an active Opus subscription", () => {
    const estimate = generationCost({ model: V45, size: "portrait" }, opus)
    expect(estimate).toMatchObject({ anlas: 0, free: true, opusFree: true, perImage: 17 })
  })

  it("§8: exactly 1,048,576 px and 28 steps is still free; 29 steps is not", () => {
    expect(generationCost({ size: [1024, 1024], steps: 28 }, opus).anlas).toBe(0)
    const over = generationCost({ size: [1024, 1024], steps: 29 }, opus)
    expect(over.anlas).toBe(21)
    expect(over.parts[0]?.detail).toContain("29 steps is over 28")
  })

  it("§8: the rule needs an active subscription of tier 3", () => {
    expect(generationCost({}, { tier: 3, active: false }).anlas).toBe(17)
    expect(generationCost({}, { tier: 2 }).anlas).toBe(17)
    expect(generationCost({}, { tier: 0 }).parts[0]?.detail).toContain("needs an Opus subscription")
  })
})

describe("§8 per-image price", () => {
  it("§8: img2img is priced by strength (832×1216 at 0.62 costs 11, nkdk9315's check)", () => {
    expect(generationCost({ image: new Uint8Array(1), strength: 0.62 }, tablet).anlas).toBe(11)
    // no strength given: priced as 1, an upper bound
    expect(generationCost({ image: new Uint8Array(1) }, tablet).anlas).toBe(17)
  })

  it("§8: the arithmetic is the web client's doubles (25 × 0.56 rounds up to 15, as NovelAI's site shows)", () => {
    const estimate = generationCost({ size: [768, 1024], steps: 48, image: "x", strength: 0.56 }, tablet)
    expect(estimate.anlas).toBe(15)
    expect(generationCost({ size: [768, 1024], steps: 48 }, tablet).anlas).toBe(25)
  })

  it("§8: inpainting is priced by inpaintImg2ImgStrength, 1 by default, not by strength", () => {
    expect(generationCost({ image: "x", mask: "m", strength: 0.5 }, tablet).anlas).toBe(17)
    expect(generationCost({ image: "x", mask: "m", inpaintImg2ImgStrength: 0.5 }, tablet).anlas).toBe(9)
  })

  it("§8: an image costs at least 2 (no SD1-era 65,536 px minimum)", () => {
    expect(generationCost({ size: [64, 64], steps: 1 }, tablet).anlas).toBe(2)
    expect(generationCost({ size: [64, 64], steps: 1, image: "x", strength: 0.01 }, tablet).anlas).toBe(2)
  })

  it("§8: SMEA costs ×1.2 and SMEA DYN ×1.4 on V3 (21 and 24 at 832×1216)", () => {
    expect(generationCost({ model: V3, sampler: "nai_smea" }, tablet).anlas).toBe(21)
    expect(generationCost({ model: V3, sampler: "nai_smea_dyn" }, tablet).anlas).toBe(24)
    expect(generationCost({ model: V3, sampler: "k_euler" }, tablet).anlas).toBe(17)
    // V4+ send no SMEA flags: no factor
    expect(generationCost({ model: V45, sampler: "nai_smea_dyn" }, tablet).anlas).toBe(17)
  })

  it("§8: an image over 140 Anlas is flagged, as NovelAI's site refuses it", () => {
    const v45 = generationCost({ model: V45, size: [2048, 1536], steps: 50 }, tablet)
    expect(v45.anlas).toBe(100)
    expect(v45.beyondWebLimit).toBeUndefined()
    const v5 = generationCost({ model: V5, size: [2048, 1536], steps: 50 }, tablet)
    expect(v5.anlas).toBe(150)
    expect(v5.beyondWebLimit).toContain("over the 140")
  })
})

describe("§8 vibe and character-reference add-ons", () => {
  it("§8, §10: a vibe given as an image costs its encoding, 2; re-using an encoding is free (§4.4)", () => {
    expect(generationCost({ model: V45, vibes: [{ image: "png" }] }, opus).anlas).toBe(2)
    const reused = generationCost({ model: V45, vibes: [{ encoding: "enc" }] }, opus)
    expect(reused.anlas).toBe(0)
    expect(generationCost({ model: V4, vibes: [{ image: "a" }, { encoding: "b" }] }, tablet).anlas).toBe(
      17 + 2
    )
  })

  it("§8: each enabled vibe beyond the fourth costs 2", () => {
    const encoded = (n: number) => Array.from({ length: n }, () => ({ encoding: "e" }))
    expect(generationCost({ model: V45, vibes: encoded(4) }, opus).anlas).toBe(0)
    expect(generationCost({ model: V45, vibes: encoded(6) }, opus).anlas).toBe(4)
    const images = Array.from({ length: 6 }, () => ({ image: "png" }))
    const estimate = generationCost({ model: V45, vibes: images }, opus)
    expect(estimate.anlas).toBe(6 * 2 + 2 * 2)
    expect(estimate.parts.map((part) => part.reason)).toEqual(["opus-free", "vibe-encoding", "vibe-batch"])
    // disabled vibes are neither encoded nor counted in the batch
    const someDisabled = [...encoded(4), { encoding: "e", enabled: false }, { image: "png", enabled: false }]
    expect(generationCost({ model: V45, vibes: someDisabled }, opus).anlas).toBe(0)
  })

  it("§8, §4.3: vibes cost nothing with a mask or with character references (NovelAI's site drops them)", () => {
    const vibes = [{ image: "png" }]
    expect(generationCost({ model: V45, mask: "m", image: "i", vibes }, opus).anlas).toBe(0)
    const withReference = generationCost({ model: V45, vibes, characterReferences: [{}] }, tablet)
    expect(withReference.anlas).toBe(17 + 5)
  })

  it("§3: models without encoded vibes (V3, V5) take no vibe add-on", () => {
    expect(generationCost({ model: V3, vibes: [{ image: "png" }] }, opus).anlas).toBe(0)
    expect(generationCost({ model: V5, vibes: [{ image: "png" }] }, opus).anlas).toBe(0)
  })

  it("§8: character references cost 5 per reference per image and void the Opus rule", () => {
    const estimate = generationCost({ model: V45, nSamples: 2, characterReferences: [{}, {}] }, opus)
    expect(estimate.anlas).toBe(2 * 17 + 5 * 2 * 2)
    expect(estimate.opusFree).toBe(false)
    expect(estimate.parts[0]?.detail).toContain("not free on Opus with character references")
  })

  it("§8 disagree: a 512×768 character-reference image is estimated 12 (live bill: 5, the reference part)", () => {
    const estimate = generationCost({ model: V45, size: "small_portrait", characterReferences: [{}] }, opus)
    expect(estimate.anlas).toBe(12)
    expect(estimate.parts).toEqual([
      expect.objectContaining({ reason: "images", anlas: 7 }),
      expect.objectContaining({ reason: "character-references", anlas: 5 })
    ])
  })

  it("§3: character references are charged on V4.5 only (other models take none)", () => {
    expect(generationCost({ model: V4, characterReferences: [{}] }, opus).anlas).toBe(0)
  })

  it("an unknown model id is priced with every add-on it is given, without V5's factor", () => {
    const estimate = generationCost(
      { model: "nai-diffusion-6", vibes: [{ image: "v" }], characterReferences: [] },
      tablet
    )
    expect(estimate.anlas).toBe(17 + 2)
  })
})

describe("§8 director tools", () => {
  it("§8 [live]: bg-removal costs 65 at 832×1216, on Opus too", () => {
    expect(augmentCost({ tool: "bg-removal", size: [832, 1216] }, opus)).toMatchObject({
      anlas: 65,
      free: false,
      opusFree: false
    })
    expect(augmentCost({ tool: "bg-removal", size: [832, 1216] }, tablet).anlas).toBe(65)
  })

  it.each(["lineart", "sketch", "colorize", "emotion", "declutter", "declutter-keep-bubbles"] as const)(
    "§8, §9 [live]: %s costs 0 on Opus at ≤ 1 MP and 20 on Tablet at 832×1216",
    (tool) => {
      expect(augmentCost({ tool, size: [832, 1216] }, opus)).toMatchObject({ anlas: 0, opusFree: true })
      expect(augmentCost({ tool, size: [832, 1216] }, tablet).anlas).toBe(20)
      expect(augmentCost({ tool, size: [512, 512] }, opus).anlas).toBe(0)
    }
  )

  it("§8: a tool works on small inputs grown to about 1 MP, so a small image costs as much", () => {
    expect(augmentSize([512, 768])).toEqual([836, 1254])
    expect(augmentSize([832, 1216])).toEqual([832, 1216])
    // between 1,011,712 and 1,048,576 px an input is taken as it is; just under, it is grown
    expect(augmentSize([1024, 1000])).toEqual([1024, 1000])
    expect(augmentSize([1011, 1000])).toEqual([1029, 1018])
    expect(augmentCost({ tool: "lineart", size: [512, 768] }, tablet).anlas).toBe(20)
    expect(augmentCost({ tool: "bg-removal", size: [512, 768] }, tablet).anlas).toBe(65)
  })

  it("§8: a tool on an input over 1 MP is not free on Opus; one over the maximum is cut to fit", () => {
    const large = augmentCost({ tool: "sketch", size: [1024, 1536] }, opus)
    expect(large.anlas).toBe(30)
    expect(large.parts[0]?.detail).toContain("not free on Opus")
    const [w, h] = augmentSize([4096, 4096])
    expect(w * h).toBeLessThanOrEqual(3_145_728 - 2000)
    expect(w).toBe(h)
  })
})

describe("§8, §11 upscale", () => {
  it("§8 [live]: the current upscaler costs 1 for an 832×1216 image, on Opus too", () => {
    expect(upscaleCost({ kind: "upscale", size: [832, 1216] }, opus)).toMatchObject({ anlas: 1, free: false })
  })

  it.each([
    [1_048_576, 1],
    [1_048_577, 2],
    [1_747_627, 2],
    [1_747_628, 3],
    [2_446_678, 3],
    [2_446_679, 4],
    [3_145_728, 4]
  ])("§8: the current upscaler prices an input of %i px at %i", (pixels, anlas) => {
    const estimate = upscaleCost({ kind: "upscale", size: [pixels, 1] }, opus)
    expect(estimate.anlas).toBe(anlas)
    expect(estimate.beyondWebLimit).toBeUndefined()
  })

  it("§8: an input over 3,145,728 px is flagged", () => {
    const estimate = upscaleCost({ kind: "upscale", size: [2048, 2048] }, tablet)
    expect(estimate.anlas).toBe(4)
    expect(estimate.beyondWebLimit).toContain("3,145,728")
  })

  it.each([
    [262_144, 1],
    [409_600, 2],
    [409_601, 3],
    [524_288, 3],
    [786_432, 5],
    [1_048_576, 7]
  ])("§8: the legacy upscaler prices %i px at %i off Opus", (pixels, anlas) => {
    expect(upscaleCost({ kind: "upscale", legacy: true, size: [pixels, 1] }, tablet).anlas).toBe(anlas)
  })

  it("§8: the legacy upscaler is free on Opus up to 409,600 px, and refuses over 1 MP", () => {
    expect(upscaleCost({ kind: "upscale", legacy: true, size: [640, 640] }, opus).anlas).toBe(0)
    expect(upscaleCost({ kind: "upscale", legacy: true, size: [640, 641] }, opus).anlas).toBe(3)
    expect(
      upscaleCost({ kind: "upscale", legacy: true, size: [640, 640] }, { tier: 3, active: false }).anlas
    ).toBe(2)
    expect(upscaleCost({ kind: "upscale", legacy: true, size: [832, 1280] }, opus).beyondWebLimit).toContain(
      "1,048,576"
    )
  })
})

describe("cost: one entry point for every call", () => {
  it("§2, §10: encoding a vibe costs 2 on every tier", () => {
    expect(encodeVibeCost(opus).anlas).toBe(2)
    expect(cost({ kind: "encode-vibe" }, tablet).anlas).toBe(2)
  })

  it("dispatches generations, tools and upscales", () => {
    expect(cost({ model: V5, size: "portrait" }, tablet).anlas).toBe(26)
    expect(cost({ tool: "bg-removal", size: [832, 1216] }, opus).anlas).toBe(65)
    expect(cost({ kind: "upscale", size: [832, 1216] }, opus).anlas).toBe(1)
  })

  it("says whether the account's balance covers the call, when the account carries one", () => {
    const account = { tier: 1, active: true, anlas: { total: 20 } }
    expect(generationCost({ steps: 23 }, account).affordable).toBe(true)
    expect(generationCost({ steps: 23, nSamples: 2 }, account).affordable).toBe(false)
    expect(generationCost({}, tablet).affordable).toBeUndefined()
  })

  it("the parts add up to the total, for any mix", () => {
    const estimates = [
      generationCost({ model: V45, nSamples: 3, vibes: [{ image: 1 }, {}, {}, {}, {}, {}] }, opus),
      generationCost({ model: V45, nSamples: 2, characterReferences: [{}] }, tablet),
      generationCost({ model: V5, nSamples: 8, size: "small_square" }, opusDrained),
      augmentCost({ tool: "emotion", size: "large_square" }, opus),
      upscaleCost({ kind: "upscale", size: "wallpaper_portrait" }, opus)
    ]
    for (const estimate of estimates) expect(sumOfParts(estimate)).toBe(estimate.anlas)
  })
})
