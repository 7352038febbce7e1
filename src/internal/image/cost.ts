/**
 * What a NovelAI image call will cost in Anlas, computed on the client before anything is sent
 * (NovelAI has no price endpoint; the server bills). The formulas are NovelAI's web client's
 * (`eX`/`eW`, restated in IMAGE-WIRE.md §8), with V5's ×1.5 and its usage battery, the vibe and
 * character-reference add-ons, director tools and both upscalers.
 *
 * The input is structural: the generation parameters as callers write them (camelCase), so a
 * parameters value passes as it is. The numbers are computed in IEEE doubles exactly as the web
 * client computes them (`ceil(20 × 0.7)` is 15 there too), so an estimate matches what NovelAI's
 * own site shows.
 *
 * @since 0.1.0
 */

import { SIZES, type ImageSize as Size } from "../../ImageGeneration.js"

/**
 * One vibe of a generation: an `encoding` already paid for (re-using it is free), or an `image`
 * that is encoded first (2 Anlas). `enabled: false` leaves it out: it is neither encoded nor
 * counted.
 *
 * @since 0.1.0
 * @category models
 */
export interface VibeCostInput {
  readonly encoding?: unknown
  readonly image?: unknown
  readonly enabled?: boolean | undefined
}

/**
 * The parameters of a generation that its price depends on, with the generation parameters' names
 * and defaults: `model` `nai-diffusion-4-5-full`, `size` `portrait`, `steps` 23, `nSamples` 1.
 *
 * - `image` (any value: its presence makes it img2img) is priced by `strength`; without a
 *   `strength` it is priced as 1, an upper bound.
 * - `mask` (inpainting) is priced by `inpaintImg2ImgStrength`, default 1.
 * - `sampler` matters on V3 only: `nai_smea` costs ×1.2, `nai_smea_dyn` ×1.4 (SMEA, sent as the
 *   `sm`/`sm_dyn` flags).
 * - `vibes` and `characterReferences` add what IMAGE-WIRE.md §8 says, on the models that take them.
 *
 * The values are taken as valid (the generation's schema checks ranges before anything is sent).
 *
 * @since 0.1.0
 * @category models
 */
export interface CostInput {
  readonly kind?: "generate" | undefined
  readonly model?: string | undefined
  readonly size?: Size | undefined
  readonly steps?: number | undefined
  readonly nSamples?: number | undefined
  readonly sampler?: string | undefined
  readonly image?: unknown
  readonly strength?: number | undefined
  readonly mask?: unknown
  readonly inpaintImg2ImgStrength?: number | undefined
  readonly vibes?: ReadonlyArray<VibeCostInput> | undefined
  /** The SDK's name for vibes: each of its `images` is a vibe given as an image. */
  readonly controlnet?: { readonly images: ReadonlyArray<VibeCostInput> } | undefined
  readonly characterReferences?: ReadonlyArray<unknown> | undefined
}

/**
 * A director tool, by NovelAI's own id (`req_type`).
 *
 * @since 0.1.0
 * @category models
 */
export type AugmentTool =
  | "lineart"
  | "sketch"
  | "colorize"
  | "emotion"
  | "declutter"
  | "declutter-keep-bubbles"
  | "bg-removal"

/**
 * A director tool call: the tool and the size of the input image.
 *
 * @since 0.1.0
 * @category models
 */
export interface AugmentCostInput {
  readonly kind?: "augment" | undefined
  readonly tool: AugmentTool | (string & {})
  readonly size: Size
}

/**
 * An upscale: the size of the input image. `legacy: true` prices the old ×4 upscaler of
 * `api.novelai.net` (IMAGE-WIRE.md §11) instead of the current ×2 one.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpscaleCostInput {
  readonly kind: "upscale"
  readonly size: Size
  readonly legacy?: boolean | undefined
}

/**
 * A vibe encoding (`POST /ai/encode-vibe`).
 *
 * @since 0.1.0
 * @category models
 */
export interface EncodeVibeCostInput {
  readonly kind: "encode-vibe"
}

