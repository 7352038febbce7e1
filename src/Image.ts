/**
 * NovelAI's image generation (NovelAI Diffusion) as accessors that take the
 * {@link NovelAIClient.NovelAIClient} from the context: `yield* Image.generate({ prompt })`; what a
 * call will cost in Anlas ({@link cost}), and what NovelAI embeds in its PNGs ({@link readMetadata}).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ImageFinalEvent, ImageInput, ImageStreamEvent } from "./ImageGeneration.js"
import type { UpscaleParams } from "./ImageTools.js"
import * as Client from "./internal/client.js"
import * as Family from "./internal/core/family.js"
import { loadFflate } from "./internal/core/zip.js"
import * as Cost from "./internal/image/cost.js"
import * as Metadata from "./internal/image/metadata.js"
import { type CallOptions, NovelAIClient } from "./NovelAIClient.js"

type Accessors = Family.Accessors<Client.Families["image"], NovelAIClient>

const accessors: Accessors = Family.makeAccessors(
  NovelAIClient,
  (client) => client.image,
  Client.families.image
)

/**
 * A whole image generation: each image's bytes (PNG), MIME type, index and seed, and the seed the
 * request used (drawn for the call when none was given). Parameters are checked before anything
 * is sent; a refusal is an `InvalidRequestError` naming the field.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Image } from "effect-novelai"
 *
 * const program = Effect.gen(function* () {
 *   const { images, seed } = yield* Image.generate({ prompt: "1girl, cat ears", size: "portrait" })
 *   return { png: images[0]!.bytes, seed }
 * })
 * ```
 */
export const generate: Accessors["generate"] = accessors.generate

/**
 * A streamed image generation: `intermediate` previews step by step, then each sample's `final`
 * image, as bytes. Interrupting the stream closes the request; a stream that ends before every
 * sample's final image fails with `StreamTruncatedError`, and an error frame with a `ServerError`.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Image } from "effect-novelai"
 *
 * const progress = Image.generateStream({ prompt: "a lighthouse at dusk", steps: 28 }).pipe(
 *   Stream.runForEach((event) =>
 *     Effect.log(event.event_type === "intermediate" ? `step ${event.step_ix}` : `sample ${event.samp_ix} done`)
 *   )
 * )
 * ```
 */
export const generateStream: Accessors["generateStream"] = accessors.generateStream

/**
 * Tags NovelAI suggests for the fragment being typed (`GET /ai/generate-image/suggest-tags`), with
 * how many images carry each and the suggestion's confidence; free. `model` (default V4.5 Full) and
 * `language` (`en` or `jp`) beside the call options.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Image } from "effect-novelai"
 *
 * const program = Effect.map(Image.suggestTags("cat e"), (tags) => tags.map((t) => `${t.tag} (${t.count})`))
 * ```
 */
export const suggestTags = (
  prompt: string,
  options?: {
    readonly model?: string | undefined
    readonly language?: "en" | "jp" | undefined
  } & CallOptions
): ReturnType<Accessors["suggestTags"]> => {
  const { model, language, ...call } = options ?? {}
  return accessors.suggestTags(
    { prompt, ...(model !== undefined ? { model } : {}), ...(language !== undefined ? { language } : {}) },
    Object.keys(call).length === 0 ? undefined : call
  )
}

/**
 * A director tool (`POST /ai/augment-image`) on a PNG: `lineart`, `sketch`, `colorize` (optional
 * `prompt`, `defry` 0 to 5), `emotion` (one of `ImageTools.EMOTIONS`, optional `prompt`, `level`
 * 0 to 5), `declutter`, `declutter-keep-bubbles` or `bg-removal` (three images: `masked`,
 * `generated`, `blend`). The image is sent at its own size, at most 3,143,728 pixels: a larger one
 * is refused before anything is sent (this library does not resize). Priced by {@link cost}
 * (`{ tool, size }`): free on Opus up to 1 MP, except `bg-removal`.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Image } from "effect-novelai"
 *
 * const smile = (png: Uint8Array) =>
 *   Effect.map(Image.augment({ tool: "emotion", image: png, emotion: "happy", level: 1 }), (result) =>
 *     result.tool === "bg-removal" ? result.blend : result.image
 *   )
 * ```
 */
export const augment: Accessors["augment"] = accessors.augment

/**
 * The ×2 upscaler (`POST /ai/upscale`): a PNG of at most 3,145,728 pixels, twice as wide and high.
 * `model` `nai-diffusion-5-curated` (the default) or `nai-diffusion-5-full`, beside the call
 * options. Costs 1 to 4 Anlas by the input's area, on every tier.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Image } from "effect-novelai"
 *
 * const program = (png: Uint8Array) =>
 *   Effect.map(Image.upscale(png), ({ image, width, height }) => ({ image, size: `${width}x${height}` }))
 * ```
 */
export const upscale = (
  image: ImageInput,
  options?: { readonly model?: UpscaleParams["model"] } & CallOptions
): ReturnType<Accessors["upscale"]> => {
  const { model, ...call } = options ?? {}
  return accessors.upscale(
    { image, ...(model !== undefined ? { model } : {}) },
    Object.keys(call).length === 0 ? undefined : call
  )
}

