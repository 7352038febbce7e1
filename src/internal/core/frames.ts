/**
 * Length-prefixed frames from a byte stream: each frame is a 4-byte big-endian length, then that
 * many bytes (NovelAI's image streams: a msgpack map per frame). The bytes may arrive split
 * anywhere; a frame is handed over once whole. A length over the limit fails the stream at once,
 * before any of that frame is buffered, so memory stays bounded by the limit.
 *
 * Frames are decoded with `@msgpack/msgpack`, loaded only when a frame stream is opened.
 */

/** The framer's answer when a frame announces more than the limit. */
export class FrameTooLarge {
  readonly _tag = "FrameTooLarge"
  constructor(readonly length: number) {}
}

export interface LengthPrefixedFramer {
  /** Adds bytes as they arrived. */
  readonly feed: (bytes: Uint8Array) => void
  /** The next whole frame's payload, undefined until more bytes arrive, or FrameTooLarge. */
  readonly next: () => Uint8Array | FrameTooLarge | undefined
  /** Bytes held that are not a whole frame (a cut-off frame at the end of the input). */
  readonly pending: () => number
}

/** A framer of frames of at most `limit` bytes each. */
export const makeLengthPrefixedFramer = (limit: number): LengthPrefixedFramer => {
  // The bytes held: a queue of chunks from `head`, the first read from `offset`.
  let chunks: Array<Uint8Array> = []
  let head = 0
  let offset = 0
  let held = 0
  const drop = () => {
    head++
    offset = 0
    if (head === chunks.length) {
      chunks = []
      head = 0
    }
  }
  /** `n` bytes from the front (n <= held), without a copy when they lie in one chunk. */
  const take = (n: number): Uint8Array => {
    held -= n
    const first = chunks[head]!
    if (first.length - offset >= n) {
      const out = first.subarray(offset, offset + n)
      offset += n
      if (offset === first.length) drop()
      return out
    }
    const out = new Uint8Array(n)
    let at = 0
    while (at < n) {
      const chunk = chunks[head]!
      const part = Math.min(n - at, chunk.length - offset)
      out.set(chunk.subarray(offset, offset + part), at)
      at += part
      offset += part
      if (offset === chunk.length) drop()
    }
    return out
  }
  /** The byte `i` (< held) places from the front. */
  const peek = (i: number): number => {
    let at = offset + i
    for (let c = head; c < chunks.length; c++) {
      const chunk = chunks[c]!
      if (at < chunk.length) return chunk[at]!
      at -= chunk.length
    }
    return 0
  }
  let length: number | undefined
  return {
    feed: (bytes) => {
      if (bytes.length === 0) return
      chunks.push(bytes)
      held += bytes.length
    },
    next: () => {
      if (length === undefined) {
        if (held < 4) return undefined
        length = ((peek(0) << 24) | (peek(1) << 16) | (peek(2) << 8) | peek(3)) >>> 0
        if (length > limit) return new FrameTooLarge(length)
        take(4)
      }
      if (held < length) return undefined
      const frame = take(length)
      length = undefined
      return frame
    },
    pending: () => held + (length === undefined ? 0 : 4)
  }
}

type Msgpack = typeof import("@msgpack/msgpack")
let msgpack: Promise<Msgpack> | undefined

/** `@msgpack/msgpack`, imported once, when the first frame stream opens. */
export const loadMsgpack = (): Promise<Msgpack> => {
  msgpack ??= import("@msgpack/msgpack").catch((error: unknown) => {
    msgpack = undefined
    throw error
  })
  return msgpack
}
