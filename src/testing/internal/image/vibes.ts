/**
 * The simulator's vibe transfer and character references (IMAGE-WIRE.md §4.4, §10, §15):
 * `POST /ai/encode-vibe` answers an encoding (raw bytes, `application/binary`) and charges 2 Anlas;
 * a generation's `reference_image_multiple` must hold encodings this simulator made for its model
 * (V4, V4.5), or 448x448 PNGs on V3, and none on V5; `director_reference_*` are for V4.5 only, at
 * one of their three sizes.
 */
import { createHash } from "node:crypto"
import type { Exchange, Routes } from "../exchange.js"
import { IMAGE_MODELS } from "./generate.js"

/** What an encoding starts with, so that a generation can tell the simulator's own. */
const MAGIC = Buffer.from("SIMVIBE1", "latin1")
const DIGEST = 32
/** An encoding's payload, as large as a small real one is in spirit (a real one: ~48 KB). */
const PAYLOAD = 4096

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const sha256 = (...parts: ReadonlyArray<string | Uint8Array>): Buffer => {
  const h = createHash("sha256")
  for (const part of parts) h.update(part)
  return h.digest()
}

/** The base model of an id: inpainting ids take what their base takes. */
const baseOf = (model: string) => model.replace(/-inpainting$/, "")

const generationOf = (model: string): "v3" | "v4" | "v4.5" | "v5" => {
  const base = baseOf(model)
  if (base.startsWith("nai-diffusion-5")) return "v5"
  if (base.startsWith("nai-diffusion-4-5")) return "v4.5"
  if (base.startsWith("nai-diffusion-4")) return "v4"
  return "v3"
}

/**
 * The encoding of `image` for `model`: the magic, the model, the information extracted, bytes
 * derived from a hash of all three, and a digest of everything before it. Deterministic: the same
 * image, model and value give the same bytes (NovelAI's are not; nothing may rely on either).
 */
const encodingOf = (image: string, model: string, extracted: number): Buffer => {
  const head = Buffer.concat([MAGIC, Buffer.from(`${model}\n${extracted}\n`, "utf8")])
  const blocks: Array<Buffer> = []
  let block = sha256(image, "\0", model, "\0", String(extracted))
  for (let n = 0; n < PAYLOAD / DIGEST; n++) {
    blocks.push(block)
    block = sha256(block)
  }
  const body = Buffer.concat([head, ...blocks])
  return Buffer.concat([body, sha256(body)])
}

