/**
 * Reading what NovelAI embeds in its PNGs (IMAGE-WIRE.md §14), from PNGs built here: the prompt,
 * seed, source and parameters come back typed; a PNG of another maker is none; anything that is
 * not a sound PNG is a typed error, quickly, whatever it declares.
 */
import { crc32 } from "node:zlib"
import { Effect, Either, Option } from "effect"
import fc from "fast-check"
import * as fflate from "fflate"
import { gzipSync, strToU8, zlibSync } from "fflate"
import { describe, expect, it } from "vitest"
import {
  type ImageMetadata,
  ImageMetadataError,
  readPngSize,
  readMetadata as readWith
} from "../../src/internal/image/metadata.js"

const readMetadata = (bytes: Uint8Array) => readWith(bytes, fflate)

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)

const concat = (...parts: ReadonlyArray<Uint8Array>) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

const u32 = (n: number) => {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n >>> 0)
  return out
}

/** A chunk with its length and CRC (computed by Node's zlib, independently of the reader). */
const chunk = (type: string, data: Uint8Array) => {
  const typed = concat(strToU8(type), data)
  return concat(u32(data.length), typed, u32(crc32(typed)))
}

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0))
const tEXt = (keyword: string, text: string, encode = latin1) =>
  chunk("tEXt", concat(latin1(keyword), Uint8Array.of(0), encode(text)))
const zTXt = (keyword: string, text: string) =>
  chunk("zTXt", concat(latin1(keyword), Uint8Array.of(0, 0), zlibSync(strToU8(text))))
const iTXt = (keyword: string, text: string, compressed = false) =>
  chunk(
    "iTXt",
    concat(
      latin1(keyword),
      Uint8Array.of(0, compressed ? 1 : 0, 0),
      latin1("en"),
      Uint8Array.of(0),
      Uint8Array.of(0),
      compressed ? zlibSync(strToU8(text)) : strToU8(text)
    )
  )

const ihdr = (width: number, height: number) =>
  chunk("IHDR", concat(u32(width), u32(height), Uint8Array.of(8, 6, 0, 0, 0)))
/** One transparent row per line, RGBA, filter 0: a decodable image. */
const idat = (width: number, height: number) =>
  chunk("IDAT", zlibSync(new Uint8Array(height * (1 + 4 * width))))
const iend = chunk("IEND", new Uint8Array(0))

const png = (width: number, height: number, ...text: ReadonlyArray<Uint8Array>) =>
  concat(SIGNATURE, ihdr(width, height), ...text, idat(width, height), iend)

/** A `Comment` as NovelAI writes it for a V4.5 generation with one character. */
const comment = {
  prompt: "1girl, cat ears, very aesthetic, masterpiece, no text",
  steps: 23,
  height: 1216,
  width: 832,
  scale: 5,
  uncond_scale: 0,
  cfg_rescale: 0,
  seed: 3141592653,
  n_samples: 1,
  noise_schedule: "karras",
  sampler: "k_euler_ancestral",
  v4_prompt: {
    caption: {
      base_caption: "1girl, cat ears, very aesthetic, masterpiece, no text",
      char_captions: [{ char_caption: "girl, red hair", centers: [{ x: 0.3, y: 0.5 }] }]
    },
    use_coords: true,
    use_order: true
  },
  v4_negative_prompt: {
    caption: {
      base_caption: "lowres, bad anatomy",
      char_captions: [{ char_caption: "blue hair", centers: [{ x: 0.3, y: 0.5 }] }]
    },
    legacy_uc: false
  },
  request_type: "PromptGenerateRequest",
  signed_hash: "c2lnbmVk",
  uc: "lowres, bad anatomy"
}

const novelaiChunks = (json: unknown = comment) => [
  tEXt("Title", "NovelAI generated image"),
  tEXt("Description", "1girl, cat ears"),
  tEXt("Software", "NovelAI"),
  tEXt("Source", "NovelAI Diffusion V4.5 4BDE2A90"),
  tEXt("Generation time", "4.21"),
  tEXt("Comment", JSON.stringify(json))
]

const metadataOf = (bytes: Uint8Array): ImageMetadata => {
  const read = readMetadata(bytes)
  if (Either.isLeft(read)) throw new Error(`expected metadata, got ${read.left.message}`)
  return Option.getOrThrow(read.right)
}

