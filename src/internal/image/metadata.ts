/**
 * What NovelAI embeds in the PNGs it generates (IMAGE-WIRE.md §14): the `Title`, `Description`
 * (the prompt), `Software`, `Source` (the model and its hash), `Generation time` and `Comment` (the
 * JSON of the applied parameters) text chunks, read from the bytes of a PNG.
 *
 * No PNG chunk library is installed (`png-chunks-extract` and `png-chunk-text` are not
 * dependencies, and the package's dependencies are fixed), so the chunks are read here: a small
 * reader of the chunk layout and of `tEXt`, `zTXt` and `iTXt` only, with no Node API. Its work is
 * bounded: declared lengths are checked against the bytes present, never allocated; CRCs are
 * checked on the chunks read; decompression (`fflate`, for `zTXt` and compressed `iTXt`) stops at
 * a fixed size. When the chunks show nothing of NovelAI's, the copy NovelAI hides in an RGBA
 * image's alpha channel (`nai_meta.py`) is looked for: the image data is inflated a line at a time,
 * two lines held, and dropped as soon as its first bits are not NovelAI's magic (about 120 lines);
 * images over 16,777,216 px are not searched.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { FlateStreamHandler } from "fflate"

/**
 * Why bytes could not be read as a PNG: not a PNG at all (`NotPng`; the message names what it
 * looks like), cut short (`Truncated`), damaged (`Corrupt`: a bad chunk, a CRC mismatch, broken
 * compressed text), text larger than the reader takes (`TooLarge`), or a NovelAI `Comment` whose
 * JSON is not the shape NovelAI writes (`InvalidMetadata`).
 *
 * @since 0.1.0
 * @category errors
 */
export class ImageMetadataError extends Data.TaggedError("ImageMetadataError")<{
  readonly reason: "NotPng" | "Truncated" | "Corrupt" | "TooLarge" | "InvalidMetadata"
  readonly message: string
}> {}

const Center = Schema.Struct({ x: Schema.Number, y: Schema.Number })

const CharCaption = Schema.Struct({
  char_caption: Schema.optional(Schema.String),
  centers: Schema.optional(Schema.Array(Center))
})

/**
 * `v4_prompt` / `v4_negative_prompt` as NovelAI records them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const V4PromptMetadata = Schema.Struct({
  caption: Schema.optional(
    Schema.Struct({
      base_caption: Schema.optional(Schema.String),
      char_captions: Schema.optional(Schema.Array(CharCaption))
    })
  ),
  use_coords: Schema.optional(Schema.Boolean),
  use_order: Schema.optional(Schema.Boolean),
  legacy_uc: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "effect-novelai/V4PromptMetadata" })

/**
 * The `Comment` chunk: the parameters NovelAI applied, under NovelAI's own names (the known ones
 * typed; any other field kept as it is). Director tools record only `req_type`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GenerationParameters = Schema.Struct(
  {
    prompt: Schema.optional(Schema.String),
    uc: Schema.optional(Schema.String),
    seed: Schema.optional(Schema.Number),
    steps: Schema.optional(Schema.Number),
    width: Schema.optional(Schema.Number),
    height: Schema.optional(Schema.Number),
    scale: Schema.optional(Schema.Number),
    n_samples: Schema.optional(Schema.Number),
    strength: Schema.optional(Schema.NullOr(Schema.Number)),
    noise: Schema.optional(Schema.NullOr(Schema.Number)),
    sampler: Schema.optional(Schema.String),
    noise_schedule: Schema.optional(Schema.String),
    cfg_rescale: Schema.optional(Schema.Number),
    uncond_scale: Schema.optional(Schema.Number),
    skip_cfg_above_sigma: Schema.optional(Schema.NullOr(Schema.Number)),
    v4_prompt: Schema.optional(V4PromptMetadata),
    v4_negative_prompt: Schema.optional(V4PromptMetadata),
    request_type: Schema.optional(Schema.String),
    req_type: Schema.optional(Schema.String),
    signed_hash: Schema.optional(Schema.String),
    model_name: Schema.optional(Schema.String),
    model_hash: Schema.optional(Schema.String)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
).annotations({ identifier: "effect-novelai/GenerationParameters" })

/**
 * The parameters of a `Comment` chunk, decoded.
 *
 * @since 0.1.0
 * @category schemas
 */
