/**
 * An image generation's parameters, as checked by `ImageGenerateParams`, turned into the body
 * NovelAI's own site sends for the model (IMAGE-WIRE.md §4): the checks that need more than one
 * field (a size's area, samples per area, what the model takes), quality tags and the
 * undesired-content preset composed into the prompts, `v4_prompt` / `v4_negative_prompt` and the
 * characters on V4 and later, the V3-only fields on V3 only, img2img and infill.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Random from "effect/Random"
import { InvalidRequestError } from "../../Errors.js"
import {
  type Character,
  DEFAULT_IMAGE_MODEL,
  type ImageGenerateStreamParams,
  type ImageInput,
  SIZES
} from "../../ImageGeneration.js"
import { imageOf, pngSize } from "./bytes.js"
import { ALIASES, type ImageModel, modelOf, type UcPreset } from "./models.js"
import { guidanceFields } from "./vibes.js"

/** The most pixels NovelAI draws in one image. */
export const MAX_PIXELS = 3_145_728

/** The most samples one request may ask for at this area (NovelAI's site, IMAGE-WIRE.md §4.5). */
export const maxSamples = (width: number, height: number): number => {
  const pixels = width * height
  return pixels <= 360_448 ? 8 : pixels <= 409_600 ? 6 : 4
}

const UC_NAMES: Readonly<Record<string, UcPreset>> = {
  none: "none",
  light: "light",
  strong: "heavy",
  heavy: "heavy",
  furry_focus: "furryFocus",
  human_focus: "humanFocus"
}
const SDK_NAMES: Readonly<Record<UcPreset, string>> = {
  none: "none",
  light: "light",
  heavy: "strong",
  furryFocus: "furry_focus",
  humanFocus: "human_focus"
}

const GRID = [0.1, 0.3, 0.5, 0.7, 0.9] as const
/** Where characters with no position go, in order, as NovelAI's site places new ones. */
const DEFAULT_X = [0.5, 0.3, 0.7, 0.1, 0.9] as const

const snap = (v: number): number => GRID[Math.min(4, Math.max(0, Math.floor(5 * v)))]!
const round3 = (v: number): number => Math.round(v * 1000) / 1000

/** A character's center on the canvas, as the model takes it: snapped to the grid on V4.x, free on V5. */
const centerOf = (
  position: Character["position"],
  index: number,
  model: ImageModel
): { readonly x: number; readonly y: number } => {
  if (position === undefined) return { x: DEFAULT_X[index] ?? 0.5, y: 0.5 }
  const [x, y] =
    typeof position === "string"
      ? [GRID[position.toUpperCase().charCodeAt(0) - 65]!, GRID[Number(position[1]) - 1]!]
      : position
  return model.positions === "grid" ? { x: snap(x), y: snap(y) } : { x: round3(x), y: round3(y) }
}

const join = (a: string, b: string): string => (a === "" ? b : b === "" ? a : `${a}, ${b}`)

/** Where an in-image `text:` block starts in a V4+ prompt. */
const TEXT_BLOCK = /(?:^|\s|[,.:[\]{}、。])text:(?!:)/i

/**
 * The prompt with the model's quality tags: on V4+ appended to the first `|` segment, before any
 * `text:` block; on V3 to every segment, before a trailing `:<weight>`.
 */
export const withQualityTags = (prompt: string, model: ImageModel): string => {
  const tags = model.quality
  if (model.generation === "v3") {
    return prompt
      .split("|")
      .map((segment) => {
        const weight = /:\s*-?\d+(?:\.\d+)?\s*$/.exec(segment)
        if (weight === null) return join(segment.trimEnd(), tags)
        return `${join(segment.slice(0, weight.index).trimEnd(), tags)}${weight[0]}`
      })
      .join("|")
  }
  const [first = "", ...rest] = prompt.split("|")
  const match = TEXT_BLOCK.exec(first)
  if (match === null) return [join(first, tags), ...rest].join("|")
  const before = first.slice(0, match.index).replace(/[\s,]*$/, "")
  const after = first.slice(match.index).replace(/^[\s,]*/, "")
  const head = `${join(before, tags)}, ${after}`
  return [head, ...rest].join("|")
}

/**
 * The undesired content sent: `nsfw, ` (on full models, with a preset, when the prompt does not
 * ask for nsfw), the preset's text, then the caller's.
 */
export const withUcPreset = (
  negative: string,
  preset: UcPreset,
  model: ImageModel,
  prompt: string
): string => {
  const text = model.presets[preset] ?? ""
  const nsfw = !model.curated && preset !== "none" && text !== "" && !prompt.toLowerCase().includes("nsfw")
  const composed = join(text, negative)
  return nsfw ? join("nsfw", composed) : composed
}

type Wire = Record<string, unknown>

