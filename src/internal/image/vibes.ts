/**
 * Guidance by images (IMAGE-WIRE.md §4.4, §10): `POST /ai/encode-vibe`, the vibes and character
 * references of a generation as the body carries them, and the client's cache of the encodings it
 * made, so that an image given as a vibe is encoded (and paid for) once.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Errors from "../../Errors.js"
import {
  type CharacterReference,
  DEFAULT_IMAGE_MODEL,
  EncodeVibeParams,
  type ImageGenerateStreamParams,
  type ImageInput,
  type Vibe,
  type VibeEncoding
} from "../../ImageGeneration.js"
import type { ArchiveEndpoint, Completion, Pricing } from "../core/endpoint.js"
import type { Runner } from "../core/family.js"
import type { Resolved } from "../core/options.js"
import { cleanBase64, imageOf, pngSize, toBase64 } from "./bytes.js"
import { cost } from "./cost.js"
import { ALIASES, type ImageModel, modelOf, models } from "./models.js"

/** The most vibes, and character references, one generation takes (NovelAI's site). */
export const MAX_VIBES = 16
export const MAX_CHARACTER_REFERENCES = 16

/** NovelAI's site's defaults. */
const VIBE_STRENGTH = 0.6
const INFORMATION_EXTRACTED = 1
/** The SDK's default for `controlnet.images[].infoExtracted`. */
const SDK_INFORMATION_EXTRACTED = 0.7
const REFERENCE_FIDELITY = 0.75
const REFERENCE_STRENGTH = 1

/** The size V3 takes vibe images at (NovelAI's site letterboxes them to it). */
const V3_VIBE_SIZE = 448
/** The sizes a character reference is sent at, by aspect (NovelAI's site letterboxes to the nearest). */
const REFERENCE_SIZES = {
  portrait: [1024, 1536],
  landscape: [1536, 1024],
  square: [1472, 1472]
} as const

/** How many encodings a client keeps. */
export const VIBE_CACHE_SIZE = 64

type Wire = Record<string, unknown>

const refuse = (name: string, field: string, message: string) =>
  Either.left(
    new Errors.InvalidRequestError({ message: `${name}: ${field} ${message}`, endpoint: name, field })
  )

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const isImage = (u: unknown): u is ImageInput =>
  u instanceof Uint8Array || u instanceof ArrayBuffer || typeof u === "string"

const isEncoding = (u: unknown): u is VibeEncoding =>
  isRecord(u) && u.bytes instanceof Uint8Array && typeof u.model === "string"

/** The id NovelAI knows a model by (the SDK's two wrong ids mapped). */
const idOf = (model: string): string => ALIASES[model] ?? model

// ---------------------------------------------------------------------------------------------
// The cache

/**
 * A 53-bit hash of text (cyrb53): the image's base64, so that the same image given as bytes or as
 * base64 is one key. Not cryptographic: a cache key, with its length and the model beside it.
 */
const hash = (text: string): string => {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)
}

/** The cache key of an image encoded for `model` at `informationExtracted`. */
export const vibeKey = (base64: string, model: string, informationExtracted: number): string =>
  `${idOf(model)}|${informationExtracted}|${base64.length}|${hash(base64)}`

/** The encodings one client made, the least recently used dropped past `capacity`. */
export interface VibeCache {
  readonly get: (key: string) => VibeEncoding | undefined
  readonly set: (key: string, encoding: VibeEncoding) => void
  readonly size: () => number
}

export const makeVibeCache = (capacity: number = VIBE_CACHE_SIZE): VibeCache => {
  const entries = new Map<string, VibeEncoding>()
  return {
    get: (key) => {
      const found = entries.get(key)
      if (found !== undefined) {
        // A Map keeps insertion order: moved to the end, it is the most recently used.
        entries.delete(key)
        entries.set(key, found)
      }
      return found
    },
    set: (key, encoding) => {
      entries.delete(key)
      entries.set(key, encoding)
      while (entries.size > capacity) entries.delete(entries.keys().next().value!)
    },
    size: () => entries.size
  }
}

// ---------------------------------------------------------------------------------------------
// The generation's body

/**
 * A vibe given as an image on V4+, in a checked body: encoded (or found in the client's cache)
 * once the budget has passed, then replaced by the encoding's base64. Never sent as it is.
 */
export class PendingVibe {
  constructor(
    readonly base64: string,
    readonly model: string,
    readonly informationExtracted: number
  ) {}
  get key(): string {
    return vibeKey(this.base64, this.model, this.informationExtracted)
  }
}

interface GivenVibe {
  readonly field: string
  readonly encoding: unknown
  readonly image: unknown
  readonly strength: number
  readonly informationExtracted: number | undefined
}