/**
 * Any call {@link cost} prices: a generation (no `kind`; its parameters as they are, the fields
 * its price does not depend on ignored), a director tool (`tool`), an upscale or a vibe encoding.
 *
 * @since 0.1.0
 * @category models
 */
export type CostRequest =
  | (CostInput & { readonly [field: string]: unknown })
  | AugmentCostInput
  | UpscaleCostInput
  | EncodeVibeCostInput

/**
 * The account a price is for. `{ tier }` alone means an active subscription of that tier (0 Paper,
 * 1 Tablet, 2 Scroll, 3 Opus) whose V5 usage battery is not exhausted. The decoded
 * `/user/subscription` answer fits as it is and gives the exact answer: `active`, the battery
 * (`battery.negative`: V5 images are billed on Opus too) and the balance (`anlas.total`, which
 * sets {@link CostEstimate.affordable}).
 *
 * @since 0.1.0
 * @category models
 */
export interface CostAccount {
  readonly tier: number
  readonly active?: boolean | undefined
  readonly battery?: { readonly negative: boolean } | undefined
  readonly anlas?: { readonly total: number } | undefined
}

/**
 * Why part of a price is what it is.
 *
 * - `images`: the images billed (each at the per-image price).
 * - `opus-free`: what Opus's free rule covers (0 Anlas: one image per request, or a director tool).
 * - `vibe-encoding`: 2 per vibe given as an image, encoded first.
 * - `vibe-batch`: 2 per enabled vibe beyond the fourth.
 * - `character-references`: 5 per reference per image.
 * - `augment`, `bg-removal`, `upscale`, `encode-vibe`: the price of that call.
 *
 * @since 0.1.0
 * @category models
 */
export type CostReason =
  | "images"
  | "opus-free"
  | "vibe-encoding"
  | "vibe-batch"
  | "character-references"
  | "augment"
  | "bg-removal"
  | "upscale"
  | "encode-vibe"

/**
 * One part of a price: its reason, its Anlas and a sentence for people.
 *
 * @since 0.1.0
 * @category models
 */
export interface CostPart {
  readonly reason: CostReason
  readonly anlas: number
  readonly detail: string
}

/**
 * The estimated price of a call. `anlas` is the sum of `parts`, which say where each Anlas comes
 * from and why something is free or not (a `freeOnly` refusal can quote them).
 *
 * @since 0.1.0
 * @category models
 */
export interface CostEstimate {
  /** The Anlas the call is estimated to cost. */
  readonly anlas: number
  /** Whether it costs nothing. */
  readonly free: boolean
  /** Whether Opus's free rule applied (an image of the request, or the tool call, is free). */
  readonly opusFree: boolean
  /** The price of one image, for a generation. */
  readonly perImage?: number
  /** Where the Anlas come from; their `anlas` add up to the total. */
  readonly parts: ReadonlyArray<CostPart>
  /**
   * Set when NovelAI's web client refuses the call as too expensive or too large (an image over
   * 140 Anlas, an upscale input over the upscaler's limit): why. The server may refuse it too.
   */
  readonly beyondWebLimit?: string
  /** Whether the account's balance covers it, when the account given carries one. */
  readonly affordable?: boolean
}

