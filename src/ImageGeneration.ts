/**
 * NovelAI Diffusion image generation (`POST /ai/generate-image` and `/ai/generate-image-stream` on
 * the image host): the parameters, checked before anything is sent, and the results.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as S from "./internal/core/schema.js"

/**
 * An image model id: NovelAI Diffusion V5, V4.5, V4 and V3 (full and curated), or any newer id.
 * The SDK's `nai-diffusion-4-curated` and `nai-diffusion-3-furry` are taken as the ids NovelAI uses
 * (`nai-diffusion-4-curated-preview`, `nai-diffusion-furry-3`).
 *
 * @since 0.1.0
 * @category models
 */
export type ImageModelId =
  | "nai-diffusion-5-full"
  | "nai-diffusion-5-curated"
  | "nai-diffusion-4-5-full"
  | "nai-diffusion-4-5-curated"
  | "nai-diffusion-4-full"
  | "nai-diffusion-4-curated-preview"
  | "nai-diffusion-3"
  | "nai-diffusion-furry-3"
  | (string & {})

/**
 * The model an image call naming none uses: V4.5 Full, as in the SDK.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_IMAGE_MODEL = "nai-diffusion-4-5-full"

/**
 * The named sizes, `[width, height]`: NovelAI's normal, large, wallpaper and small presets.
 *
 * @since 0.1.0
 * @category constants
 */
export const SIZES = {
  portrait: [832, 1216],
  landscape: [1216, 832],
  square: [1024, 1024],
  large_portrait: [1024, 1536],
  large_landscape: [1536, 1024],
  large_square: [1472, 1472],
  wallpaper_portrait: [1088, 1920],
  wallpaper_landscape: [1920, 1088],
  small_portrait: [512, 768],
  small_landscape: [768, 512],
  small_square: [640, 640]
} as const

/**
 * A named size (a key of {@link SIZES}) or `[width, height]` in multiples of 64, at most 3,145,728
 * pixels.
 *
 * @since 0.1.0
 * @category models
 */
export type ImageSize = keyof typeof SIZES | readonly [number, number]

/**
 * The samplers NovelAI's image models take (`ddim_v3` on V3 only).
 *
 * @since 0.1.0
 * @category constants
 */
export const IMAGE_SAMPLERS = [
  "k_euler_ancestral",
  "k_euler",
  "k_dpmpp_2s_ancestral",
  "k_dpmpp_2m_sde",
  "k_dpmpp_2m",
  "k_dpmpp_sde",
  "ddim_v3"
] as const

/**
 * The noise schedules (`native` on V3 only; V5 takes `karras` only).
 *
 * @since 0.1.0
 * @category constants
 */
export const NOISE_SCHEDULES = ["karras", "exponential", "polyexponential", "native"] as const

/**
 * The undesired-content presets, in the SDK's names (`strong` is NovelAI's "heavy"; `heavy` is
 * accepted too). Which a model has: see the image guide.
 *
 * @since 0.1.0
 * @category constants
 */
export const UC_PRESETS = ["none", "light", "strong", "heavy", "furry_focus", "human_focus"] as const

/**
 * An image given to a call: bytes (a `Uint8Array`, a Node `Buffer`), an `ArrayBuffer`, or base64
 * text (a data URL's `data:image/png;base64,` prefix is dropped). A file path is never read.
 *
 * @since 0.1.0
 * @category models
 */
export type ImageInput = Uint8Array | ArrayBuffer | string

const BASE64 = /^(?:data:[\w/+.-]+;base64,)?[A-Za-z0-9+/\s]*={0,2}$/

const Image = Schema.declare(
  (u: unknown): u is ImageInput =>
    u instanceof Uint8Array ||
    u instanceof ArrayBuffer ||
    (typeof u === "string" && u.length > 0 && BASE64.test(u)),
  {
    identifier: "ImageInput",
    message: (issue) =>
      `must be an image: bytes (Uint8Array, Buffer), an ArrayBuffer or base64 text${typeof issue.actual === "string" ? " (a file path is not read: read the file and pass its bytes)" : ` (got ${issue.actual === null ? "null" : typeof issue.actual})`}`
  }
)

const Size = Schema.Union(
  Schema.Literal(...(Object.keys(SIZES) as Array<keyof typeof SIZES>)),
  Schema.Tuple(S.range(64, 16_384, { integer: true }), S.range(64, 16_384, { integer: true }))
).annotations({
  message: (issue) => ({
    message: `must be one of ${Object.keys(SIZES).join(", ")}, or [width, height] in multiples of 64 (got ${S.show(issue.actual)})`,
    override: true
  })
})