const errorOf = (bytes: Uint8Array): ImageMetadataError => {
  const read = readMetadata(bytes)
  if (Either.isRight(read)) throw new Error("expected an error")
  return read.left
}

describe("§14 NovelAI's PNG metadata", () => {
  it("§14: the prompt, undesired content, seed, source and parameters of a V4.5 image", () => {
    const metadata = metadataOf(png(832, 1216, ...novelaiChunks()))
    expect(metadata).toMatchObject({
      prompt: comment.prompt,
      negativePrompt: "lowres, bad anatomy",
      seed: 3141592653,
      source: "NovelAI Diffusion V4.5 4BDE2A90",
      software: "NovelAI",
      title: "NovelAI generated image",
      generationTime: "4.21",
      requestType: "PromptGenerateRequest",
      width: 832,
      height: 1216
    })
    expect(metadata.parameters?.steps).toBe(23)
    expect(metadata.parameters?.sampler).toBe("k_euler_ancestral")
    expect(metadata.text.Description).toBe("1girl, cat ears")
  })

  it("§14: characters come from the V4 captions, with their negative prompts and centers", () => {
    expect(metadataOf(png(832, 1216, ...novelaiChunks())).characters).toEqual([
      { prompt: "girl, red hair", negativePrompt: "blue hair", centers: [{ x: 0.3, y: 0.5 }] }
    ])
  })

  it("§14: V5's extra fields (model_name, tag_hint_*) are kept, and the model is named", () => {
    const v5 = { ...comment, model_name: "nai-diffusion-5-full", model_hash: "0ADF9AB7", tag_hint_qt: 1 }
    const metadata = metadataOf(png(64, 64, ...novelaiChunks(v5)))
    expect(metadata.model).toBe("nai-diffusion-5-full")
    expect(metadata.parameters?.tag_hint_qt).toBe(1)
  })

  it("§9: a director tool's PNG records only its req_type", () => {
    const metadata = metadataOf(
      png(64, 64, tEXt("Software", "NovelAI"), tEXt("Comment", '{"req_type":"bg-removal"}'))
    )
    expect(metadata.requestType).toBe("bg-removal")
    expect(metadata.prompt).toBeUndefined()
  })

  it("§14: without a Comment, the prompt is the Description", () => {
    const metadata = metadataOf(png(64, 64, tEXt("Software", "NovelAI"), tEXt("Description", "a cat")))
    expect(metadata.prompt).toBe("a cat")
    expect(metadata.parameters).toBeUndefined()
  })

  it("reads the Comment from zTXt and from compressed or plain iTXt, UTF-8 prompts included", () => {
    const unicode = { ...comment, prompt: "猫耳の少女, café" }
    for (const text of [
      zTXt("Comment", JSON.stringify(unicode)),
      iTXt("Comment", JSON.stringify(unicode), true),
      iTXt("Comment", JSON.stringify(unicode)),
      tEXt("Comment", JSON.stringify(unicode), strToU8)
    ])
      expect(metadataOf(png(64, 64, text)).prompt).toBe("猫耳の少女, café")
  })

  it("reads a Latin-1 tEXt as Latin-1", () => {
    const metadata = metadataOf(png(64, 64, tEXt("Software", "NovelAI"), tEXt("Description", "café")))
    expect(metadata.prompt).toBe("café")
  })

  it("the first of a repeated keyword wins", () => {
    const metadata = metadataOf(png(64, 64, ...novelaiChunks(), tEXt("Source", "something else")))
    expect(metadata.source).toBe("NovelAI Diffusion V4.5 4BDE2A90")
  })
})

describe("a PNG without NovelAI's metadata is none", () => {
  it("a PNG with no text at all", () => {
    expect(readMetadata(png(16, 16))).toEqual(Either.right(Option.none()))
  })

  it("a PNG of another maker (GIMP's Comment, A1111's parameters)", () => {
    const other = png(16, 16, tEXt("Comment", "Created with GIMP"), tEXt("parameters", "a cat\nSteps: 20"))
    expect(readMetadata(other)).toEqual(Either.right(Option.none()))
    const json = png(16, 16, tEXt("Comment", '{"prompt":"a cat"}'))
    expect(readMetadata(json)).toEqual(Either.right(Option.none()))
  })
})

