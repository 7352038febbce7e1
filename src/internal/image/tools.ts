/**
 * The image tools as endpoints of the image family: the director tools (`POST /ai/augment-image`,
 * IMAGE-WIRE.md §9) and the ×2 upscaler (`POST /ai/upscale`, §11). Both answer a ZIP of PNGs, are
 * paid (never retried once taken), priced by `cost.ts` and run in the image slot: NovelAI's one
 * generation per account is not documented to spare them, so a client never runs one beside a
 * generation of its own.
 */
import * as Either from "effect/Either"
import * as Errors from "../../Errors.js"
import {
  type AugmentedImage,
  AugmentParams,
  type AugmentResult,
  type BackgroundRemoval,
  type DirectorTool,
  MAX_AUGMENT_PIXELS,
  MAX_UPSCALE_PIXELS,
  UPSCALE_MODELS,
  type UpscaledImage,
  UpscaleParams
} from "../../ImageTools.js"
import type { ArchiveEndpoint, ModelRegistry, Pricing } from "../core/endpoint.js"
import type { Resolved } from "../core/options.js"
import { COMMON_HINTS } from "../core/params.js"
import type { ZipEntry } from "../core/zip.js"
import { imageOf, pngSize } from "./bytes.js"
import { augmentSize, type CostRequest, cost } from "./cost.js"
import { models } from "./models.js"

type Wire = Record<string, unknown>

const ENTRY = /^image_(\d+)\.png$/

const refuse = (name: string, field: string, message: string) =>
  Either.left(
    new Errors.InvalidRequestError({ message: `${name}: ${field} ${message}`, endpoint: name, field })
  )

const decodeError = (name: string, message: string) =>
  new Errors.ResponseDecodeError({ message: `${name}: ${message}`, endpoint: name })

const pixels = (n: number) => n.toLocaleString("en-US")

/** The input image as base64 and its size, or the refusal naming `image`: not a PNG, or too large. */
const inputImage = (
  name: string,
  input: unknown,
  limit: number,
  advice: (width: number, height: number) => string
): Either.Either<{ base64: string; width: number; height: number }, Errors.InvalidRequestError> => {
  const { base64, head } = imageOf(input as Uint8Array | ArrayBuffer | string)
  const size = pngSize(head)
  if (size === undefined || size.width === 0 || size.height === 0)
    return refuse(name, "image", "must be a PNG image (its first bytes are not a PNG's)")
  const area = size.width * size.height
  if (area > limit)
    return refuse(
      name,
      "image",
      `must be at most ${pixels(limit)} pixels (got ${size.width}x${size.height} = ${pixels(area)}): ${advice(size.width, size.height)}`
    )
  return Either.right({ base64, width: size.width, height: size.height })
}

/** The size of a PNG given as a call's `image`, for its price; undefined when it is not one. */
const sizeOf = (params: unknown): readonly [number, number] | undefined => {
  const image = (params as { image?: unknown } | null)?.image
  if (!(image instanceof Uint8Array || image instanceof ArrayBuffer || typeof image === "string"))
    return undefined
  const size = pngSize(imageOf(image).head)
  return size === undefined ? undefined : [size.width, size.height]
}

/** A call's price by `cost.ts`; with no account known, as for one no free rule covers. */
const priced =
  (request: (params: unknown, size: readonly [number, number]) => CostRequest): Pricing =>
  (params, account) => {
    // The parameters are checked before a call is priced: the image is a PNG.
    const estimate = cost(request(params, sizeOf(params) ?? [0, 0]), account ?? { tier: 0 })
    return {
      anlas: estimate.anlas,
      free: estimate.free,
      detail: estimate.parts.map((part) => part.detail).join("; ")
    }
  }

/**
 * The wire body of a director tool, from its encoded parameters (`req_type`, the image as given);
 * the command line checks its arguments with it too.
 */
export const augmentBody = (name: string, wire: Wire): Either.Either<Wire, Errors.InvalidRequestError> =>
  Either.gen(function* () {
    const tool = wire.req_type as DirectorTool
    const image = yield* inputImage(name, wire.image, MAX_AUGMENT_PIXELS, (width, height) => {
      const [w, h] = augmentSize([width, height])
      return `scale it down to about ${w}x${h} first, as NovelAI's site does (this library does not resize images)`
    })
    const body: Wire = {
      req_type: tool,
      width: image.width,
      height: image.height,
      image: image.base64
    }
    const extra = typeof wire.prompt === "string" ? wire.prompt : ""
    if (tool === "emotion") {
      if (wire.level !== undefined && wire.defry !== undefined && wire.level !== wire.defry)
        return yield* refuse(name, "level", "and defry are the same setting: give one of them")
      body.prompt = `${wire.emotion as string};;${extra}`
      body.defry = wire.level ?? wire.defry ?? 0
    } else if (tool === "colorize") {
      body.prompt = extra
      body.defry = wire.defry ?? 0
    }
    body.use_new_shared_trial = true
    return body
  })

