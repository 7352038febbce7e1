/**
 * Small real PNG images for the simulator: RGB, the requested size, pixels deterministic from the
 * seed (a gradient whose colours the seed picks), compressed with `node:zlib`, with the text chunks
 * NovelAI embeds (`Software`, `Source`, `Comment` with the parameters applied).
 */
import * as Zlib from "node:zlib"

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

export const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const chunk = (type: string, data: Uint8Array): Buffer => {
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  out.write(type, 4, "latin1")
  out.set(data, 8)
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
  return out
}

const text = (key: string, value: string) => chunk("tEXt", Buffer.from(`${key}\0${value}`, "latin1"))

/** A seeded pseudo-random step (xorshift32). */
const next = (s: number) => {
  let x = s || 0x9e3779b9
  x ^= x << 13
  x ^= x >>> 17
  x ^= x << 5
  return x >>> 0
}

/** A `width`x`height` PNG whose pixels follow from `seed`; `metadata`: tEXt chunks. */
export const makePng = (
  width: number,
  height: number,
  seed: number,
  metadata: Readonly<Record<string, string>> = {}
): Buffer => {
  const a = next(seed + 1)
  const b = next(a)
  const from = [a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff]
  const to = [b & 0xff, (b >>> 8) & 0xff, (b >>> 16) & 0xff]
  // One row (a horizontal gradient), repeated: deflate makes it small, and fast.
  const row = Buffer.alloc(1 + width * 3)
  for (let x = 0; x < width; x++) {
    const t = width === 1 ? 0 : x / (width - 1)
    for (let c = 0; c < 3; c++) row[1 + x * 3 + c] = Math.round(from[c]! + (to[c]! - from[c]!) * t)
  }
  const raw = Buffer.alloc(row.length * height)
  for (let y = 0; y < height; y++) row.copy(raw, y * row.length)
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...Object.entries(metadata).map(([key, value]) => text(key, value)),
    chunk("IDAT", Zlib.deflateSync(raw, { level: 1 })),
    chunk("IEND", new Uint8Array())
  ])
}