describe("anything else is a typed error, never a throw", () => {
  const good = png(832, 1216, ...novelaiChunks())

  it.each([
    ["empty", new Uint8Array(0), "empty"],
    ["JPEG", Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 0x10), "JPEG"],
    ["WebP", concat(latin1("RIFF"), u32(100), latin1("WEBPVP8L")), "WebP"],
    ["ZIP", concat(latin1("PK\u0003\u0004"), new Uint8Array(20)), "ZIP"],
    ["text", strToU8('{"images":[]}'), "without the PNG signature"]
  ])("%s is not a PNG", (_, bytes, says) => {
    const error = errorOf(bytes)
    expect(error).toBeInstanceOf(ImageMetadataError)
    expect(error.reason).toBe("NotPng")
    expect(error.message).toContain(says)
  })

  it("a PNG cut at any byte is Truncated (or Corrupt), never metadata and never a throw", () => {
    for (let length = 0; length < good.length; length += length < 200 ? 1 : 97) {
      const read = readMetadata(good.subarray(0, length))
      expect(Either.isLeft(read)).toBe(true)
      if (Either.isLeft(read)) expect(["NotPng", "Truncated", "Corrupt"]).toContain(read.left.reason)
    }
    expect(errorOf(good.subarray(0, good.length - 12)).message).toContain("before its IEND chunk")
  })

  it("any damage to a NovelAI PNG gives metadata, none or a typed error, never a throw", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ at: fc.nat({ max: good.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }),
          {
            minLength: 1,
            maxLength: 8
          }
        ),
        fc.nat({ max: good.length }),
        (flips, cut) => {
          const bytes = good.slice(0, Math.max(cut, good.length - 64))
          for (const { at, byte } of flips) if (at < bytes.length) bytes[at] = byte
          const read = readMetadata(bytes)
          if (Either.isLeft(read)) expect(read.left).toBeInstanceOf(ImageMetadataError)
        }
      ),
      { numRuns: 300, seed: 24 }
    )
  })

  it("a huge declared chunk length is refused at once, without allocating it", () => {
    const header = concat(SIGNATURE, ihdr(64, 64))
    const huge = concat(header, u32(0x7fffffff), latin1("tEXt"), latin1("Comment"))
    const started = performance.now()
    const error = errorOf(huge)
    expect(error.reason).toBe("Truncated")
    expect(error.message).toContain("2147483647 bytes declared")
    const impossible = concat(header, u32(0xffffffff), latin1("tEXt"), new Uint8Array(8))
    expect(errorOf(impossible).reason).toBe("Corrupt")
    expect(performance.now() - started).toBeLessThan(100)
  })

  it("a flipped byte in a text chunk fails its CRC check", () => {
    const damaged = good.slice()
    const at = Buffer.from(damaged).indexOf("NovelAI Diffusion")
    damaged[at] = 0x6e
    const error = errorOf(damaged)
    expect(error.reason).toBe("Corrupt")
    expect(error.message).toContain("tEXt chunk")
    expect(error.message).toContain("CRC")
  })

  it("a PNG that does not start with IHDR, or has a damaged chunk type, is Corrupt", () => {
    expect(errorOf(concat(SIGNATURE, iend)).reason).toBe("Corrupt")
    const badType = concat(SIGNATURE, ihdr(1, 1), u32(0), Uint8Array.of(0, 1, 2, 3), u32(0), iend)
    expect(errorOf(badType).reason).toBe("Corrupt")
  })

  it("damaged compressed text is Corrupt", () => {
    const broken = chunk(
      "zTXt",
      concat(latin1("Comment"), Uint8Array.of(0, 0), Uint8Array.of(0x78, 0x9c, 1, 2))
    )
    expect(errorOf(png(1, 1, broken)).reason).toBe("Corrupt")
    const empty = chunk("zTXt", concat(latin1("Comment"), Uint8Array.of(0, 0)))
    expect(errorOf(png(1, 1, empty)).reason).toBe("Corrupt")
    const noKeyword = chunk("tEXt", latin1("no separator"))
    expect(errorOf(png(1, 1, noKeyword)).reason).toBe("Corrupt")
  })

  it("a compression bomb stops at the text limit (8 MiB a chunk) as TooLarge", () => {
    const bomb = chunk(
      "zTXt",
      concat(latin1("Comment"), Uint8Array.of(0, 0), zlibSync(new Uint8Array(10 * 1024 * 1024), { level: 9 }))
    )
    const started = performance.now()
    const error = errorOf(png(1, 1, bomb))
    expect(error.reason).toBe("TooLarge")
    expect(error.message).toContain("8388608 bytes")
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it("text chunks together stop at 16 MiB, however they are split", () => {
    const big = "x".repeat(5 * 1024 * 1024)
    const chunks = [zTXt("a", big), zTXt("b", big), zTXt("c", big), zTXt("d", big)]
    const error = errorOf(png(1, 1, tEXt("Software", "NovelAI"), ...chunks))
    expect(error.reason).toBe("TooLarge")
    // under the limits, large text is read whole
    expect(metadataOf(png(1, 1, tEXt("Software", "NovelAI"), zTXt("a", big))).text.a).toHaveLength(big.length)
  })

  it("a Comment from NovelAI of the wrong shape is InvalidMetadata naming the field", () => {
    const error = errorOf(png(1, 1, ...novelaiChunks({ ...comment, seed: "not a number" })))
    expect(error.reason).toBe("InvalidMetadata")
    expect(error.message).toContain("seed")
  })
})

