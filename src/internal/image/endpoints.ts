/**
 * NovelAI's image family (`/ai/generate-image*` on the image host): its endpoints as data, and the
 * operations the client, the accessors and the facade are made of.
 */

import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Errors from "../../Errors.js"
import {
  type GeneratedImage,
  ImageGenerateParams,
  ImageGenerateStreamParams,
  type ImageGeneration,
  type ImageStreamEvent,
  SuggestedTag,
  SuggestTagsParams,
  type VibeEncoding
} from "../../ImageGeneration.js"
import type { AugmentResult, UpscaledImage } from "../../ImageTools.js"
import { responseDecoder } from "../core/decode.js"
import type {
  ArchiveEndpoint,
  CallEndpoint,
  Completion,
  FrameStreamEndpoint,
  Pricing
} from "../core/endpoint.js"
import { archive, call, frames, type Runner } from "../core/family.js"
import type { Resolved } from "../core/options.js"
import { COMMON_HINTS } from "../core/params.js"
import type { ZipEntry } from "../core/zip.js"
import { fromBase64, toBase64 } from "./bytes.js"
import { type CostRequest, cost } from "./cost.js"
import { models } from "./models.js"
import * as Params from "./params.js"
import * as Tools from "./tools.js"
import { encodeVibe, makeVibeCache, type VibeCache, vibeCompletion } from "./vibes.js"

/**
 * The most bytes one frame of an image stream may have: one full-size PNG (a final) with room to
 * spare. A ZIP answer is bounded by `maxResponseBytes` (the image host's default: 128 MiB).
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024

/** Names of other APIs (and of the wire) brought to the image calls, and what they are here. */
export const IMAGE_HINTS: Readonly<Record<string, string>> = {
  ...COMMON_HINTS,
  input: "the image API calls it prompt",
  width: "give size: [width, height] (or a preset such as portrait)",
  height: "give size: [width, height] (or a preset such as portrait)",
  uc: "the image API calls it negativePrompt",
  n: "the image API calls it nSamples",
  reference_image_multiple: "give vibes: [{ encoding } or { image }] (the client encodes images)",
  director_reference_images: "give characterReferences: [{ image, type?, fidelity?, strength? }]"
}

/** A generation's price (`cost.ts`); with no account known, as for one no free rule covers. */
const price: Pricing = (params, account) => {
  const estimate = cost(params as CostRequest, account ?? { tier: 0 })
  return {
    anlas: estimate.anlas,
    free: estimate.free,
    detail: estimate.parts.map((part) => part.detail).join("; ")
  }
}

/** Each client's vibe encodings, one cache for its generations and streams (vibes.ts). */
const vibeCaches = new WeakMap<object, VibeCache>()

const vibesOf = (runner: Runner<Resolved>): Completion => {
  let cache = vibeCaches.get(runner)
  if (cache === undefined) {
    cache = makeVibeCache()
    vibeCaches.set(runner, cache)
  }
  return vibeCompletion(runner, cache)
}

const common = {
  host: "image",
  price,
  complete: vibesOf,
  slot: "image",
  models,
  hints: IMAGE_HINTS,
  operation: "image_generation"
} as const

const parametersOf = (sent: Record<string, unknown>) => sent.parameters as Record<string, unknown>

const seedAt = (seed: number, index: number) => (seed + index) % 4_294_967_296

const ENTRY = /^image_(\d+)\.(png|webp)$/

const decodeError = (name: string, message: string) =>
  new Errors.ResponseDecodeError({ message: `${name}: ${message}`, endpoint: name })

/** The images of a ZIP answer, in sample order, with their seeds (the request's seed + index). */
const decodeArchive =
  (name: string) =>
  (
    entries: ReadonlyArray<ZipEntry>,
    sent: Record<string, unknown>
  ): Either.Either<ImageGeneration, Errors.NovelAIError> => {
    const parameters = parametersOf(sent)
    const seed = parameters.seed as number
    const images: Array<GeneratedImage> = entries
      .map((entry) => {
        const [, index, ext] = ENTRY.exec(entry.name)!
        return {
          bytes: entry.bytes,
          mimeType: `image/${ext}`,
          index: Number(index),
          seed: seedAt(seed, Number(index))
        }
      })
      .sort((a, b) => a.index - b.index)
    if (images.length === 0) return Either.left(decodeError(name, "the answer held no image"))
    return Either.right({
      images,
      seed,
      model: sent.model as string,
      width: parameters.width as number,
      height: parameters.height as number
    })
  }

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const imageOf = (u: unknown): Uint8Array | undefined =>
  u instanceof Uint8Array ? u : typeof u === "string" ? fromBase64(u) : undefined

const index = (u: unknown): number | undefined =>
  typeof u === "number" && Number.isInteger(u) && u >= 0 ? u : undefined

/**
 * One stream frame (a msgpack map, or an SSE event's JSON) as an event: previews and finals keep
 * the wire's names, images as bytes; an error frame fails the stream with a ServerError naming the
 * sample; frames of other types carry nothing.
 */