/** The vibes of a generation, from `vibes` or the SDK's `controlnet`, enabled ones only. */
const givenVibes = (params: ImageGenerateStreamParams): ReadonlyArray<GivenVibe> => {
  if (params.controlnet !== undefined) {
    return params.controlnet.images.map((image, i) => ({
      field: `controlnet.images[${i}]`,
      encoding: undefined,
      image: image.image,
      strength: image.strength ?? VIBE_STRENGTH,
      informationExtracted: image.infoExtracted ?? SDK_INFORMATION_EXTRACTED
    }))
  }
  return (params.vibes ?? []).flatMap((vibe: Vibe, i) =>
    vibe.enabled === false
      ? []
      : [
          {
            field: `vibes[${i}]`,
            encoding: vibe.encoding,
            image: vibe.image,
            strength: vibe.strength ?? VIBE_STRENGTH,
            informationExtracted: vibe.informationExtracted
          }
        ]
  )
}

const generationName = (model: ImageModel): string =>
  model.generation === "v3"
    ? "V3"
    : model.generation === "v4"
      ? "V4"
      : model.generation === "v4.5"
        ? "V4.5"
        : "V5"

/** A PNG's size, or the refusal of an image that is not a PNG. */
const pngOf = (name: string, field: string, input: ImageInput) => {
  const { base64, head } = imageOf(input)
  const size = pngSize(head)
  if (size === undefined) return refuse(name, field, "must be a PNG image (its first bytes are not a PNG's)")
  return Either.right({ base64, ...size })
}

/** The encoding's base64, checked to be for `id`. */
const encodingOf = (
  name: string,
  field: string,
  encoding: unknown,
  id: string
): Either.Either<string, Errors.InvalidRequestError> => {
  if (isEncoding(encoding)) {
    if (idOf(encoding.model) !== id) {
      return refuse(
        name,
        field,
        `was encoded for ${encoding.model}, not ${id}: an encoding is for one model; encode the image for ${id}`
      )
    }
    return Either.right(toBase64(encoding.bytes))
  }
  if (typeof encoding === "string") return Either.right(cleanBase64(encoding))
  const bytes = encoding instanceof Uint8Array ? encoding : new Uint8Array(encoding as ArrayBuffer)
  return Either.right(toBase64(bytes))
}

/**
 * The `parameters` fields of a generation's vibes and character references, checked against what
 * the model takes (IMAGE-WIRE.md §3, §4.4, §6): vibes on V4 and V4.5 as encodings (images given
 * are left as {@link PendingVibe}s), on V3 as 448x448 images; none on V5, with a mask or with
 * character references; character references on V4.5 only, at one of its three sizes.
 */