/** NovelAI's stealth copy (`nai_meta_writer.py`): magic, length in bits, payload, column by column. */
const stealthPng = (width: number, height: number, payload: Uint8Array, magic = "stealth_pngcomp") => {
  const header = concat(latin1(magic), u32(payload.length * 8))
  const data = concat(header, payload)
  const pixels = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = 4 * (y * width + x)
      pixels[p] = (x * 7 + y * 13) & 0xff
      pixels[p + 1] = (x * y) & 0xff
      pixels[p + 2] = (255 - x) & 0xff
      const i = x * height + y
      const bit = i < data.length * 8 ? (data[i >> 3]! >> (7 - (i & 7))) & 1 : 1
      pixels[p + 3] = 0xfe | bit
    }
  // Every PNG filter, one line each in turn, so the reader must undo all five.
  const paeth = (a: number, b: number, c: number) => {
    const q = a + b - c
    const [pa, pb, pc] = [Math.abs(q - a), Math.abs(q - b), Math.abs(q - c)]
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
  }
  const stride = 4 * width
  const raw = new Uint8Array(height * (1 + stride))
  for (let y = 0; y < height; y++) {
    const filter = y % 5
    raw[y * (1 + stride)] = filter
    for (let i = 0; i < stride; i++) {
      const at = y * stride + i
      const left = i >= 4 ? pixels[at - 4]! : 0
      const up = y > 0 ? pixels[at - stride]! : 0
      const upLeft = y > 0 && i >= 4 ? pixels[at - stride - 4]! : 0
      const predicted = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter]!
      raw[y * (1 + stride) + 1 + i] = (pixels[at]! - predicted) & 0xff
    }
  }
  const compressed = zlibSync(raw)
  // the image data split over two IDAT chunks, as encoders do
  const half = compressed.length >> 1
  return concat(
    SIGNATURE,
    ihdr(width, height),
    chunk("IDAT", compressed.subarray(0, half)),
    chunk("IDAT", compressed.subarray(half)),
    iend
  )
}

const hidden = {
  Description: "1girl, cat ears",
  Software: "NovelAI",
  Source: "NovelAI Diffusion V4.5 4BDE2A90",
  "Generation time": "4.21",
  Comment: JSON.stringify(comment)
}

