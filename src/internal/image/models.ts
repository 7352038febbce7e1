/**
 * NovelAI's image models and what each takes (IMAGE-WIRE.md §3, §4.6): the body shape (V3 or V4+),
 * characters and how they are placed, noise schedules, Variety Boost's sigma, default scale,
 * quality tags and undesired-content presets, and the inpainting model.
 */

import { DEFAULT_IMAGE_MODEL } from "../../ImageGeneration.js"
import type { ModelRegistry } from "../core/endpoint.js"

export type Generation = "v3" | "v4" | "v4.5" | "v5"

/** NovelAI's names of the undesired-content presets. */
export type UcPreset = "heavy" | "light" | "furryFocus" | "humanFocus" | "none"

export interface ImageModel {
  readonly id: string
  readonly generation: Generation
  readonly curated: boolean
  /** The model infill runs on. */
  readonly inpainting: string
  readonly defaultScale: number
  /** Characters at most; 0: none (V3). */
  readonly maxCharacters: number
  /** `grid`: centers snapped to the 5x5 grid (V4.x); `free`: any, to 0.001 (V5). */
  readonly positions: "grid" | "free"
  /** Variety Boost's sigma; undefined: the model has no Variety Boost (V5). */
  readonly varietySigma: number | undefined
  readonly noiseSchedules: ReadonlyArray<string>
  readonly samplers: ReadonlyArray<string>
  /** The quality tags appended, without the leading ", ". */
  readonly quality: string
  /** The presets' texts; a preset missing here is one the model does not have. */
  readonly presets: Readonly<Partial<Record<UcPreset, string>>>
  /** Default character undesired content. */
  readonly characterUc: string
}

const MODERN_SAMPLERS = [
  "k_euler_ancestral",
  "k_euler",
  "k_dpmpp_2s_ancestral",
  "k_dpmpp_2m_sde",
  "k_dpmpp_2m",
  "k_dpmpp_sde"
]
const MODERN_SCHEDULES = ["karras", "exponential", "polyexponential"]

const V45F_HEAVY =
  "lowres, artistic error, film grain, scan artifacts, worst quality, bad quality, jpeg artifacts, very displeasing, chromatic aberration, dithering, halftone, screentone, multiple views, logo, too many watermarks, negative space, blank page"
const FURRY_FOCUS =
  "{worst quality}, distracting watermark, unfinished, bad quality, {widescreen}, upscale, {sequence}, {{grandfathered content}}, blurred foreground, chromatic aberration, sketch, everyone, [sketch background], simple, [flat colors], ych (character), outline, multiple scenes, [[horror (theme)]], comic"
const HUMAN_FOCUS = `${V45F_HEAVY}, @_@, mismatched pupils, glowing eyes, bad anatomy`
const V5_LIGHT =
  "lowres, bad hands, bad anatomy, artistic error, sepia, white haze, worst quality, very displeasing, jpeg artifacts, 0::ai-generated::"
const V3_HEAVY =
  "lowres, {bad}, error, fewer, extra, missing, worst quality, jpeg artifacts, bad quality, watermark, unfinished, displeasing, chromatic aberration, signature, extra digits, artistic error, username, scan, [abstract]"

const v5 = (id: string, curated: boolean, inpainting: string): ImageModel => ({
  id,
  generation: "v5",
  curated,
  inpainting,
  defaultScale: 7,
  maxCharacters: 32,
  positions: "free",
  varietySigma: undefined,
  noiseSchedules: ["karras"],
  samplers: MODERN_SAMPLERS,
  quality: "very aesthetic, masterpiece, no text",
  presets: { heavy: V45F_HEAVY, light: V5_LIGHT, furryFocus: FURRY_FOCUS, humanFocus: HUMAN_FOCUS, none: "" },
  characterUc: ""
})

const v4 = (
  id: string,
  generation: "v4" | "v4.5",
  curated: boolean,
  inpainting: string,
  quality: string,
  presets: ImageModel["presets"]
): ImageModel => ({
  id,
  generation,
  curated,
  inpainting,
  defaultScale: generation === "v4" ? 5.5 : 5,
  maxCharacters: 6,
  positions: "grid",
  varietySigma: generation === "v4" ? 19 : 58,
  noiseSchedules: MODERN_SCHEDULES,
  samplers: MODERN_SAMPLERS,
  quality,
  presets,
  characterUc: generation === "v4" ? "lowres, aliasing, " : ""
})

const v3 = (id: string, scale: number, quality: string, presets: ImageModel["presets"]): ImageModel => ({
  id,
  generation: "v3",
  curated: false,
  inpainting: `${id}-inpainting`,
  defaultScale: scale,
  maxCharacters: 0,
  positions: "grid",
  varietySigma: 19,
  noiseSchedules: ["native", ...MODERN_SCHEDULES],
  samplers: [...MODERN_SAMPLERS, "ddim_v3"],
  quality,
  presets,
  characterUc: ""
})