export const guidanceFields = (
  name: string,
  params: ImageGenerateStreamParams,
  caps: ImageModel,
  id: string,
  infill: boolean
): Either.Either<Wire, Errors.InvalidRequestError> =>
  Either.gen(function* () {
    const out: Wire = {}
    if (params.vibes !== undefined && params.controlnet !== undefined) {
      return yield* refuse(name, "controlnet", "is the SDK's name for vibes: give one or the other, not both")
    }
    const vibes = givenVibes(params)
    const references = params.characterReferences ?? []
    const vibeField = params.controlnet !== undefined ? "controlnet" : "vibes"

    if (vibes.length > 0) {
      if (vibes.length > MAX_VIBES) {
        return yield* refuse(name, vibeField, `must be at most ${MAX_VIBES} (got ${vibes.length})`)
      }
      if (caps.generation === "v5") {
        return yield* refuse(
          name,
          vibeField,
          `are not available on ${id}: V5 models take no vibe transfer (use a V4.5, V4 or V3 model)`
        )
      }
      if (infill) {
        return yield* refuse(
          name,
          vibeField,
          "are not used with a mask: NovelAI's site drops vibes for inpainting (give no mask, or no vibes)"
        )
      }
      if (references.length > 0) {
        return yield* refuse(
          name,
          vibeField,
          "cannot go with characterReferences: NovelAI's site drops vibes when character references are given"
        )
      }
      const images: Array<string | PendingVibe> = []
      const extracted: Array<number> = []
      for (const vibe of vibes) {
        if (caps.generation === "v3") {
          // V3 takes the image itself, with how much of it to extract.
          if (vibe.image === undefined) {
            return yield* refuse(
              name,
              `${vibe.field}.image`,
              `is needed on ${id}: V3 models take the image itself, not an encoding`
            )
          }
          const png = yield* pngOf(name, `${vibe.field}.image`, vibe.image as ImageInput)
          if (png.width !== V3_VIBE_SIZE || png.height !== V3_VIBE_SIZE) {
            return yield* refuse(
              name,
              `${vibe.field}.image`,
              `must be ${V3_VIBE_SIZE}x${V3_VIBE_SIZE} on ${id} (got ${png.width}x${png.height}): V3 takes vibe images at that size (NovelAI's site letterboxes them to it); the library does not resize images`
            )
          }
          images.push(png.base64)
          extracted.push(vibe.informationExtracted ?? INFORMATION_EXTRACTED)
        } else if (vibe.encoding !== undefined) {
          images.push(yield* encodingOf(name, `${vibe.field}.encoding`, vibe.encoding, id))
        } else if (vibe.image !== undefined) {
          const png = yield* pngOf(name, `${vibe.field}.image`, vibe.image as ImageInput)
          images.push(new PendingVibe(png.base64, id, vibe.informationExtracted ?? INFORMATION_EXTRACTED))
        } else {
          return yield* refuse(name, vibe.field, "needs an encoding (from Image.encodeVibe) or an image")
        }
      }
      out.reference_image_multiple = images
      out.reference_strength_multiple = vibes.map((vibe) => vibe.strength)
      // The encodings have it baked in: NovelAI's site sends it for V3's images only.
      if (caps.generation === "v3") out.reference_information_extracted_multiple = extracted
      if (params.controlnet?.strength !== undefined) out.controlnet_strength = params.controlnet.strength
    }

    if (references.length > 0) {
      if (caps.generation !== "v4.5") {
        return yield* refuse(
          name,
          "characterReferences",
          `are not available on ${id} (a ${generationName(caps)} model): NovelAI offers character references on V4.5 models only`
        )
      }
      if (references.length > MAX_CHARACTER_REFERENCES) {
        return yield* refuse(
          name,
          "characterReferences",
          `must be at most ${MAX_CHARACTER_REFERENCES} (got ${references.length})`
        )
      }
      const images: Array<string> = []
      for (const [i, reference] of references.entries()) {
        const field = `characterReferences[${i}].image`
        const png = yield* pngOf(name, field, reference.image)
        const ratio = png.width / png.height
        const [w, h] =
          ratio < 0.8
            ? REFERENCE_SIZES.portrait
            : ratio > 1.25
              ? REFERENCE_SIZES.landscape
              : REFERENCE_SIZES.square
        if (png.width !== w || png.height !== h) {
          return yield* refuse(
            name,
            field,
            `must be ${w}x${h} for an image of this aspect (got ${png.width}x${png.height}): character references are sent at 1024x1536, 1536x1024 or 1472x1472 (NovelAI's site letterboxes into the nearest by aspect); the library does not resize images`
          )
        }
        images.push(png.base64)
      }
      out.director_reference_images = images
      out.director_reference_descriptions = references.map((reference: CharacterReference) => ({
        caption: { base_caption: reference.type ?? "character&style", char_captions: [] },
        legacy_uc: false
      }))
      out.director_reference_information_extracted = references.map(() => 1)
      out.director_reference_strength_values = references.map((r) => r.strength ?? REFERENCE_STRENGTH)
      out.director_reference_secondary_strength_values = references.map(
        (r) => Math.round((1 - (r.fidelity ?? REFERENCE_FIDELITY)) * 1e6) / 1e6
      )
    }
    return out
  })

// ---------------------------------------------------------------------------------------------
// `POST /ai/encode-vibe`

/** The models an encoding may be made for: V4 and V4.5 (V3 takes images, V5 no vibes). */
const checkEncodeModel = (name: string, id: string): Either.Either<void, Errors.InvalidRequestError> => {
  const model = modelOf(id)
  if (model.generation === "v4" || model.generation === "v4.5") return Either.void
  return refuse(
    name,
    "model",
    model.generation === "v3"
      ? `${id} takes vibe images as they are (448x448), not encodings: give them as vibes: [{ image }]`
      : `${id} takes no vibe transfer (V5): encode for a V4.5 or V4 model`
  )
}

const price: Pricing = (_params, account) => {
  const estimate = cost({ kind: "encode-vibe" }, account ?? { tier: 0 })
  return {
    anlas: estimate.anlas,
    free: estimate.free,
    detail: estimate.parts.map((p) => p.detail).join("; ")
  }
}