export type GenerationParameters = typeof GenerationParameters.Type

/**
 * One character of a V4+ generation, from the `v4_prompt` captions (and the negative ones at the
 * same index).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CharacterMetadata = Schema.Struct({
  prompt: Schema.String,
  negativePrompt: Schema.optional(Schema.String),
  centers: Schema.Array(Center)
}).annotations({ identifier: "effect-novelai/CharacterMetadata" })

/**
 * What a NovelAI PNG says about how it was made: the prompt and negative prompt, the seed, the
 * model's `source` (`"NovelAI Diffusion V4.5 4BDE2A90"`), the `parameters` of the `Comment` chunk
 * as NovelAI wrote them, the characters, the image's size, and every text chunk by keyword.
 *
 * @since 0.1.0
 * @category schemas
 */
export class ImageMetadata extends Schema.Class<ImageMetadata>("effect-novelai/ImageMetadata")({
  /** The prompt: `Comment.prompt`, else the V4 base caption, else `Description`. */
  prompt: Schema.optional(Schema.String),
  /** The undesired content: `Comment.uc`, else the V4 negative base caption. */
  negativePrompt: Schema.optional(Schema.String),
  seed: Schema.optional(Schema.Number),
  /** The model and its hash as NovelAI names it, e.g. `"NovelAI Diffusion V5 0ADF9AB7"`. */
  source: Schema.optional(Schema.String),
  /** The model id, when the parameters name it (V5). */
  model: Schema.optional(Schema.String),
  software: Schema.optional(Schema.String),
  title: Schema.optional(Schema.String),
  /** The `Generation time` chunk, as written. */
  generationTime: Schema.optional(Schema.String),
  /** `PromptGenerateRequest`, `Img2ImgRequest`, `NativeInfillingRequest`, or a director tool. */
  requestType: Schema.optional(Schema.String),
  characters: Schema.Array(CharacterMetadata),
  /** The image's size in pixels, from its header. */
  width: Schema.Number,
  height: Schema.Number,
  /** The `Comment` chunk's JSON, when it holds an object. */
  parameters: Schema.optional(GenerationParameters),
  /** Every text chunk, by keyword (the first of a repeated keyword). */
  text: Schema.Record({ key: Schema.String, value: Schema.String }),
  /**
   * Where it was read: the PNG's text chunks, or the stealth copy in the alpha channel's low bits
   * (what is left when a site stripped the chunks but kept the pixels).
   */
  origin: Schema.Literal("text-chunks", "alpha-channel")
}) {}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
/** Text of one chunk, once inflated: NovelAI's largest (vibe encodings in `Comment`) are about 1 MB. */
const MAX_CHUNK_TEXT = 8 * 1024 * 1024
/** Text of all chunks together. */
const MAX_TOTAL_TEXT = 16 * 1024 * 1024
/** A chunk's length field is at most 2^31 − 1 (PNG specification). */
const MAX_CHUNK_LENGTH = 0x7fffffff
/** Compressed text is inflated this many bytes at a time, so one step yields at most about 1 MB. */
const INFLATE_STEP = 1024

const fail = (reason: ImageMetadataError["reason"], message: string) =>
  Either.left(new ImageMetadataError({ reason, message }))