// The web client's linear fit of the price by pixels and steps (IMAGE-WIRE.md §8).
const PER_PIXEL = 2.951823174884865e-6
const PER_PIXEL_STEP = 5.753298233447344e-7
/** Opus's free rule: at most this many pixels... */
const OPUS_FREE_PIXELS = 1_048_576
/** ...and at most this many steps. */
const OPUS_FREE_STEPS = 28
const OPUS_TIER = 3
/** The web client refuses an image priced above this. */
const MAX_PER_IMAGE = 140
const MIN_PER_IMAGE = 2
const V5_FACTOR = 1.5
const VIBE_ENCODING = 2
const VIBES_FREE_IN_BATCH = 4
const VIBE_BATCH = 2
const CHARACTER_REFERENCE = 5
/** Director tools: inputs are cut below this area... */
const AUGMENT_MAX_PIXELS = 3_145_728 - 2000
/** ...and inputs under `AUGMENT_GROW_BELOW` pixels grown to about `AUGMENT_GROW_TO`. */
const AUGMENT_GROW_BELOW = 1_011_712
const AUGMENT_GROW_TO = 1_048_576
const AUGMENT_STEPS = 28
/** The current ×2 upscaler: price by input area, never free. */
const UPSCALE_TABLE: ReadonlyArray<readonly [maxPixels: number, anlas: number]> = [
  [1_048_576, 1],
  [1_747_627, 2],
  [2_446_678, 3],
  [3_145_728, 4]
]
/** The legacy ×4 upscaler (Feb-2026 web client): price by input area, free on Opus up to 409,600 px. */
const LEGACY_UPSCALE_TABLE: ReadonlyArray<readonly [maxPixels: number, anlas: number]> = [
  [262_144, 1],
  [409_600, 2],
  [524_288, 3],
  [786_432, 5],
  [1_048_576, 7]
]
const LEGACY_UPSCALE_OPUS_FREE_PIXELS = 409_600

const DEFAULT_MODEL = "nai-diffusion-4-5-full"
const DEFAULT_STEPS = 23

type Family = "v3" | "v4" | "v4.5" | "v5" | "unknown"

/** The model family of an id; inpainting ids belong to their base model's family. */
const familyOf = (model: string): Family => {
  if (model.startsWith("nai-diffusion-5")) return "v5"
  if (model.startsWith("nai-diffusion-4-5")) return "v4.5"
  if (model.startsWith("nai-diffusion-4")) return "v4"
  if (model.startsWith("nai-diffusion-3") || model.startsWith("nai-diffusion-furry-3")) return "v3"
  return "unknown"
}

// What a family takes (IMAGE-WIRE.md §3). An unknown id is priced with every add-on it is given:
// an estimate for a model we do not know errs on the high side.
const takesEncodedVibes = (family: Family) => family === "v4" || family === "v4.5" || family === "unknown"
const takesCharacterReferences = (family: Family) => family === "v4.5" || family === "unknown"
const takesSmea = (family: Family) => family === "v3" || family === "unknown"

/**
 * Width and height of a size.
 *
 * @since 0.1.0
 * @category utils
 */
export const dimensions = (size: Size): readonly [width: number, height: number] =>
  typeof size === "string" ? SIZES[size] : size