const GRID = /^[A-Ea-e][1-5]$/

/**
 * Where a character stands: a grid cell `"A1"`..`"E5"` (column A-E left to right, row 1-5 top to
 * bottom, each 0.1, 0.3, 0.5, 0.7, 0.9), or `[x, y]` in 0..1 (x left to right, y top to bottom).
 *
 * @since 0.1.0
 * @category models
 */
export type CharacterPosition = string | readonly [number, number]

const Position = Schema.Union(
  Schema.String.pipe(Schema.filter((s) => GRID.test(s))),
  Schema.Tuple(S.range(0, 1), S.range(0, 1))
).annotations({
  message: (issue) => ({
    message: `must be a grid cell "A1".."E5" or [x, y] with x and y from 0 to 1 (got ${S.show(issue.actual)})`,
    override: true
  })
})

/**
 * A character of a V4+ prompt: its own prompt and undesired content, placed at `position` (any
 * position given makes NovelAI place every character where it is told).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Character = Schema.Struct({
  prompt: S.string("a string"),
  negativePrompt: Schema.optional(S.string("a string")),
  position: Schema.optional(Position),
  /** Default true; a disabled character is not sent. */
  enabled: Schema.optional(S.boolean)
})

/**
 * A character of a V4+ prompt (see {@link Character}).
 *
 * @since 0.1.0
 * @category models
 */
export interface Character extends Schema.Schema.Type<typeof Character> {}

// Guidance by images (issue #24): vibes, the SDK's `controlnet`, character references.

/**
 * A vibe encoding made by `Image.encodeVibe` (`POST /ai/encode-vibe`): NovelAI's bytes, and the
 * model and information extracted it was made for. An encoding is for one model; re-using it costs
 * nothing.
 *
 * @since 0.1.0
 * @category models
 */
export interface VibeEncoding {
  readonly bytes: Uint8Array
  /** The model it was encoded for. */
  readonly model: string
  /** How much of the image it carries, 0 to 1. */
  readonly informationExtracted: number
}

/** Whether `u` is a {@link VibeEncoding}. */
const isVibeEncoding = (u: unknown): u is VibeEncoding =>
  typeof u === "object" &&
  u !== null &&
  (u as VibeEncoding).bytes instanceof Uint8Array &&
  typeof (u as VibeEncoding).model === "string" &&
  typeof (u as VibeEncoding).informationExtracted === "number"

const Encoding = Schema.declare(
  (u: unknown): u is VibeEncoding | ImageInput =>
    isVibeEncoding(u) ||
    u instanceof Uint8Array ||
    u instanceof ArrayBuffer ||
    (typeof u === "string" && u.length > 0 && BASE64.test(u)),
  {
    identifier: "VibeEncoding",
    message: () =>
      "must be a vibe encoding: what Image.encodeVibe returned, or its bytes (Uint8Array, ArrayBuffer) or base64 text"
  }
)

/**
 * The parameters of a vibe encoding: the image (a PNG), how much of it to extract (0 to 1, default
 * 1 as on NovelAI's site) and the model the encoding is for (default V4.5 Full; V4 and V4.5 take
 * encodings).
 *
 * @since 0.1.0
 * @category schemas
 */
export const EncodeVibeParams = Schema.Struct({
  image: Image,
  informationExtracted: Schema.optional(S.range(0, 1)),
  model: Schema.optional(S.nonEmptyString("a model id such as nai-diffusion-4-5-full"))
})

/**
 * The parameters of a vibe encoding (see {@link EncodeVibeParams}).
 *
 * @since 0.1.0
 * @category models
 */
export interface EncodeVibeParams extends Schema.Schema.Type<typeof EncodeVibeParams> {}

/**
 * One vibe of a generation (vibe transfer): an `encoding` (from `Image.encodeVibe`, free to re-use)
 * or an `image`, which the client encodes first (2 Anlas, once: the client keeps the encodings it
 * made). On V3 the `image` itself is sent, 448x448. `strength` default 0.6; `informationExtracted`
 * (for an image) default 1; `enabled: false` leaves it out.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Vibe = Schema.Struct({
  encoding: Schema.optional(Encoding),
  image: Schema.optional(Image),
  strength: Schema.optional(S.range(0, 1)),
  informationExtracted: Schema.optional(S.range(0, 1)),
  enabled: Schema.optional(S.boolean)
})

/**
 * One vibe of a generation (see {@link Vibe}).
 *
 * @since 0.1.0
 * @category models
 */
export interface Vibe extends Schema.Schema.Type<typeof Vibe> {}