let crcTable: Uint32Array | undefined
const crc32 = (bytes: Uint8Array, from: number, to: number): number => {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      crcTable[n] = c >>> 0
    }
  }
  let crc = 0xffffffff
  for (let i = from; i < to; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

const u32 = (bytes: Uint8Array, at: number) =>
  ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0

const isLetter = (byte: number) => (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)

/** What the first bytes of something that is not a PNG show it to be. */
const lookalike = (bytes: Uint8Array): string => {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to))
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP")
    return "a WebP image (its metadata, in EXIF, is not read)"
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "a JPEG image"
  if (bytes.length >= 4 && ascii(0, 4) === "PK\u0003\u0004") return "a ZIP archive (unpack its images first)"
  if (bytes.length >= 6 && ascii(0, 3) === "GIF") return "a GIF image"
  if (bytes.length === 0) return "empty"
  return `${bytes.length} bytes without the PNG signature`
}

const latin1 = (bytes: Uint8Array): string => {
  let text = ""
  for (let i = 0; i < bytes.length; i += 8192)
    text += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 8192)))
  return text
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** `tEXt`/`zTXt` are Latin-1 by the specification, but some writers put UTF-8 there: take it when valid. */
const lenientText = (bytes: Uint8Array): string => {
  try {
    return utf8.decode(bytes)
  } catch {
    return latin1(bytes)
  }
}

type Decompressor = new (handler: FlateStreamHandler) => { push(chunk: Uint8Array, final?: boolean): void }

/**
 * The parts of `fflate` the reader inflates with, given by the caller: the public reader loads the
 * package only when a PNG is read, so a bundle that never reads one does not carry it.
 */
export interface Flate {
  readonly Unzlib: Decompressor
  readonly Gunzip: Decompressor
}