const isOpusAccount = (account: CostAccount) => account.tier >= OPUS_TIER && account.active !== false

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`
const formatSize = (width: number, height: number) => `${width}×${height}`
const formatPixels = (n: number) => n.toLocaleString("en-US")

/** The web client's price of one image before img2img and the minimum: base × SMEA × V5. */
const imagePrice = (pixels: number, steps: number): number =>
  Math.ceil(PER_PIXEL * pixels + PER_PIXEL_STEP * pixels * steps)

const finish = (
  parts: ReadonlyArray<CostPart>,
  account: CostAccount,
  extra: { readonly opusFree: boolean; readonly perImage?: number; readonly beyondWebLimit?: string }
): CostEstimate => {
  const anlas = parts.reduce((sum, part) => sum + part.anlas, 0)
  return {
    anlas,
    free: anlas === 0,
    opusFree: extra.opusFree,
    ...(extra.perImage === undefined ? {} : { perImage: extra.perImage }),
    parts,
    ...(extra.beyondWebLimit === undefined ? {} : { beyondWebLimit: extra.beyondWebLimit }),
    ...(account.anlas === undefined ? {} : { affordable: account.anlas.total >= anlas })
  }
}

/** Why Opus's free rule does not cover an image, or undefined when it does. */
const notOpusFree = (
  account: CostAccount,
  conditions: {
    readonly pixels: number
    readonly steps: number
    readonly references: number
    readonly batteryApplies: boolean
  }
): string | undefined => {
  if (account.tier < OPUS_TIER) return "free generation needs an Opus subscription"
  if (account.active === false) return "the Opus subscription is not active"
  if (conditions.references > 0) return "not free on Opus with character references"
  if (conditions.pixels > OPUS_FREE_PIXELS)
    return `not free on Opus: ${formatPixels(conditions.pixels)} px is over ${formatPixels(OPUS_FREE_PIXELS)}`
  if (conditions.steps > OPUS_FREE_STEPS)
    return `not free on Opus: ${conditions.steps} steps is over ${OPUS_FREE_STEPS}`
  if (conditions.batteryApplies && account.battery?.negative === true)
    return "not free on Opus: the V5 usage battery is exhausted"
  return undefined
}

/**
 * The Anlas a generation will cost (`/ai/generate-image` or its stream), per IMAGE-WIRE.md §8:
 *
 * - per image `max(ceil(base × SMEA × V5 × strength), 2)`, `base = ceil(2.9518e-6·px +
 *   5.7533e-7·px·steps)`, V5 ×1.5;
 * - on an active Opus subscription one image per request is free when it has no character
 *   reference, at most 1,048,576 px and 28 steps (on V5: while the usage battery is not exhausted);
 * - vibes (V4, V4.5; not with a mask or character references, which NovelAI's site drops them
 *   for): 2 per vibe given as an image, 2 per enabled vibe beyond the fourth;
 * - character references (V4.5): 5 per reference per image.
 *
 * NovelAI's figures disagree on one point: a 512×768 character-reference image was billed 5 live
 * where this formula says 12 (7 for the image, 5 for the reference). The formula is kept: it is the
 * higher of the two, so a budget check is never passed by a call that then costs more.
 *
 * @since 0.1.0
 * @category cost
 * @example
 * ```ts
 * generationCost({ size: "portrait", steps: 23 }, { tier: 1 }).anlas // 17
 * generationCost({ size: "portrait", nSamples: 4 }, { tier: 3 }).anlas // 51: one of four free
 * ```
 */
export const generationCost = (input: CostInput, account: CostAccount): CostEstimate => {
  const model = input.model ?? DEFAULT_MODEL
  const family = familyOf(model)
  const [width, height] = dimensions(input.size ?? "portrait")
  const pixels = width * height
  const steps = input.steps ?? DEFAULT_STEPS
  const samples = input.nSamples ?? 1

  const smea = takesSmea(family)
    ? input.sampler === "nai_smea_dyn"
      ? 1.4
      : input.sampler === "nai_smea"
        ? 1.2
        : 1
    : 1
  const base = imagePrice(pixels, steps)
  const per = base * smea * (family === "v5" ? V5_FACTOR : 1)
  const hasMask = input.mask !== undefined && input.mask !== null
  const hasImage = input.image !== undefined && input.image !== null
  const strength = hasMask ? (input.inpaintImg2ImgStrength ?? 1) : hasImage ? (input.strength ?? 1) : 1
  const each = Math.max(Math.ceil(per * strength), MIN_PER_IMAGE)

  const references = takesCharacterReferences(family) ? (input.characterReferences?.length ?? 0) : 0
  const whyNot = notOpusFree(account, { pixels, steps, references, batteryApplies: family === "v5" })
  const opusFree = whyNot === undefined && samples > 0
  const billed = Math.max(0, samples - (opusFree ? 1 : 0))

  const how = [
    formatSize(width, height),
    plural(steps, "step"),
    ...(family === "v5" ? ["V5 ×1.5"] : []),
    ...(smea !== 1 ? [`SMEA ×${smea}`] : []),
    ...(strength !== 1 ? [`strength ${strength}`] : [])
  ].join(", ")
  const parts: Array<CostPart> = []
  if (opusFree)
    parts.push({
      reason: "opus-free",
      anlas: 0,
      detail: `1 image free on Opus (at most ${formatPixels(OPUS_FREE_PIXELS)} px and ${OPUS_FREE_STEPS} steps, no character reference)`
    })
  if (billed > 0 || !opusFree)
    parts.push({
      reason: "images",
      anlas: each * billed,
      detail: `${plural(billed, "image")} × ${each} Anlas (${how})${whyNot === undefined ? "" : `; ${whyNot}`}`
    })

  const vibes = input.vibes ?? input.controlnet?.images ?? []
  if (vibes.length > 0 && takesEncodedVibes(family) && !hasMask && references === 0) {
    const toEncode = vibes.filter(
      (vibe) => vibe.enabled !== false && (vibe.encoding === undefined || vibe.encoding === null)
    ).length
    if (toEncode > 0)
      parts.push({
        reason: "vibe-encoding",
        anlas: VIBE_ENCODING * toEncode,
        detail: `${plural(toEncode, "vibe")} given as an image, encoded first at ${VIBE_ENCODING} Anlas each (re-using an encoding is free)`
      })
    const enabled = vibes.filter((vibe) => vibe.enabled !== false).length
    const beyond = Math.max(0, enabled - VIBES_FREE_IN_BATCH)
    if (beyond > 0)
      parts.push({
        reason: "vibe-batch",
        anlas: VIBE_BATCH * beyond,
        detail: `${plural(enabled, "vibe")}: ${VIBE_BATCH} Anlas for each beyond the ${VIBES_FREE_IN_BATCH}th`
      })
  }
  if (references > 0)
    parts.push({
      reason: "character-references",
      anlas: CHARACTER_REFERENCE * references * samples,
      detail: `${plural(references, "character reference")} × ${plural(samples, "image")} × ${CHARACTER_REFERENCE} Anlas`
    })

  return finish(parts, account, {
    opusFree,
    perImage: each,
    ...(each > MAX_PER_IMAGE
      ? {
          beyondWebLimit: `an image priced ${each} Anlas is over the ${MAX_PER_IMAGE} NovelAI's site allows; lower the size or the steps`
        }
      : {})
  })
}