/**
 * The SDK's name for vibe transfer: `images` (each `infoExtracted` default 0.7, `strength` default
 * 0.6) and an overall `strength` (default 1, sent as `controlnet_strength`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ControlNet = Schema.Struct({
  images: Schema.Array(
    Schema.Struct({
      image: Image,
      infoExtracted: Schema.optional(S.range(0, 1)),
      strength: Schema.optional(S.range(0, 1))
    })
  ),
  strength: Schema.optional(S.range(0, 1))
})

/**
 * The SDK's vibe transfer (see {@link ControlNet}).
 *
 * @since 0.1.0
 * @category models
 */
export interface ControlNet extends Schema.Schema.Type<typeof ControlNet> {}

/**
 * What a character reference carries over: the character, the style, or both (the default).
 *
 * @since 0.1.0
 * @category constants
 */
export const CHARACTER_REFERENCE_TYPES = ["character", "style", "character&style"] as const

/**
 * A character reference (V4.5; "Precise Reference" on NovelAI's site): a PNG of 1024x1536,
 * 1536x1024 or 1472x1472, what it carries over (`type`, default `character&style`), `fidelity` 0 to
 * 1 (default 0.75) and `strength` 0 to 1 (default 1). 5 Anlas per reference per image.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CharacterReference = Schema.Struct({
  image: Image,
  type: Schema.optional(Schema.Literal(...CHARACTER_REFERENCE_TYPES)),
  fidelity: Schema.optional(S.range(0, 1)),
  strength: Schema.optional(S.range(0, 1))
})

/**
 * A character reference (see {@link CharacterReference}).
 *
 * @since 0.1.0
 * @category models
 */
export interface CharacterReference extends Schema.Schema.Type<typeof CharacterReference> {}

const fields = {
  /** What to draw. The model's quality tags are appended unless `quality: false`. */
  prompt: S.string("a string"),
  /** Default `nai-diffusion-4-5-full`. */
  model: Schema.optional(S.nonEmptyString("a model id such as nai-diffusion-4-5-full")),
  /** A named size or `[width, height]`; default `portrait` (832x1216). */
  size: Schema.optional(Size),
  /** What to keep out; the `ucPreset`'s text is put before it. */
  negativePrompt: Schema.optional(S.string("a string")),
  /** Append the model's quality tags to the prompt; default true. */
  quality: Schema.optional(S.boolean),
  /** The undesired-content preset put before `negativePrompt`; default `light`. */
  ucPreset: Schema.optional(Schema.Literal(...UC_PRESETS)),
  /** Default 23. */
  steps: Schema.optional(S.range(1, 50, { integer: true })),
  /** Prompt guidance; default the model's (V5 7, V4.5 5, V4 5.5, V3 5, Furry V3 6.2). */
  scale: Schema.optional(S.range(0, 10)),
  /** Default `k_euler_ancestral`. */
  sampler: Schema.optional(Schema.Literal(...IMAGE_SAMPLERS)),
  /** Default `karras`. */
  noiseSchedule: Schema.optional(Schema.Literal(...NOISE_SCHEDULES)),
  /** 0 to 4,294,967,295; random when absent (the seed used is returned). Sample i uses seed + i. */
  seed: Schema.optional(S.range(0, 4_294_967_295, { integer: true })),
  /** Images in one request, 1 to 8, fewer for large sizes (8 up to 360,448 px, 6 up to 409,600, else 4). */
  nSamples: Schema.optional(S.range(1, 8, { integer: true })),
  /** 0 to 1; default 0. */
  cfgRescale: Schema.optional(S.range(0, 1)),
  /** Variety Boost (guidance skipped at high noise); not on V5. */
  varietyBoost: Schema.optional(S.boolean),
  /** Characters placed in the picture (V4 and later: up to 6, V5 up to 32). */
  characters: Schema.optional(Schema.Array(Character)),
  /** A source image (PNG at the size asked for): image to image, or with `mask` inpainting. */
  image: Schema.optional(Image),
  /** How much of the source image is redrawn, 0.01 to 0.99 (img2img, default 0.7); with a mask 0.01 to 1 (default 1). */
  strength: Schema.optional(S.range(0.01, 1)),
  /** Noise added to the source image, 0 to 0.99 (img2img, default 0). */
  noise: Schema.optional(S.range(0, 0.99)),
  /** Inpainting mask (PNG at the full size, white = repaint); needs `image`. */
  mask: Schema.optional(Image),
  /** Vibe transfer (V4, V4.5; V3 with 448x448 images): at most 16, not with a mask or character references. */
  vibes: Schema.optional(Schema.Array(Vibe)),
  /** The SDK's name for `vibes` (give one or the other). */
  controlnet: Schema.optional(ControlNet),
  /** Character references (V4.5 only, inpainting too): at most 16. */
  characterReferences: Schema.optional(Schema.Array(CharacterReference)),
  /** Fields NovelAI takes that the library does not know yet, merged into the wire's `parameters`. */
  extraBody: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })).pipe(
    // Encoded under a name of its own: the image body merges it into `parameters` itself.
    Schema.fromKey("extraParameters")
  )
}