export const MODELS: ReadonlyArray<ImageModel> = [
  v5("nai-diffusion-5-full", false, "nai-diffusion-5-full-inpainting"),
  // V5 Curated's own inpainting id does not exist (400): NovelAI's site inpaints with V4.5 Curated's.
  v5("nai-diffusion-5-curated", true, "nai-diffusion-4-5-curated-inpainting"),
  v4(
    "nai-diffusion-4-5-full",
    "v4.5",
    false,
    "nai-diffusion-4-5-full-inpainting",
    "very aesthetic, masterpiece, no text",
    {
      heavy: V45F_HEAVY,
      light:
        "lowres, artistic error, scan artifacts, worst quality, bad quality, jpeg artifacts, multiple views, very displeasing, too many watermarks, negative space, blank page",
      furryFocus: FURRY_FOCUS,
      humanFocus: HUMAN_FOCUS,
      none: ""
    }
  ),
  v4(
    "nai-diffusion-4-5-curated",
    "v4.5",
    true,
    "nai-diffusion-4-5-curated-inpainting",
    "very aesthetic, masterpiece, no text, -0.8::feet::, rating:general",
    {
      heavy:
        "blurry, lowres, upscaled, artistic error, film grain, scan artifacts, worst quality, bad quality, jpeg artifacts, very displeasing, chromatic aberration, halftone, multiple views, logo, too many watermarks, negative space, blank page",
      light:
        "blurry, lowres, upscaled, artistic error, scan artifacts, jpeg artifacts, logo, too many watermarks, negative space, blank page",
      humanFocus:
        "blurry, lowres, upscaled, artistic error, film grain, scan artifacts, bad anatomy, bad hands, worst quality, bad quality, jpeg artifacts, very displeasing, chromatic aberration, halftone, multiple views, logo, too many watermarks, @_@, mismatched pupils, glowing eyes, negative space, blank page",
      none: ""
    }
  ),
  v4(
    "nai-diffusion-4-full",
    "v4",
    false,
    "nai-diffusion-4-full-inpainting",
    "no text, best quality, very aesthetic, absurdres",
    {
      heavy:
        "blurry, lowres, error, film grain, scan artifacts, worst quality, bad quality, jpeg artifacts, very displeasing, chromatic aberration, multiple views, logo, too many watermarks, white blank page, blank page",
      light:
        "blurry, lowres, error, worst quality, bad quality, jpeg artifacts, very displeasing, white blank page, blank page",
      none: ""
    }
  ),
  v4(
    "nai-diffusion-4-curated-preview",
    "v4",
    true,
    "nai-diffusion-4-curated-inpainting",
    "rating:general, best quality, very aesthetic, absurdres",
    {
      heavy:
        "blurry, lowres, error, film grain, scan artifacts, worst quality, bad quality, jpeg artifacts, very displeasing, chromatic aberration, logo, dated, signature, multiple views, gigantic breasts, white blank page, blank page",
      light:
        "blurry, lowres, error, worst quality, bad quality, jpeg artifacts, very displeasing, logo, dated, signature, white blank page, blank page",
      none: ""
    }
  ),
  v3("nai-diffusion-3", 5, "best quality, amazing quality, very aesthetic, absurdres", {
    heavy: V3_HEAVY,
    light: "lowres, jpeg artifacts, worst quality, watermark, blurry, very displeasing",
    humanFocus: `${V3_HEAVY}, bad anatomy, bad hands, @_@, mismatched pupils, heart-shaped pupils, glowing eyes`,
    none: ""
  }),
  v3("nai-diffusion-furry-3", 6.2, "{best quality}, {amazing quality}", {
    heavy:
      "{{worst quality}}, [displeasing], {unusual pupils}, guide lines, {{unfinished}}, {bad}, url, artist name, {{tall image}}, mosaic, {sketch page}, comic panel, impact (font), [dated], {logo}, ych, {what}, {where is your god now}, {distorted text}, repeated text, {floating head}, {1994}, {widescreen}, absolutely everyone, sequence, {compression artifacts}, hard translated, {cropped}, {commissioner name}, unknown text, high contrast",
    light:
      "{worst quality}, guide lines, unfinished, bad, url, tall image, widescreen, compression artifacts, unknown text",
    none: ""
  })
]

const BY_ID: ReadonlyMap<string, ImageModel> = new Map(MODELS.map((m) => [m.id, m]))

/** Ids other clients use for two of the models, and the ones NovelAI knows. */
export const ALIASES: Readonly<Record<string, string>> = {
  "nai-diffusion-4-curated": "nai-diffusion-4-curated-preview",
  "nai-diffusion-3-furry": "nai-diffusion-furry-3"
}

/**
 * The model `id` names: a known one, or for a newer id the known model of its generation it is
 * most like (so its body has the right shape), under its own id.
 */
export const modelOf = (id: string): ImageModel => {
  const known = BY_ID.get(ALIASES[id] ?? id)
  if (known !== undefined) return known
  const curated = id.includes("curated")
  const like = id.startsWith("nai-diffusion-5")
    ? curated
      ? "nai-diffusion-5-curated"
      : "nai-diffusion-5-full"
    : id.startsWith("nai-diffusion-4-5")
      ? curated
        ? "nai-diffusion-4-5-curated"
        : "nai-diffusion-4-5-full"
      : id.startsWith("nai-diffusion-4")
        ? curated
          ? "nai-diffusion-4-curated-preview"
          : "nai-diffusion-4-full"
        : id.startsWith("nai-diffusion-3") || id.startsWith("nai-diffusion-furry")
          ? "nai-diffusion-3"
          : DEFAULT_IMAGE_MODEL
  return { ...BY_ID.get(like)!, id, inpainting: `${id}-inpainting` }
}

/** The image family's models: `nai-diffusion-*`, and newer ids of that name. */
export const models: ModelRegistry<unknown> = {
  family: "image",
  owns: (model) => model.startsWith("nai-diffusion"),
  describe: "an image model",
  notServed: "not an image model",
  use: "use client.image.generate (Image.generate) for it",
  defaultModel: () => DEFAULT_IMAGE_MODEL
}