/** The wire body of an upscale, from its encoded parameters (the model already defaulted). */
export const upscaleBody = (name: string, wire: Wire): Either.Either<Wire, Errors.InvalidRequestError> =>
  Either.map(
    inputImage(
      name,
      wire.image,
      MAX_UPSCALE_PIXELS,
      () => "the upscaler takes images up to that size (its answer is twice as wide and high)"
    ),
    (image) => ({ image: image.base64, model: wire.model ?? UPSCALE_MODELS[0], declared_blur_sigma: 0 })
  )

/** The images of an archive, in the order of their names' indexes. */
const pngsOf = (entries: ReadonlyArray<ZipEntry>): Array<Uint8Array> =>
  entries
    .map((entry) => ({ index: Number(ENTRY.exec(entry.name)![1]), bytes: entry.bytes }))
    .sort((a, b) => a.index - b.index)
    .map((entry) => entry.bytes)

const decodeAugment =
  (name: string) =>
  (entries: ReadonlyArray<ZipEntry>, sent: Wire): Either.Either<AugmentResult, Errors.NovelAIError> => {
    const images = pngsOf(entries)
    const tool = sent.req_type as DirectorTool
    const size = { width: sent.width as number, height: sent.height as number }
    if (tool === "bg-removal") {
      if (images.length < 3)
        return Either.left(
          decodeError(
            name,
            `bg-removal answered ${images.length} images, not its three (masked, generated, blend)`
          )
        )
      const [masked, generated, blend] = images as [Uint8Array, Uint8Array, Uint8Array]
      const result: BackgroundRemoval = {
        tool,
        masked,
        generated,
        blend,
        images: [masked, generated, blend],
        ...size
      }
      return Either.right(result)
    }
    if (images.length === 0) return Either.left(decodeError(name, "the answer held no image"))
    const result: AugmentedImage = { tool, image: images[0]!, images: [images[0]!], ...size }
    return Either.right(result)
  }

const decodeUpscale =
  (name: string) =>
  (entries: ReadonlyArray<ZipEntry>, sent: Wire): Either.Either<UpscaledImage, Errors.NovelAIError> => {
    const [image] = pngsOf(entries)
    if (image === undefined) return Either.left(decodeError(name, "the answer held no image"))
    const size = pngSize(image)
    if (size === undefined) return Either.left(decodeError(name, "the answer's image_0.png is not a PNG"))
    return Either.right({ image, width: size.width, height: size.height, model: sent.model as string })
  }

/** The director tools name no model: the registry only keeps other families' models out. */
const toolModels: ModelRegistry<unknown> = { ...models, defaultModel: () => "director-tools" }

/** The upscaler's model, by default V5 Curated as on NovelAI's site. */
const upscaleModels: ModelRegistry<unknown> = { ...models, defaultModel: () => UPSCALE_MODELS[0] }

const common = {
  host: "image",
  method: "POST",
  slot: "image",
  paid: true,
  keep: (entry: string) => ENTRY.test(entry)
} as const

/** `POST /ai/augment-image`: a director tool, answered by a ZIP of one PNG (three for `bg-removal`). */
export const augment: ArchiveEndpoint<AugmentParams, AugmentResult, Resolved> = {
  ...common,
  name: "image.augment",
  operation: "image_augment",
  path: "/ai/augment-image",
  params: AugmentParams,
  models: toolModels,
  hints: {
    ...COMMON_HINTS,
    req_type: "the director tool is tool here",
    model: "director tools take no model",
    width: "the size is read from the image",
    height: "the size is read from the image",
    strength: "the director tools' strength is defry (colorize) or level (emotion)"
  },
  body: () => augmentBody,
  price: priced((params, size) => ({ tool: (params as { tool: string }).tool, size })),
  decode: decodeAugment
}

/** `POST /ai/upscale`: the ×2 upscaler, answered by a ZIP of one PNG twice the size. */
export const upscale: ArchiveEndpoint<UpscaleParams, UpscaledImage, Resolved> = {
  ...common,
  name: "image.upscale",
  operation: "image_upscale",
  path: "/ai/upscale",
  params: UpscaleParams,
  models: upscaleModels,
  hints: {
    ...COMMON_HINTS,
    scale: "the upscaler always doubles the size",
    width: "the upscaler reads the size from the image",
    height: "the upscaler reads the size from the image"
  },
  body: () => upscaleBody,
  price: priced((_, size) => ({ kind: "upscale", size })),
  decode: decodeUpscale
}