/** Inflates zlib (or, with `Gunzip`, gzip) data, stopping once the output would pass `limit`. */
const inflate = (
  data: Uint8Array,
  limit: number,
  Stream: Decompressor
): Uint8Array | "corrupt" | "tooLarge" => {
  const parts: Array<Uint8Array> = []
  let size = 0
  let over = false
  let ended = false
  const stream = new Stream((chunk, final) => {
    size += chunk.length
    if (size > limit) over = true
    else parts.push(chunk)
    if (final) ended = true
  })
  try {
    let at = 0
    do {
      const next = Math.min(data.length, at + INFLATE_STEP)
      stream.push(data.subarray(at, next), next === data.length)
      at = next
    } while (at < data.length && !over)
  } catch {
    return over ? "tooLarge" : "corrupt"
  }
  if (over) return "tooLarge"
  if (!ended) return "corrupt"
  const out = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

interface TextChunk {
  readonly keyword: string
  readonly text: string
}

/** Decodes one text chunk's data, or says why it cannot be. */
const textChunk = (
  type: string,
  data: Uint8Array,
  budget: number,
  flate: Flate
): Either.Either<TextChunk, ImageMetadataError> => {
  const nul = data.indexOf(0)
  if (nul < 1 || nul > 79) return fail("Corrupt", `a ${type} chunk has no valid keyword`)
  const keyword = latin1(data.subarray(0, nul))
  const limit = Math.min(MAX_CHUNK_TEXT, budget)
  const inflated = (compressed: Uint8Array) => {
    const out = inflate(compressed, limit, flate.Unzlib)
    if (out === "corrupt")
      return fail("Corrupt", `the compressed text of the ${type} chunk "${keyword}" is damaged`)
    if (out === "tooLarge")
      return fail("TooLarge", `the ${type} chunk "${keyword}" inflates to more than ${limit} bytes of text`)
    return Either.right(out)
  }
  const sized = (text: Uint8Array) =>
    text.length > limit
      ? fail("TooLarge", `the ${type} chunk "${keyword}" holds more than ${limit} bytes of text`)
      : Either.right(text)
  if (type === "tEXt")
    return Either.map(sized(data.subarray(nul + 1)), (text) => ({ keyword, text: lenientText(text) }))
  if (type === "zTXt") {
    if (data.length < nul + 2 || data[nul + 1] !== 0)
      return fail("Corrupt", `the zTXt chunk "${keyword}" names an unknown compression`)
    return Either.map(inflated(data.subarray(nul + 2)), (text) => ({ keyword, text: lenientText(text) }))
  }
  // iTXt: keyword, compression flag and method, language tag, translated keyword, UTF-8 text.
  if (data.length < nul + 3) return fail("Corrupt", `the iTXt chunk "${keyword}" is cut short`)
  const compressed = data[nul + 1]
  const method = data[nul + 2]
  const language = data.indexOf(0, nul + 3)
  const translated = language < 0 ? -1 : data.indexOf(0, language + 1)
  if (translated < 0 || (compressed !== 0 && compressed !== 1) || (compressed === 1 && method !== 0))
    return fail("Corrupt", `the iTXt chunk "${keyword}" is malformed`)
  const body = data.subarray(translated + 1)
  return Either.flatMap(compressed === 1 ? inflated(body) : sized(body), (text) => {
    try {
      return Either.right({ keyword, text: utf8.decode(text) })
    } catch {
      return fail("Corrupt", `the iTXt chunk "${keyword}" is not UTF-8`)
    }
  })
}

interface Png {
  readonly width: number
  readonly height: number
  readonly bitDepth: number
  readonly colorType: number
  readonly interlaced: boolean
  readonly texts: ReadonlyArray<TextChunk>
  /** The image data, as views of the input in order (never copied). */
  readonly idat: ReadonlyArray<Uint8Array>
}

const TEXT_TYPES = new Set(["tEXt", "zTXt", "iTXt"])

/** The chunks of a PNG: its header's size and its text, checked chunk by chunk up to `IEND`. */
/** The PNG's layout, and its text chunks when given `flate` to inflate the compressed ones. */
const readPng = (bytes: Uint8Array, flate: Flate | undefined): Either.Either<Png, ImageMetadataError> => {
  if (bytes.length < 8 || SIGNATURE.some((byte, i) => bytes[i] !== byte))
    return fail("NotPng", `not a PNG: ${lookalike(bytes)}`)
  const texts: Array<TextChunk> = []
  const idat: Array<Uint8Array> = []
  let budget = MAX_TOTAL_TEXT
  let width = 0
  let height = 0
  let bitDepth = 0
  let colorType = 0
  let interlaced = false
  const png = (): Png => ({ width, height, bitDepth, colorType, interlaced, texts, idat })
  let offset = 8
  let first = true
  for (;;) {
    if (offset + 8 > bytes.length)
      return fail(
        "Truncated",
        `the PNG ends after ${bytes.length} bytes, ${first ? "before its header" : "before its IEND chunk"}`
      )
    const length = u32(bytes, offset)
    const typeBytes = bytes.subarray(offset + 4, offset + 8)
    if (!typeBytes.every(isLetter)) return fail("Corrupt", `the PNG has a damaged chunk at byte ${offset}`)
    const type = latin1(typeBytes)
    if (length > MAX_CHUNK_LENGTH)
      return fail("Corrupt", `the ${type} chunk at byte ${offset} declares an impossible length (${length})`)
    const dataStart = offset + 8
    const dataEnd = dataStart + length
    if (dataEnd + 4 > bytes.length)
      return fail(
        "Truncated",
        `the PNG ends inside its ${type} chunk (${length} bytes declared at byte ${offset}, ${Math.max(0, bytes.length - dataStart)} present)`
      )
    if (first && (type !== "IHDR" || length !== 13))
      return fail("Corrupt", "the PNG does not start with its IHDR header")
    const checked = type === "IHDR" || (flate !== undefined && TEXT_TYPES.has(type))
    if (checked && crc32(bytes, offset + 4, dataEnd) !== u32(bytes, dataEnd))
      return fail("Corrupt", `the PNG's ${type} chunk at byte ${offset} fails its CRC check`)
    if (type === "IHDR" && first) {
      width = u32(bytes, dataStart)
      height = u32(bytes, dataStart + 4)
      if (width === 0 || height === 0) return fail("Corrupt", "the PNG's header gives a size of 0")
      bitDepth = bytes[dataStart + 8]!
      colorType = bytes[dataStart + 9]!
      interlaced = bytes[dataStart + 12] !== 0
      if (flate === undefined) return Either.right(png())
    } else if (type === "IDAT") {
      idat.push(bytes.subarray(dataStart, dataEnd))
    } else if (flate !== undefined && TEXT_TYPES.has(type)) {
      const chunk = textChunk(type, bytes.subarray(dataStart, dataEnd), budget, flate)
      if (Either.isLeft(chunk)) return Either.left(chunk.left)
      budget -= chunk.right.text.length
      texts.push(chunk.right)
    } else if (type === "IEND") {
      return Either.right(png())
    }
    first = false
    offset = dataEnd + 4
  }
}

/**
 * The width and height of a PNG, from its header (the first 33 bytes are enough): what
 * `augmentCost` and `upscaleCost` need for an image given as bytes.
 *
 * @since 0.1.0
 * @category metadata
 */
export const readPngSize = (
  bytes: Uint8Array
): Either.Either<readonly [width: number, height: number], ImageMetadataError> =>
  Either.map(readPng(bytes, undefined), (png): readonly [number, number] => [png.width, png.height])

/** What NovelAI's stealth copy starts with (`nai_meta.py`). */
const STEALTH_MAGIC = "stealth_pngcomp"
/** The alpha channel of larger images is not searched (NovelAI's largest, upscaled, is 12.6 Mpx). */
const MAX_STEALTH_PIXELS = 1 << 24
const PAETH = (a: number, b: number, c: number) => {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

/** Undoes a scanline's filter in place (4 bytes per pixel), given the previous, unfiltered line. */
const unfilter = (filter: number, line: Uint8Array, previous: Uint8Array): boolean => {
  const n = line.length
  switch (filter) {
    case 0:
      return true
    case 1:
      for (let i = 4; i < n; i++) line[i] = (line[i]! + line[i - 4]!) & 0xff
      return true
    case 2:
      for (let i = 0; i < n; i++) line[i] = (line[i]! + previous[i]!) & 0xff
      return true
    case 3:
      for (let i = 0; i < n; i++)
        line[i] = (line[i]! + (((i < 4 ? 0 : line[i - 4]!) + previous[i]!) >> 1)) & 0xff
      return true
    case 4:
      for (let i = 0; i < n; i++)
        line[i] =
          (line[i]! + PAETH(i < 4 ? 0 : line[i - 4]!, previous[i]!, i < 4 ? 0 : previous[i - 4]!)) & 0xff
      return true
    default:
      return false
  }
}

/**
 * The low bits of an RGBA image's alpha channel, column by column (the order NovelAI writes them
 * in), as bytes: the image data is inflated and unfiltered a line at a time, and abandoned as soon
 * as the first bits are not NovelAI's magic.
 */
const alphaBits = (png: Png, flate: Flate): Either.Either<Uint8Array | undefined, ImageMetadataError> => {
  const { width, height } = png
  const stride = 4 * width
  const bits = new Uint8Array(Math.ceil((width * height) / 8))
  const magicBits = STEALTH_MAGIC.length * 8
  const magicKnownAt = Math.min(height, magicBits)
  let line = new Uint8Array(stride)
  let previous = new Uint8Array(stride)
  let filter = -1
  let filled = 0
  let y = 0
  let abandoned = false
  let damaged = false
  const magicMatches = () => {
    for (let i = 0; i < Math.min(magicBits, width * height); i++)
      if (
        ((bits[i >> 3]! >> (7 - (i & 7))) & 1) !==
        ((STEALTH_MAGIC.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1)
      )
        return false
    return width * height >= magicBits
  }
  const onData: FlateStreamHandler = (chunk) => {
    let at = 0
    while (at < chunk.length && y < height && !abandoned && !damaged) {
      if (filter < 0) {
        filter = chunk[at++]!
        continue
      }
      const take = Math.min(stride - filled, chunk.length - at)
      line.set(chunk.subarray(at, at + take), filled)
      filled += take
      at += take
      if (filled < stride) continue
      if (!unfilter(filter, line, previous)) {
        damaged = true
        return
      }
      for (let x = 0; x < width; x++) {
        const i = x * height + y
        bits[i >> 3]! |= (line[4 * x + 3]! & 1) << (7 - (i & 7))
      }
      ;[previous, line] = [line, previous]
      filter = -1
      filled = 0
      y++
      if (y === magicKnownAt && !magicMatches()) abandoned = true
    }
  }
  const stream = new flate.Unzlib(onData)
  try {
    for (let c = 0; c < png.idat.length && y < height && !abandoned && !damaged; c++) {
      const data = png.idat[c]!
      for (let at = 0; at < data.length && y < height && !abandoned && !damaged; at += INFLATE_STEP) {
        const next = Math.min(data.length, at + INFLATE_STEP)
        stream.push(data.subarray(at, next), c === png.idat.length - 1 && next === data.length)
      }
    }
  } catch {
    damaged = true
  }
  if (abandoned) return Either.right(undefined)
  if (damaged || y < height) return fail("Corrupt", "the PNG's image data is damaged")
  return Either.right(magicMatches() ? bits : undefined)
}

/**
 * The stealth copy of the text chunks NovelAI hides in the alpha channel (it survives a re-encode
 * that drops the chunks, not a resize): after the magic, a 32-bit length in bits, then gzipped JSON
 * of the chunks by keyword. Undefined when the image has none; error correction data is not used.
 */
const readStealth = (
  png: Png,
  flate: Flate
): Either.Either<Record<string, string> | undefined, ImageMetadataError> => {
  if (
    png.colorType !== 6 ||
    png.bitDepth !== 8 ||
    png.interlaced ||
    png.width * png.height > MAX_STEALTH_PIXELS
  )
    return Either.right(undefined)
  return Either.flatMap(alphaBits(png, flate), (bytes) => {
    if (bytes === undefined) return Either.right(undefined)
    const start = STEALTH_MAGIC.length + 4
    const length = Math.floor(u32(bytes, STEALTH_MAGIC.length) / 8)
    if (start + length > bytes.length)
      return fail(
        "Corrupt",
        `the metadata hidden in the alpha channel declares ${length} bytes, more than the image holds`
      )
    const inflated = inflate(bytes.subarray(start, start + length), MAX_CHUNK_TEXT, flate.Gunzip)
    if (inflated === "tooLarge")
      return fail(
        "TooLarge",
        `the metadata hidden in the alpha channel inflates to more than ${MAX_CHUNK_TEXT} bytes`
      )
    if (inflated === "corrupt") return fail("Corrupt", "the metadata hidden in the alpha channel is damaged")
    // Other tools write the same magic with plain text (A1111's parameters): not NovelAI's.
    const json = parseObject(lenientText(inflated))
    if (json === undefined) return Either.right(undefined)
    const text: Record<string, string> = {}
    for (const [key, value] of Object.entries(json))
      text[key] = typeof value === "string" ? value : JSON.stringify(value)
    return Either.right(text)
  })
}

/** Keys only NovelAI's `Comment` JSON has. */
const NOVELAI_KEYS = ["signed_hash", "request_type", "req_type", "v4_prompt"]

const parseObject = (text: string | undefined): Record<string, unknown> | undefined => {
  if (text === undefined) return undefined
  try {
    const json: unknown = JSON.parse(text)
    return typeof json === "object" && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

const decodeParameters = Schema.decodeUnknownEither(GenerationParameters, { errors: "first" })

const optional = <K extends string, A>(key: K, value: A | null | undefined): { [P in K]?: A } =>
  (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: A }

const charactersOf = (parameters: GenerationParameters | undefined) => {
  const positive = parameters?.v4_prompt?.caption?.char_captions ?? []
  const negative = parameters?.v4_negative_prompt?.caption?.char_captions ?? []
  return positive.map((caption, i) => ({
    prompt: caption.char_caption ?? "",
    ...optional("negativePrompt", negative[i]?.char_caption),
    centers: caption.centers ?? []
  }))
}

/** Whether text chunks are NovelAI's: `Software: NovelAI`, or a `Comment` JSON with NovelAI's own keys. */
const byNovelAI = (text: Record<string, string>): boolean => {
  const comment = parseObject(text.Comment)
  return (
    text.Software?.toLowerCase().includes("novelai") === true ||
    (comment !== undefined && NOVELAI_KEYS.some((key) => key in comment))
  )
}

const metadataOf = (
  png: Png,
  text: Record<string, string>,
  origin: ImageMetadata["origin"]
): Either.Either<Option.Option<ImageMetadata>, ImageMetadataError> => {
  const comment = parseObject(text.Comment)
  const decoded = comment === undefined ? Either.right(undefined) : decodeParameters(comment)
  if (Either.isLeft(decoded)) {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
    const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`
    return fail(
      "InvalidMetadata",
      `the Comment chunk is not NovelAI's parameters${where}: ${issue?.message ?? "unexpected shape"}`
    )
  }
  const parameters = decoded.right
  return Either.right(
    Option.some(
      new ImageMetadata({
        ...optional(
          "prompt",
          parameters?.prompt ?? parameters?.v4_prompt?.caption?.base_caption ?? text.Description
        ),
        ...optional(
          "negativePrompt",
          parameters?.uc ?? parameters?.v4_negative_prompt?.caption?.base_caption
        ),
        ...optional("seed", parameters?.seed),
        ...optional("source", text.Source),
        ...optional("model", parameters?.model_name),
        ...optional("software", text.Software),
        ...optional("title", text.Title),
        ...optional("generationTime", text["Generation time"] ?? text.Generation_time),
        ...optional("requestType", parameters?.request_type ?? parameters?.req_type),
        characters: charactersOf(parameters),
        width: png.width,
        height: png.height,
        ...optional("parameters", parameters),
        text,
        origin
      })
    )
  )
}

/**
 * What NovelAI embedded in a PNG: `Option.some` of its {@link ImageMetadata}, `Option.none()` for a
 * PNG NovelAI did not make (no `Software: NovelAI` chunk and no NovelAI `Comment` JSON, in the text
 * chunks or in the copy NovelAI hides in an RGBA image's alpha channel), or an
 * {@link ImageMetadataError} for bytes that are not a whole, sound PNG. Never throws; the work is
 * bounded by the input's length. An `Either` is an `Effect` too: `yield* readMetadata(bytes)` in
 * `Effect.gen` fails with the error.
 *
 * @since 0.1.0
 * @category metadata
 * @example
 * ```ts
 * import { Either, Option } from "effect"
 *
 * const read = readMetadata(bytes)
 * if (Either.isRight(read) && Option.isSome(read.right)) console.log(read.right.value.seed)
 * ```
 */
export const readMetadata = (
  bytes: Uint8Array,
  flate: Flate
): Either.Either<Option.Option<ImageMetadata>, ImageMetadataError> =>
  Either.flatMap(readPng(bytes, flate), (png) => {
    const text: Record<string, string> = {}
    for (const chunk of png.texts) if (!(chunk.keyword in text)) text[chunk.keyword] = chunk.text
    if (byNovelAI(text)) return metadataOf(png, text, "text-chunks")
    return Either.flatMap(readStealth(png, flate), (hidden) =>
      hidden !== undefined && byNovelAI(hidden)
        ? metadataOf(png, hidden, "alpha-channel")
        : Either.right(Option.none())
    )
  })
