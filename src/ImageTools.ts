/**
 * NovelAI's image tools on the image host: the director tools (`POST /ai/augment-image`: line art,
 * sketch, colorize, emotion, declutter, background removal) and the ×2 upscaler (`POST
 * /ai/upscale`). Their parameters, checked before anything is sent, and their results.
 *
 * The input image is sent at its own size: this library has no image codec, so an image larger
 * than a tool takes is refused (with the size to scale it to) rather than resized.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { ImageGenerateParams } from "./ImageGeneration.js"
import * as S from "./internal/core/schema.js"

/**
 * The director tools, by NovelAI's own ids (`req_type`).
 *
 * @since 0.1.0
 * @category constants
 */
export const DIRECTOR_TOOLS = [
  "lineart",
  "sketch",
  "colorize",
  "emotion",
  "declutter",
  "declutter-keep-bubbles",
  "bg-removal"
] as const

/**
 * A director tool (see {@link DIRECTOR_TOOLS}).
 *
 * @since 0.1.0
 * @category models
 */
export type DirectorTool = (typeof DIRECTOR_TOOLS)[number]

/**
 * The 24 emotions the `emotion` tool takes, as NovelAI's site lists them.
 *
 * @since 0.1.0
 * @category constants
 */
export const EMOTIONS = [
  "neutral",
  "happy",
  "sad",
  "angry",
  "scared",
  "surprised",
  "tired",
  "excited",
  "nervous",
  "thinking",
  "confused",
  "shy",
  "disgusted",
  "smug",
  "bored",
  "laughing",
  "irritated",
  "aroused",
  "embarrassed",
  "worried",
  "love",
  "determined",
  "hurt",
  "playful"
] as const

/**
 * An emotion of the `emotion` tool (see {@link EMOTIONS}).
 *
 * @since 0.1.0
 * @category models
 */
export type Emotion = (typeof EMOTIONS)[number]

/**
 * The most pixels a director tool takes: NovelAI's site scales a larger image down to this area
 * (3,145,728 − 2,000) before sending it; this library refuses it instead.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_AUGMENT_PIXELS = 3_145_728 - 2000

/**
 * The most pixels the upscaler takes (its output is twice as wide and twice as high).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_UPSCALE_PIXELS = 3_145_728

/**
 * The models the upscaler takes (`model`), the first the default.
 *
 * @since 0.1.0
 * @category constants
 */
export const UPSCALE_MODELS = ["nai-diffusion-5-curated", "nai-diffusion-5-full"] as const

// The image schema of the generation parameters: bytes, an ArrayBuffer or base64 text.
const Image = ImageGenerateParams.fields.image.from

const tool = <T extends DirectorTool>(id: T) =>
  Schema.propertySignature(Schema.Literal(id)).pipe(Schema.fromKey("req_type"))

/** A field a tool does not take: giving it is refused, saying which tools do. */
const notTaken = (tool: DirectorTool, field: string, takenBy: string) =>
  Schema.optional(
    Schema.Never.annotations({ message: () => `is not taken by ${tool} (${field} is for ${takenBy})` })
  )

const defry = Schema.optional(S.range(0, 5, { integer: true }))

/** The fields of a tool that takes nothing but the image. */
const imageOnly = <T extends DirectorTool>(id: T) =>
  Schema.Struct({
    tool: tool(id),
    /** The picture, a PNG (bytes or base64), at most {@link MAX_AUGMENT_PIXELS} pixels. */
    image: Image,
    prompt: notTaken(id, "prompt", "colorize and emotion"),
    defry: notTaken(id, "defry", "colorize and emotion"),
    emotion: notTaken(id, "emotion", "the emotion tool"),
    level: notTaken(id, "level", "the emotion tool")
  })

/**
 * `lineart`: the picture as line art.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LineartParams = imageOnly("lineart")

/**
 * `sketch`: the picture as a pencil sketch.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SketchParams = imageOnly("sketch")

/**
 * `declutter`: the picture without text, speech bubbles and other clutter.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DeclutterParams = imageOnly("declutter")

/**
 * `declutter-keep-bubbles`: the picture without clutter, its speech bubbles kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DeclutterKeepBubblesParams = imageOnly("declutter-keep-bubbles")

/**
 * `bg-removal`: the subject cut out of its background; three images come back (see
 * {@link BackgroundRemoval}). Never free: 3 × the tool price + 5 Anlas.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BackgroundRemovalParams = imageOnly("bg-removal")

/**
 * `colorize`: the picture (line art, a sketch) coloured, guided by an optional `prompt`; `defry`
 * 0 to 5 (default 0) weakens the effect.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ColorizeParams = Schema.Struct({
  tool: tool("colorize"),
  image: Image,
  /** What to colour it like (tags, as in a generation's prompt); default none. */
  prompt: Schema.optional(S.string("a string")),
  /** 0 to 5, higher keeps more of the original; default 0. */
  defry,
  emotion: notTaken("colorize", "emotion", "the emotion tool"),
  level: notTaken("colorize", "level", "the emotion tool: colorize's strength is defry")
})