/**
 * An image's vibe encoding for a model (`POST /ai/encode-vibe`, 2 Anlas): its bytes, with the model
 * and `informationExtracted` (0 to 1, default 1) it was made for, to give as `vibes: [{ encoding }]`
 * to generations on that model, where re-using it is free. `model` defaults to V4.5 Full; V4 and
 * V4.5 take encodings (V3 takes vibe images as they are, V5 no vibes). A vibe given as an `image`
 * is encoded this way by the client itself, once: the client keeps the encodings it made. The call
 * options (`maxAnlas`, `freeOnly`, `timeout`, ...) go beside `model`.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Image } from "effect-novelai"
 *
 * const program = (style: Uint8Array) =>
 *   Effect.gen(function* () {
 *     const encoding = yield* Image.encodeVibe(style, { informationExtracted: 0.8 })
 *     // Each generation re-uses the encoding for free.
 *     return yield* Effect.forEach(["1girl, forest", "1girl, beach"], (prompt) =>
 *       Image.generate({ prompt, vibes: [{ encoding, strength: 0.6 }] })
 *     )
 *   })
 * ```
 */
export const encodeVibe = (
  image: ImageInput,
  options?: {
    readonly informationExtracted?: number | undefined
    readonly model?: string | undefined
  } & CallOptions
): ReturnType<Accessors["encodeVibe"]> => {
  const { informationExtracted, model, ...call } = options ?? {}
  return accessors.encodeVibe(
    {
      image,
      ...(informationExtracted !== undefined ? { informationExtracted } : {}),
      ...(model !== undefined ? { model } : {})
    },
    Object.keys(call).length === 0 ? undefined : call
  )
}

/**
 * Only the final images of a stream, dropping the previews.
 *
 * @since 0.1.0
 * @category streams
 */
export const finals = <E, R>(
  stream: Stream.Stream<ImageStreamEvent, E, R>
): Stream.Stream<ImageFinalEvent, E, R> =>
  Stream.filterMap(stream, (event) => (event.event_type === "final" ? Option.some(event) : Option.none()))

export type {
  /**
   * The account a price is for: `{ tier }` (an active subscription of that tier), or the
   * `Account.subscription()` answer for the exact price.
   *
   * @since 0.1.0
   * @category cost
   */
  CostAccount,
  /**
   * An estimated price: `anlas`, whether it is `free`, the `parts` it adds up from and why.
   *
   * @since 0.1.0
   * @category cost
   */
  CostEstimate,
  /**
   * One part of a price: its reason, its Anlas and a sentence for people.
   *
   * @since 0.1.0
   * @category cost
   */
  CostPart,
  /**
   * What {@link cost} prices: a generation's parameters, a director tool (`tool`), an upscale
   * (`kind: "upscale"`) or a vibe encoding (`kind: "encode-vibe"`).
   *
   * @since 0.1.0
   * @category cost
   */
  CostRequest
} from "./internal/image/cost.js"

/**
 * The Anlas a call will cost, computed here before anything is sent (NovelAI has no price
 * endpoint) with the formulas of NovelAI's own site: size, steps, samples, img2img strength, V3's
 * SMEA, V5's factor and usage battery, vibes and character references, Opus's free rule, director
 * tools and upscales. `{ tier }` alone means an active subscription of that tier; the
 * `Account.subscription()` answer gives the exact price, and `affordable` against its balance.
 *
 * @since 0.1.0
 * @category cost
 * @example
 * ```ts
 * import { Image } from "effect-novelai"
 *
 * const opus = Image.cost({ prompt: "1girl", size: "portrait", steps: 28 }, { tier: 3 })
 * console.log(opus.anlas, opus.free) // 0 true: Opus's free rule
 * const scroll = Image.cost({ prompt: "1girl", size: "portrait", steps: 28, nSamples: 4 }, { tier: 2 })
 * console.log(scroll.anlas) // 80
 * ```
 */
export const cost: (request: Cost.CostRequest, account: Cost.CostAccount) => Cost.CostEstimate = Cost.cost

export {
  /**
   * What NovelAI embedded in one of its PNGs: prompt, negative prompt, seed, source, parameters.
   *
   * @since 0.1.0
   * @category metadata
   */
  ImageMetadata,
  /**
   * Bytes that are not a whole, sound PNG, or NovelAI metadata of the wrong shape (`reason`).
   *
   * @since 0.1.0
   * @category metadata
   */
  ImageMetadataError
} from "./internal/image/metadata.js"

/**
 * What NovelAI embedded in a PNG it generated: `Option.some` of its prompt, negative prompt, seed,
 * model source, parameters and characters; `Option.none()` for a PNG NovelAI did not make. The text
 * chunks are read, then the copy NovelAI hides in the alpha channel (what is left when a site strips
 * the chunks). Bytes that are not a sound PNG fail with an `ImageMetadataError`; the work is bounded
 * by the input's length. Needs no client.
 *
 * @since 0.1.0
 * @category metadata
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Image } from "effect-novelai"
 *
 * const seedOf = (png: Uint8Array) =>
 *   Image.readMetadata(png).pipe(Effect.map(Option.flatMap((meta) => Option.fromNullable(meta.seed))))
 * ```
 */
export const readMetadata = (
  bytes: Uint8Array
): Effect.Effect<Option.Option<Metadata.ImageMetadata>, Metadata.ImageMetadataError> =>
  Effect.flatMap(Effect.promise(loadFflate), (flate) => Metadata.readMetadata(bytes, flate))