/** The model an encoding this simulator made is for, or undefined for bytes it did not make. */
const encodedFor = (base64: unknown): string | undefined => {
  if (typeof base64 !== "string") return undefined
  const bytes = Buffer.from(base64, "base64")
  if (bytes.length <= MAGIC.length + DIGEST || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
    return undefined
  const body = bytes.subarray(0, bytes.length - DIGEST)
  if (!sha256(body).equals(bytes.subarray(bytes.length - DIGEST))) return undefined
  const end = body.indexOf(0x0a, MAGIC.length)
  return end < 0 ? undefined : body.subarray(MAGIC.length, end).toString("utf8")
}

/** A base64 PNG's size, or undefined when it is not one. */
const pngSize = (base64: unknown): { readonly width: number; readonly height: number } | undefined => {
  if (typeof base64 !== "string" || base64.length === 0) return undefined
  const bytes = Buffer.from(base64.slice(0, 32), "base64")
  if (
    bytes.length < 24 ||
    bytes.readUInt32BE(0) !== 0x89504e47 ||
    bytes.toString("latin1", 12, 16) !== "IHDR"
  )
    return undefined
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

/** `POST /ai/encode-vibe`: checked, charged 2 Anlas, answered with the encoding's bytes. */
export const handleEncodeVibe = async (routes: Routes, ex: Exchange): Promise<void> => {
  if (ex.method !== "POST") return ex.fail(404, `Cannot ${ex.method} ${ex.path}`)
  if (ex.badJson || !isRecord(ex.body)) return ex.fail(400, "Validation error: the body is not a JSON object")
  const { image, model, information_extracted: extracted } = ex.body
  if (typeof model !== "string" || !IMAGE_MODELS.has(model) || model.endsWith("-inpainting"))
    return ex.fail(400, `Validation error: model ${String(model)} doesn't exist`)
  const generation = generationOf(model)
  if (generation !== "v4" && generation !== "v4.5")
    return ex.fail(400, `Validation error: model ${model} does not take vibe encodings`)
  if (typeof extracted !== "number" || !(extracted >= 0 && extracted <= 1))
    return ex.fail(400, "Validation error: information_extracted must be a number from 0 to 1")
  if (pngSize(image) === undefined) return ex.fail(400, "Validation error: image must be a base64 PNG")
  if (routes.wallets.charge(ex.key, ex.tier, { kind: "encode-vibe" }) === undefined)
    return ex.fail(402, "Not enough Anlas")
  const encoding = encodingOf(image as string, model, extracted)
  ex.res.writeHead(200, { "content-type": "application/binary", "content-length": encoding.length })
  ex.res.end(encoding)
}

const REFERENCE_SIZES = ["1024x1536", "1536x1024", "1472x1472"]

/**
 * What a generation's vibes and character references add to its price (`vibes`, encoded, and
 * `characterReferences` as the client's cost reads them), or the 400 message that refuses them.
 */
export const checkGuidance = (
  model: string,
  p: Record<string, unknown>
):
  | {
      readonly vibes: ReadonlyArray<{ readonly encoding: true }>
      readonly characterReferences: ReadonlyArray<true>
    }
  | string => {
  const generation = generationOf(model)
  const list = (name: string): ReadonlyArray<unknown> | string | undefined => {
    const value = p[name]
    if (value === undefined || value === null) return undefined
    return Array.isArray(value) ? value : `${name} must be an array`
  }
  const vibes = list("reference_image_multiple")
  if (typeof vibes === "string") return vibes
  const strengths = list("reference_strength_multiple")
  if (typeof strengths === "string") return strengths
  const count = vibes?.length ?? 0
  if (count > 0) {
    if (generation === "v5") return `vibe transfer is not supported on model ${model}`
    if (count > 16) return "reference_image_multiple may hold at most 16 vibes"
    if ((strengths?.length ?? 0) !== count)
      return "reference_strength_multiple must have one strength per reference image"
    for (const [i, vibe] of vibes!.entries()) {
      if (generation === "v3") {
        const size = pngSize(vibe)
        if (size === undefined || size.width !== 448 || size.height !== 448)
          return `reference_image_multiple[${i}] must be a 448x448 PNG on ${model}`
      } else {
        const made = encodedFor(vibe)
        if (made === undefined) return `reference_image_multiple[${i}] is not a vibe encoding`
        if (made !== baseOf(model))
          return `reference_image_multiple[${i}] was encoded for ${made}, not ${model}`
      }
    }
    if (generation === "v3") {
      const extracted = list("reference_information_extracted_multiple")
      if (typeof extracted === "string") return extracted
      if ((extracted?.length ?? 0) !== count)
        return "reference_information_extracted_multiple must have one value per reference image"
    }
  }
  const references = list("director_reference_images")
  if (typeof references === "string") return references
  const refs = references?.length ?? 0
  if (refs > 0) {
    if (generation !== "v4.5") return `character references are not supported on model ${model}`
    if (refs > 16) return "director_reference_images may hold at most 16 images"
    for (const name of [
      "director_reference_descriptions",
      "director_reference_information_extracted",
      "director_reference_strength_values",
      "director_reference_secondary_strength_values"
    ]) {
      const values = list(name)
      if (typeof values === "string") return values
      if ((values?.length ?? 0) !== refs) return `${name} must have one entry per reference image`
    }
    for (const [i, image] of references!.entries()) {
      const size = pngSize(image)
      if (size === undefined || !REFERENCE_SIZES.includes(`${size.width}x${size.height}`))
        return `director_reference_images[${i}] must be a PNG of 1024x1536, 1536x1024 or 1472x1472`
    }
  }
  return {
    vibes: generation === "v3" ? [] : Array.from({ length: count }, () => ({ encoding: true as const })),
    characterReferences: Array.from({ length: refs }, () => true as const)
  }
}