/**
 * The parameters of an image generation. Each is checked before anything is sent (a refusal is an
 * `InvalidRequestError` naming the field), then turned into the body NovelAI's own site sends for
 * the model (see the image guide).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ImageGenerateParams = Schema.Struct(fields)

/**
 * The parameters of an image generation (see {@link ImageGenerateParams}).
 *
 * @since 0.1.0
 * @category models
 */
export interface ImageGenerateParams extends Schema.Schema.Type<typeof ImageGenerateParams> {}

/**
 * The parameters of a streamed image generation: those of {@link ImageGenerateParams}, and the
 * wire format (`msgpack`, the default, or `sse`), which does not change the events.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ImageGenerateStreamParams = Schema.Struct({
  ...fields,
  stream: Schema.optional(Schema.Literal("msgpack", "sse"))
})

/**
 * The parameters of a streamed image generation (see {@link ImageGenerateStreamParams}).
 *
 * @since 0.1.0
 * @category models
 */
export interface ImageGenerateStreamParams extends Schema.Schema.Type<typeof ImageGenerateStreamParams> {}

/**
 * One generated image: its bytes, MIME type, index in the request and seed.
 *
 * @since 0.1.0
 * @category models
 */
export interface GeneratedImage {
  readonly bytes: Uint8Array
  /** `image/png` (or `image/webp`). */
  readonly mimeType: string
  /** Its sample index, 0-based. */
  readonly index: number
  /** The seed it was made with: the request's seed + index. */
  readonly seed: number
}

/**
 * A whole image generation: the images in sample order, and the request's seed.
 *
 * @since 0.1.0
 * @category models
 */
export interface ImageGeneration {
  readonly images: ReadonlyArray<GeneratedImage>
  /** The seed sent (the one given, or the one drawn for the call). */
  readonly seed: number
  /** The model id sent. */
  readonly model: string
  readonly width: number
  readonly height: number
}

/**
 * A preview of one sample at one step of a streamed generation. The names are the wire's.
 *
 * @since 0.1.0
 * @category models
 */
export interface ImageIntermediateEvent {
  readonly event_type: "intermediate"
  readonly samp_ix: number
  /** The step, 0-based. */
  readonly step_ix: number
  readonly gen_id: string | number | undefined
  readonly sigma: number
  /** The preview's bytes (JPEG or PNG, as NovelAI sends it). */
  readonly image: Uint8Array
}

/**
 * The finished image of one sample of a streamed generation.
 *
 * @since 0.1.0
 * @category models
 */
export interface ImageFinalEvent {
  readonly event_type: "final"
  readonly samp_ix: number
  readonly gen_id: string | number | undefined
  /** The image's bytes (PNG). */
  readonly image: Uint8Array
  /** The seed it was made with: the request's seed + `samp_ix`. */
  readonly seed: number
}

/**
 * An event of a streamed image generation: previews, then each sample's final image.
 *
 * @since 0.1.0
 * @category models
 */
export type ImageStreamEvent = ImageIntermediateEvent | ImageFinalEvent

/**
 * The parameters of a tag suggestion: the fragment being typed (`prompt`), the model whose tags are
 * suggested (default V4.5 Full), and the language (`en`, or `jp` for Japanese tags).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SuggestTagsParams = Schema.Struct({
  prompt: S.nonEmptyString("prompt"),
  model: Schema.optional(Schema.String),
  language: Schema.optional(Schema.Literal("en", "jp")).pipe(Schema.fromKey("lang"))
})

/**
 * The parameters of a tag suggestion.
 *
 * @since 0.1.0
 * @category models
 */
export interface SuggestTagsParams extends Schema.Schema.Type<typeof SuggestTagsParams> {}

/**
 * One suggested tag: the tag, how many images carry it, and how confident the suggestion is (0..1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SuggestedTag = Schema.Struct({
  tag: Schema.String,
  count: Schema.Number,
  confidence: Schema.Number
})

/**
 * One suggested tag.
 *
 * @since 0.1.0
 * @category models
 */
export interface SuggestedTag extends Schema.Schema.Type<typeof SuggestedTag> {}