/** `POST /ai/encode-vibe`: an image encoded for a model's vibe transfer, as raw bytes; 2 Anlas. */
export const encodeVibe: ArchiveEndpoint<EncodeVibeParams, VibeEncoding, Resolved> = {
  name: "image.encodeVibe",
  operation: "encode_vibe",
  host: "image",
  method: "POST",
  path: "/ai/encode-vibe",
  params: EncodeVibeParams,
  slot: "image",
  models,
  hints: {
    information_extracted: "did you mean informationExtracted? (parameters are camelCase here)",
    infoExtracted: "the image API calls it informationExtracted"
  },
  price,
  paid: true,
  raw: true,
  keep: () => true,
  body: () => (name, wire) => {
    const id = idOf((wire.model as string | undefined) ?? DEFAULT_IMAGE_MODEL)
    return Either.flatMap(checkEncodeModel(name, id), () =>
      Either.flatMap(pngOf(name, "image", wire.image as ImageInput), (png) =>
        Either.right({
          image: png.base64,
          information_extracted: (wire.informationExtracted as number | undefined) ?? INFORMATION_EXTRACTED,
          model: id
        })
      )
    )
  },
  decode: (name) => (entries, sent) => {
    const bytes = entries[0]?.bytes
    if (bytes === undefined || bytes.length === 0) {
      return Either.left(
        new Errors.ResponseDecodeError({ message: `${name}: the answer held no encoding`, endpoint: name })
      )
    }
    return Either.right({
      bytes,
      model: sent.model as string,
      informationExtracted: sent.information_extracted as number
    })
  }
}

// ---------------------------------------------------------------------------------------------
// The client's completion of a generation

/**
 * A generation's vibes, completed by the client (made once per client, with its cache): the
 * parameters priced with the images it has encodings for counted as encodings, then, once the
 * checks and the budget passed, each image still to encode encoded by the client's own
 * `encodeVibe` call (priced, budgeted, traced as any call, once per image: the second use of an
 * image is found in the cache).
 */
export const vibeCompletion = (runner: Runner<Resolved>, cache: VibeCache = makeVibeCache()): Completion => {
  const encode = runner.archive(encodeVibe)
  const cached = (image: unknown, model: string, informationExtracted: number) =>
    isImage(image) ? cache.get(vibeKey(imageOf(image).base64, model, informationExtracted)) : undefined
  return {
    params: (params) => {
      if (!isRecord(params)) return params
      const model = idOf(typeof params.model === "string" ? params.model : DEFAULT_IMAGE_MODEL)
      if (modelOf(model).generation === "v3") return params
      let changed = false
      const fill = (list: ReadonlyArray<unknown>, ieKey: string, ieDefault: number, keepImage: boolean) =>
        list.map((vibe: unknown) => {
          if (!isRecord(vibe) || vibe.encoding !== undefined || vibe.image === undefined) return vibe
          const ie = typeof vibe[ieKey] === "number" ? (vibe[ieKey] as number) : ieDefault
          const found = cached(vibe.image, model, ie)
          if (found === undefined) return vibe
          changed = true
          if (keepImage) return { ...vibe, encoding: found }
          const { image: _image, ...rest } = vibe
          return { ...rest, encoding: found }
        })
      if (Array.isArray(params.vibes)) {
        const vibes = fill(params.vibes, "informationExtracted", INFORMATION_EXTRACTED, false)
        return changed ? { ...params, vibes } : params
      }
      const controlnet = params.controlnet
      if (isRecord(controlnet) && Array.isArray(controlnet.images)) {
        // The SDK's images have no encoding: the one set here is for the price alone (the schema
        // drops a field it does not know), and the body finds the encoding in the cache again.
        const images = fill(controlnet.images, "infoExtracted", SDK_INFORMATION_EXTRACTED, true)
        return changed ? { ...params, controlnet: { ...controlnet, images } } : params
      }
      return params
    },
    wire: (_name, wire, options) => {
      const parameters = wire.parameters as Wire | undefined
      const images = parameters?.reference_image_multiple
      if (!Array.isArray(images) || !images.some((image) => image instanceof PendingVibe)) {
        return Effect.succeed(wire)
      }
      return Effect.map(
        // One at a time: the same image twice in one call is encoded once.
        Effect.forEach(images, (image: unknown) => {
          if (!(image instanceof PendingVibe)) return Effect.succeed(image as string)
          const key = image.key
          const found = cache.get(key)
          if (found !== undefined) return Effect.succeed(toBase64(found.bytes))
          return Effect.map(
            encode(
              { image: image.base64, informationExtracted: image.informationExtracted, model: image.model },
              options
            ),
            (encoding: VibeEncoding) => {
              cache.set(key, encoding)
              return toBase64(encoding.bytes)
            }
          )
        }),
        (encoded) => ({ ...wire, parameters: { ...parameters, reference_image_multiple: encoded } })
      )
    }
  }
}