const decodeFrame =
  (name: string) =>
  (
    frame: unknown,
    sent: Record<string, unknown>
  ): Either.Either<ImageStreamEvent | undefined, Errors.NovelAIError> => {
    if (!isRecord(frame)) return Either.left(decodeError(name, "a stream frame was not a map"))
    const type = frame.event_type
    const sample = index(frame.samp_ix) ?? 0
    if (type === "error") {
      const message = typeof frame.message === "string" ? frame.message : "the generation failed"
      return Either.left(
        new Errors.ServerError({ message: `${name}: sample ${sample} failed: ${message}`, endpoint: name })
      )
    }
    if (type !== "intermediate" && type !== "final") return Either.right(undefined)
    const image = imageOf(frame.image)
    if (image === undefined) return Either.left(decodeError(name, `a ${type} frame had no image`))
    const genId =
      typeof frame.gen_id === "string" || typeof frame.gen_id === "number" ? frame.gen_id : undefined
    if (type === "final") {
      return Either.right({
        event_type: "final",
        samp_ix: sample,
        gen_id: genId,
        image,
        seed: seedAt(parametersOf(sent).seed as number, sample)
      })
    }
    return Either.right({
      event_type: "intermediate",
      samp_ix: sample,
      step_ix: index(frame.step_ix) ?? 0,
      gen_id: genId,
      sigma: typeof frame.sigma === "number" ? frame.sigma : Number.NaN,
      image
    })
  }

/** `POST /ai/generate-image`: the images of one generation, as a ZIP of PNGs. */
export const generate: ArchiveEndpoint<ImageGenerateParams, ImageGeneration, Resolved> = {
  ...common,
  name: "image.generate",
  method: "POST",
  path: "/ai/generate-image",
  params: ImageGenerateParams,
  body: () => Params.body(),
  hints: { ...IMAGE_HINTS, stream: "streaming is chosen by the call: use generateStream" },
  paid: true,
  keep: (entry) => ENTRY.test(entry),
  decode: decodeArchive
}

/** `POST /ai/generate-image-stream`: previews step by step, then each sample's final image. */
export const generateStream: FrameStreamEndpoint<ImageGenerateStreamParams, ImageStreamEvent, Resolved> = {
  ...common,
  name: "image.generateStream",
  path: "/ai/generate-image-stream",
  params: ImageGenerateStreamParams,
  body: () => Params.body("msgpack"),
  accept: "application/msgpack, text/event-stream",
  frameLimit: MAX_FRAME_BYTES,
  paid: true,
  decode: decodeFrame,
  observe: (event, progress) => {
    if (event.event_type === "final") progress.finished.set(event.samp_ix, "final")
  },
  parts: (sent) => (parametersOf(sent).n_samples as number | undefined) ?? 1,
  ending: "before every sample's final image"
}

const NodeBuffer = (
  globalThis as { Buffer?: { from(buffer: ArrayBufferLike, offset: number, length: number): Uint8Array } }
).Buffer

/** Bytes as the facade gives them: a `Buffer` on Node (the same memory), else the `Uint8Array`. */
const facadeBytes = (bytes: Uint8Array): Uint8Array =>
  NodeBuffer === undefined ? bytes : NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/**
 * A streamed image event as the facade gives it: the image as base64 text, as the SDK documents
 * it (`Buffer.from(chunk.image, "base64")`).
 */
export type FacadeImageStreamEvent =
  | (Omit<Extract<ImageStreamEvent, { event_type: "intermediate" }>, "image"> & { readonly image: string })
  | (Omit<Extract<ImageStreamEvent, { event_type: "final" }>, "image"> & { readonly image: string })

/** NovelAI's image generation (NovelAI Diffusion). Every failure is a `NovelAIError`. */
const TagsWire = Schema.Struct({ tags: Schema.Array(SuggestedTag) })

/** `GET /ai/generate-image/suggest-tags`: tags for the fragment being typed. */
export const suggestTags: CallEndpoint<SuggestTagsParams, ReadonlyArray<SuggestedTag>, Resolved> = {
  name: "image.suggestTags",
  operation: "suggest_tags",
  host: "image",
  method: "GET",
  path: "/ai/generate-image/suggest-tags",
  params: SuggestTagsParams,
  slot: undefined,
  models,
  hints: IMAGE_HINTS,
  body: undefined,
  decode: responseDecoder(
    Schema.transform(TagsWire, Schema.Array(SuggestedTag), {
      strict: true,
      decode: (wire) => wire.tags,
      encode: (tags) => ({ tags })
    }),
    "tag suggestions"
  ),
  annotate: undefined
}

export const ImageFamily = {
  /** `POST /ai/generate-image`: the images (the facade: their bytes, `Buffer`s on Node). */
  generate: archive(
    generate,
    (result: ImageGeneration): Array<Uint8Array> => result.images.map((image) => facadeBytes(image.bytes))
  ),
  /** `POST /ai/generate-image-stream`: previews, then each final image (the facade: images as base64). */
  generateStream: frames(
    generateStream,
    (event: ImageStreamEvent): FacadeImageStreamEvent => ({ ...event, image: toBase64(event.image) })
  ),
  /** `GET /ai/generate-image/suggest-tags`: tags with counts and confidence; costs nothing. */
  suggestTags: call(suggestTags),
  /** `POST /ai/augment-image`: a director tool (the facade: the PNGs' bytes, `Buffer`s on Node). */
  augment: archive(Tools.augment, (result: AugmentResult) => result.images.map(facadeBytes)),
  /** `POST /ai/upscale`: the ×2 upscaler (the facade: the PNG's bytes, a `Buffer` on Node). */
  upscale: archive(Tools.upscale, (result: UpscaledImage): Uint8Array => facadeBytes(result.image)),
  /** `POST /ai/encode-vibe`: an image's vibe encoding for a model (the facade: its bytes a `Buffer` on Node); 2 Anlas. */
  encodeVibe: archive(
    encodeVibe,
    (encoding: VibeEncoding): VibeEncoding => ({ ...encoding, bytes: facadeBytes(encoding.bytes) })
  )
}