/**
 * The size a director tool works at: inputs over 3,143,728 px cut to fit, inputs under
 * 1,011,712 px grown to about 1,048,576 px, each side rounded down (NovelAI's web client; the
 * exact rounding of the cut is unverified).
 *
 * @since 0.1.0
 * @category cost
 */
export const augmentSize = (size: Size): readonly [width: number, height: number] => {
  const [width, height] = dimensions(size)
  const pixels = width * height
  const target =
    pixels > AUGMENT_MAX_PIXELS ? AUGMENT_MAX_PIXELS : pixels < AUGMENT_GROW_BELOW ? AUGMENT_GROW_TO : pixels
  if (target === pixels || pixels <= 0) return [width, height]
  const scale = Math.sqrt(target / pixels)
  return [Math.floor(width * scale), Math.floor(height * scale)]
}

/**
 * The Anlas a director tool (`/ai/augment-image`) will cost: priced as a V3 image of 28 steps at
 * the size the tool works at ({@link augmentSize}), free on an active Opus subscription up to
 * 1,048,576 px; `bg-removal` is 3 × that price + 5 and never free (65 at 832×1216).
 *
 * @since 0.1.0
 * @category cost
 */
export const augmentCost = (input: AugmentCostInput, account: CostAccount): CostEstimate => {
  const [width, height] = augmentSize(input.size)
  const pixels = width * height
  const price = imagePrice(pixels, AUGMENT_STEPS)
  const at = `at ${formatSize(width, height)}`
  if (input.tool === "bg-removal") {
    const anlas = 3 * price + 5
    return finish(
      [
        {
          reason: "bg-removal",
          anlas,
          detail: `bg-removal: 3 × ${price} + 5 Anlas ${at}, never free`
        }
      ],
      account,
      { opusFree: false }
    )
  }
  const whyNot = notOpusFree(account, {
    pixels,
    steps: AUGMENT_STEPS,
    references: 0,
    batteryApplies: false
  })
  if (whyNot === undefined)
    return finish(
      [
        {
          reason: "opus-free",
          anlas: 0,
          detail: `${input.tool} ${at}: free on Opus up to ${formatPixels(OPUS_FREE_PIXELS)} px`
        }
      ],
      account,
      { opusFree: true }
    )
  return finish(
    [
      {
        reason: "augment",
        anlas: price,
        detail: `${input.tool}: ${price} Anlas ${at}; ${whyNot}`
      }
    ],
    account,
    { opusFree: false }
  )
}