/**
 * `emotion`: the character's face changed to one of {@link EMOTIONS}, with an optional `prompt`
 * of extra tags (sent as `"<emotion>;;<prompt>"`). `level` 0 to 5 (NovelAI's site calls it the
 * emotion level; the wire's `defry`, which is taken too) weakens it; default 0, the strongest.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmotionParams = Schema.Struct({
  tool: tool("emotion"),
  image: Image,
  emotion: Schema.Literal(...EMOTIONS).annotations({
    message: (issue) => ({
      message: `must be one of ${EMOTIONS.join(", ")} (got ${S.show(issue.actual)})`,
      override: true
    })
  }),
  /** Extra tags for the new expression; default none. */
  prompt: Schema.optional(S.string("a string")),
  /** 0 to 5, higher is weaker; default 0. The same setting as `defry`: give one of them. */
  level: defry,
  /** The wire's name of `level`. */
  defry
})

/**
 * The parameters of a director tool: one schema per tool, told apart by `tool`. Each is checked
 * before anything is sent (a refusal is an `InvalidRequestError` naming the field), the image's
 * size included (at most {@link MAX_AUGMENT_PIXELS} pixels: it is sent as it is, never resized).
 *
 * @since 0.1.0
 * @category schemas
 */
export const AugmentParams = Schema.Union(
  LineartParams,
  SketchParams,
  ColorizeParams,
  EmotionParams,
  DeclutterParams,
  DeclutterKeepBubblesParams,
  BackgroundRemovalParams
)

/**
 * The parameters of a director tool (see {@link AugmentParams}).
 *
 * @since 0.1.0
 * @category models
 */
export type AugmentParams = Schema.Schema.Type<typeof AugmentParams>

/**
 * What a director tool other than `bg-removal` gives back: one PNG, at the input's size.
 *
 * @since 0.1.0
 * @category models
 */
export interface AugmentedImage {
  readonly tool: Exclude<DirectorTool, "bg-removal">
  /** The result's bytes (PNG). */
  readonly image: Uint8Array
  /** The image, as the only entry: `images[0]` is `image`. */
  readonly images: ReadonlyArray<Uint8Array>
  /** The size sent: the input image's. */
  readonly width: number
  readonly height: number
}

/**
 * What `bg-removal` gives back: three PNGs at the input's size.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackgroundRemoval {
  readonly tool: "bg-removal"
  /** The subject with its background masked out (NovelAI's `image_0.png`). */
  readonly masked: Uint8Array
  /** The generated image the cut is taken from (`image_1.png`). */
  readonly generated: Uint8Array
  /** The two blended (`image_2.png`). */
  readonly blend: Uint8Array
  /** `[masked, generated, blend]`, as the archive orders them. */
  readonly images: ReadonlyArray<Uint8Array>
  readonly width: number
  readonly height: number
}

/**
 * A director tool's result, told apart by `tool`.
 *
 * @since 0.1.0
 * @category models
 */
export type AugmentResult = AugmentedImage | BackgroundRemoval

/**
 * The parameters of an upscale: the image (a PNG, at most {@link MAX_UPSCALE_PIXELS} pixels) and
 * the model the upscaler runs as (`nai-diffusion-5-curated`, the default, or
 * `nai-diffusion-5-full`: the only two NovelAI takes).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpscaleParams = Schema.Struct({
  image: Image,
  model: Schema.optional(
    Schema.Literal(...UPSCALE_MODELS).annotations({
      message: (issue) => ({
        message: `must be ${UPSCALE_MODELS.join(" or ")}, the upscaler's models (got ${S.show(issue.actual)})`,
        override: true
      })
    })
  )
})

/**
 * The parameters of an upscale (see {@link UpscaleParams}).
 *
 * @since 0.1.0
 * @category models
 */
export interface UpscaleParams extends Schema.Schema.Type<typeof UpscaleParams> {}

/**
 * An upscaled image: twice as wide and twice as high as the input.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpscaledImage {
  /** The result's bytes (PNG; NovelAI keeps the source's metadata). */
  readonly image: Uint8Array
  readonly width: number
  readonly height: number
  /** The model id sent. */
  readonly model: string
}