const refuse = (name: string, field: string, message: string) =>
  Either.left(new InvalidRequestError({ message: `${name}: ${field} ${message}`, endpoint: name, field }))

/** A source image or mask, base64, checked to be a PNG of the size asked for. */
const sourceImage = (
  name: string,
  field: string,
  input: ImageInput,
  width: number,
  height: number
): Either.Either<string, InvalidRequestError> => {
  const { base64, head } = imageOf(input)
  const size = pngSize(head)
  if (size === undefined) return refuse(name, field, "must be a PNG image (its first bytes are not a PNG's)")
  if (size.width !== width || size.height !== height) {
    return refuse(
      name,
      field,
      `must be ${width}x${height}, the size asked for (got ${size.width}x${size.height}): resize it, or ask for size [${size.width}, ${size.height}]`
    )
  }
  return Either.right(base64)
}

/**
 * The wire body of a generation, with `seed` as its seed; the parameters are the schema-checked
 * ones (`extraBody`, encoded as `extraParameters`, goes into `parameters`).
 */
export const wireBody = (name: string, input: Wire, seed: number): Either.Either<Wire, InvalidRequestError> =>
  Either.gen(function* () {
    const params = input as unknown as ImageGenerateStreamParams
    const requested = (params.model ?? DEFAULT_IMAGE_MODEL) as string
    const model = modelOf(requested)
    const id = ALIASES[requested] ?? requested

    const [width, height] =
      params.size === undefined
        ? SIZES.portrait
        : typeof params.size === "string"
          ? SIZES[params.size]
          : params.size
    if (width % 64 !== 0 || height % 64 !== 0) {
      return yield* refuse(name, "size", `must be multiples of 64 (got ${width}x${height})`)
    }
    if (width * height > MAX_PIXELS) {
      return yield* refuse(
        name,
        "size",
        `must be at most ${MAX_PIXELS.toLocaleString("en")} pixels (got ${width}x${height} = ${(width * height).toLocaleString("en")})`
      )
    }
    const nSamples = params.nSamples ?? 1
    const samplesCap = maxSamples(width, height)
    if (nSamples > samplesCap) {
      return yield* refuse(
        name,
        "nSamples",
        `must be at most ${samplesCap} at ${width}x${height} (got ${nSamples})`
      )
    }

    // Infill runs on the model's inpainting model, with the capabilities of its base.
    const infill = params.mask !== undefined
    if (infill && params.image === undefined) {
      return yield* refuse(name, "mask", "needs image: the picture to inpaint")
    }
    if (params.image === undefined && params.strength !== undefined) {
      return yield* refuse(name, "strength", "needs image: it says how much of a source image is redrawn")
    }
    if (params.image === undefined && params.noise !== undefined) {
      return yield* refuse(name, "noise", "needs image: it is noise added to a source image")
    }
    if (infill && params.noise !== undefined) {
      return yield* refuse(name, "noise", "is for image to image; inpainting (with a mask) takes none")
    }
    if (!infill && params.strength !== undefined && params.strength > 0.99) {
      return yield* refuse(
        name,
        "strength",
        `must be from 0.01 to 0.99 for image to image (got ${params.strength})`
      )
    }
    const caps = infill ? modelOf(model.inpainting.replace(/-inpainting$/, "")) : model
    const v4 = caps.generation !== "v3"

    const sampler = params.sampler ?? "k_euler_ancestral"
    if (!caps.samplers.includes(sampler)) {
      return yield* refuse(
        name,
        "sampler",
        `${sampler} is for V3 models only (${id} takes ${caps.samplers.join(", ")})`
      )
    }
    const schedule = params.noiseSchedule ?? "karras"
    if (!caps.noiseSchedules.includes(schedule)) {
      return yield* refuse(
        name,
        "noiseSchedule",
        `${schedule} is not one ${id} takes (${caps.noiseSchedules.join(", ")})`
      )
    }
    if (params.varietyBoost === true && caps.varietySigma === undefined) {
      return yield* refuse(name, "varietyBoost", `is not available on ${id} (V5 has no Variety Boost)`)
    }
    const presetName = params.ucPreset ?? "light"
    const preset = UC_NAMES[presetName]!
    if (caps.presets[preset] === undefined) {
      const has = Object.keys(caps.presets).map((p) => SDK_NAMES[p as UcPreset])
      return yield* refuse(
        name,
        "ucPreset",
        `${presetName} is not a preset of ${id} (it has ${has.join(", ")})`
      )
    }

    const characters = (params.characters ?? []).filter((c) => c.enabled !== false && c.prompt.trim() !== "")
    if (characters.length > 0 && !v4) {
      return yield* refuse(name, "characters", `are for V4 and later models (${id} is a V3 model)`)
    }
    if (characters.length > caps.maxCharacters) {
      return yield* refuse(
        name,
        "characters",
        `must be at most ${caps.maxCharacters} on ${id} (got ${characters.length})`
      )
    }

    const prompt = params.prompt
    const positive = params.quality === false ? prompt : withQualityTags(prompt, caps)
    const negative = withUcPreset(params.negativePrompt ?? "", preset, caps, prompt)
    const useCoords = characters.some((c) => c.position !== undefined)
    const placed = characters.map((c, i) => ({
      // NovelAI's site sends a character's first "1girl" / "1boy" as "girl" / "boy".
      prompt: c.prompt.replace(/1girl/, "girl").replace(/1boy/, "boy"),
      uc: c.negativePrompt ?? caps.characterUc,
      center: centerOf(c.position, i, caps)
    }))

    const parameters: Wire = {
      params_version: 4,
      width,
      height,
      scale: params.scale ?? caps.defaultScale,
      sampler,
      steps: params.steps ?? 23,
      n_samples: nSamples,
      seed,
      negative_prompt: negative,
      cfg_rescale: params.cfgRescale ?? 0,
      ...(sampler === "ddim_v3" ? {} : { noise_schedule: schedule }),
      ...(caps.generation === "v5"
        ? {}
        : {
            skip_cfg_above_sigma:
              params.varietyBoost === true
                ? caps.varietySigma! *
                  Math.sqrt((Math.floor(width / 8) * Math.floor(height / 8)) / (104 * 152))
                : null
          }),
      characterPrompts: placed.map((c) => ({ prompt: c.prompt, uc: c.uc, center: c.center, enabled: true })),
      use_coords: useCoords,
      legacy: false,
      legacy_v3_extend: false,
      legacy_uc: false,
      dynamic_thresholding: false,
      ...(v4 ? {} : { sm: false, sm_dyn: false }),
      ...(sampler === "k_euler_ancestral" && schedule !== "native"
        ? { deliberate_euler_ancestral_bug: false, prefer_brownian: true }
        : {}),
      controlnet_strength: 1,
      add_original_image: true,
      normalize_reference_strength_multiple: true,
      image_format: "png",
      ...(v4
        ? {
            v4_prompt: {
              caption: {
                base_caption: positive,
                char_captions: placed.map((c) => ({ char_caption: c.prompt, centers: [c.center] }))
              },
              use_coords: useCoords,
              use_order: true
            },
            v4_negative_prompt: {
              caption: {
                base_caption: negative,
                char_captions: placed.map((c) => ({ char_caption: c.uc, centers: [c.center] }))
              },
              legacy_uc: false
            }
          }
        : {})
    }

    // Vibes and character references, as the model takes them (vibes.ts).
    Object.assign(parameters, yield* guidanceFields(name, params, caps, id, infill))

    let action = "generate"
    if (params.image !== undefined) {
      parameters.image = yield* sourceImage(name, "image", params.image, width, height)
      if (infill) {
        action = "infill"
        parameters.mask = yield* sourceImage(name, "mask", params.mask!, width, height)
        const strength = params.strength ?? 1
        parameters.inpaintImg2ImgStrength = strength
        if (strength !== 1) parameters.img2img = { strength, color_correct: true }
      } else {
        action = "img2img"
        parameters.strength = params.strength ?? 0.7
        parameters.noise = params.noise ?? 0
        parameters.extra_noise_seed = (seed + 4_294_967_295) % 4_294_967_296
        parameters.color_correct = false
      }
    }
    if (params.stream !== undefined) parameters.stream = params.stream

    const extra = (input.extraParameters ?? {}) as Wire
    for (const [key, value] of Object.entries(extra)) {
      if (value === undefined) continue
      if (key in parameters) {
        return yield* refuse(
          name,
          `extraBody.${key}`,
          "would replace a parameter the client sets; use its typed parameter instead"
        )
      }
      parameters[key] = value
    }

    return {
      input: positive,
      model: infill ? model.inpainting : id,
      action,
      parameters,
      use_new_shared_trial: true
    }
  })

/** A seed for a call that gave none: any unsigned 32-bit integer. */
export const randomSeed: Effect.Effect<number> = Effect.map(Random.next, (r) => Math.floor(r * 4_294_967_296))

/**
 * The wire body of a generation, drawing the seed when none was given; `stream`: the stream
 * format a streamed generation asks for when its parameters name none.
 */
export const body =
  (stream?: "msgpack") =>
  (name: string, input: Wire): Effect.Effect<Wire, InvalidRequestError> =>
    Effect.flatMap(typeof input.seed === "number" ? Effect.succeed(input.seed) : randomSeed, (seed) =>
      wireBody(name, stream === undefined || input.stream !== undefined ? input : { ...input, stream }, seed)
    )