/** The price of the first row of `table` whose area holds `pixels`, or of the last when none does. */
const byArea = (table: ReadonlyArray<readonly [number, number]>, pixels: number) => {
  const row = table.find(([max]) => pixels <= max)
  return row === undefined
    ? { anlas: table[table.length - 1]![1], over: true }
    : { anlas: row[1], over: false }
}

/**
 * The Anlas an upscale (`/ai/upscale`) will cost, by the input's area: the current ×2 upscaler
 * 1 / 2 / 3 / 4 up to 1,048,576 / 1,747,627 / 2,446,678 / 3,145,728 px, never free; the legacy one
 * (`legacy: true`) 1 / 2 / 3 / 5 / 7 up to 262,144 / 409,600 / 524,288 / 786,432 / 1,048,576 px,
 * free on Opus up to 409,600 px. An input over the top row is priced at it and flagged
 * (`beyondWebLimit`).
 *
 * @since 0.1.0
 * @category cost
 */
export const upscaleCost = (input: UpscaleCostInput, account: CostAccount): CostEstimate => {
  const [width, height] = dimensions(input.size)
  const pixels = width * height
  const legacy = input.legacy === true
  const table = legacy ? LEGACY_UPSCALE_TABLE : UPSCALE_TABLE
  const name = legacy ? "legacy upscale" : "upscale"
  const limit = table[table.length - 1]![0]
  const beyond = (over: boolean): { readonly beyondWebLimit?: string } =>
    over
      ? {
          beyondWebLimit: `the ${name} takes images up to ${formatPixels(limit)} px; ${formatSize(width, height)} is ${formatPixels(pixels)}`
        }
      : {}
  if (legacy && pixels <= LEGACY_UPSCALE_OPUS_FREE_PIXELS && isOpusAccount(account))
    return finish(
      [
        {
          reason: "opus-free",
          anlas: 0,
          detail: `${name} of ${formatSize(width, height)}: free on Opus up to ${formatPixels(LEGACY_UPSCALE_OPUS_FREE_PIXELS)} px`
        }
      ],
      account,
      { opusFree: true }
    )
  const { anlas, over } = byArea(table, pixels)
  return finish(
    [
      {
        reason: "upscale",
        anlas,
        detail: `${name} of ${formatSize(width, height)}: ${anlas} Anlas${legacy ? "" : ", never free"}`
      }
    ],
    account,
    { opusFree: false, ...beyond(over) }
  )
}

/**
 * The Anlas a vibe encoding (`/ai/encode-vibe`) costs: 2, on every tier. Re-using the encoding in
 * later generations is free.
 *
 * @since 0.1.0
 * @category cost
 */
export const encodeVibeCost = (account: CostAccount): CostEstimate =>
  finish(
    [{ reason: "encode-vibe", anlas: VIBE_ENCODING, detail: `vibe encoding: ${VIBE_ENCODING} Anlas` }],
    account,
    { opusFree: false }
  )

/**
 * The Anlas any image call will cost: a generation ({@link generationCost}), a director tool
 * (`tool` given: {@link augmentCost}), an upscale (`kind: "upscale"`: {@link upscaleCost}) or a vibe
 * encoding (`kind: "encode-vibe"`).
 *
 * @since 0.1.0
 * @category cost
 * @example
 * ```ts
 * cost({ model: "nai-diffusion-5-full", size: "portrait" }, { tier: 1 }).anlas // 26
 * cost({ tool: "bg-removal", size: [832, 1216] }, { tier: 3 }).anlas // 65
 * cost({ kind: "upscale", size: [832, 1216] }, { tier: 3 }).anlas // 1
 * ```
 */
export const cost = (request: CostRequest, account: CostAccount): CostEstimate => {
  if (request.kind === "upscale") return upscaleCost(request, account)
  if (request.kind === "encode-vibe") return encodeVibeCost(account)
  if ("tool" in request && typeof request.tool === "string")
    return augmentCost(request as AugmentCostInput, account)
  return generationCost(request as CostInput, account)
}