describe("§14 the stealth copy in the alpha channel", () => {
  it("§14: a PNG whose text chunks were stripped still gives its metadata, from the alpha channel", () => {
    const metadata = metadataOf(stealthPng(48, 200, gzipSync(strToU8(JSON.stringify(hidden)))))
    expect(metadata).toMatchObject({
      origin: "alpha-channel",
      prompt: comment.prompt,
      seed: 3141592653,
      source: "NovelAI Diffusion V4.5 4BDE2A90",
      software: "NovelAI",
      width: 48,
      height: 200
    })
    expect(metadata.parameters?.steps).toBe(23)
  })

  it("§14: a short image, whose magic spans several columns, is read too", () => {
    const metadata = metadataOf(stealthPng(96, 64, gzipSync(strToU8(JSON.stringify(hidden)))))
    expect(metadata.origin).toBe("alpha-channel")
    expect(metadata.seed).toBe(3141592653)
  })

  it("§14: text chunks come first; their metadata says where it was read", () => {
    expect(metadataOf(png(16, 16, ...novelaiChunks())).origin).toBe("text-chunks")
  })

  it("another tool's stealth data (plain text, or another magic) is none", () => {
    const a1111 = stealthPng(48, 200, gzipSync(strToU8("a cat\nSteps: 20, Sampler: Euler a")))
    expect(readMetadata(a1111)).toEqual(Either.right(Option.none()))
    const other = stealthPng(48, 200, gzipSync(strToU8(JSON.stringify(hidden))), "stealth_pnginfo")
    expect(readMetadata(other)).toEqual(Either.right(Option.none()))
  })

  it("a stealth copy declaring more than the image holds, or damaged, is Corrupt", () => {
    const payload = gzipSync(strToU8(JSON.stringify(hidden)))
    const small = stealthPng(16, 200, payload) // 3,200 bits hold less than the payload
    expect(errorOf(small).reason).toBe("Corrupt")
    const damaged = payload.slice()
    damaged[20] ^= 0xff
    expect(errorOf(stealthPng(48, 200, damaged)).reason).toBe("Corrupt")
  })

  it("an image without the magic is given up after its first lines", () => {
    const width = 256
    const height = 1024
    const raw = new Uint8Array(height * (1 + 4 * width))
    expect(readMetadata(concat(SIGNATURE, ihdr(width, height), chunk("IDAT", zlibSync(raw)), iend))).toEqual(
      Either.right(Option.none())
    )
    // line 200 has a filter type that does not exist: reading that far would fail
    raw[200 * (1 + 4 * width)] = 7
    const damagedLater = concat(SIGNATURE, ihdr(width, height), chunk("IDAT", zlibSync(raw)), iend)
    expect(readMetadata(damagedLater)).toEqual(Either.right(Option.none()))
    // the same damage in the first lines is found
    raw[10 * (1 + 4 * width)] = 7
    const damagedEarly = concat(SIGNATURE, ihdr(width, height), chunk("IDAT", zlibSync(raw)), iend)
    expect(errorOf(damagedEarly).reason).toBe("Corrupt")
  })

  it("any damage to a stealth PNG gives metadata, none or a typed error, never a throw", () => {
    const good = stealthPng(48, 200, gzipSync(strToU8(JSON.stringify(hidden))))
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const bytes = good.slice()
        bytes[at] = byte
        const read = readMetadata(bytes)
        if (Either.isLeft(read)) expect(read.left).toBeInstanceOf(ImageMetadataError)
      }),
      { numRuns: 200, seed: 14 }
    )
  })

  it("image data that ends before the magic is known is Corrupt", () => {
    const raw = new Uint8Array(200 * (1 + 4 * 16))
    const cut = concat(SIGNATURE, ihdr(16, 200), chunk("IDAT", zlibSync(raw).subarray(0, 10)), iend)
    expect(errorOf(cut).reason).toBe("Corrupt")
  })
})

describe("in an Effect", () => {
  it("the result is yielded in Effect.gen: metadata, or a failure with the typed error", () => {
    const seedOf = (bytes: Uint8Array) =>
      Effect.gen(function* () {
        const metadata = yield* readMetadata(bytes)
        return Option.flatMap(metadata, (m) => Option.fromNullable(m.seed))
      })
    expect(Effect.runSync(seedOf(png(1, 1, ...novelaiChunks())))).toEqual(Option.some(3141592653))
    const failed = Effect.runSync(Effect.flip(seedOf(Uint8Array.of(1, 2, 3))))
    expect(failed._tag).toBe("ImageMetadataError")
  })
})

describe("readPngSize", () => {
  it("gives a PNG's width and height from its header alone", () => {
    const bytes = png(832, 1216, ...novelaiChunks())
    expect(readPngSize(bytes)).toEqual(Either.right([832, 1216]))
    expect(readPngSize(bytes.subarray(0, 33))).toEqual(Either.right([832, 1216]))
  })

  it("is a typed error for what is not a PNG", () => {
    const read = readPngSize(Uint8Array.of(0xff, 0xd8, 0xff))
    expect(Either.isLeft(read) && read.left.reason).toBe("NotPng")
  })
})
