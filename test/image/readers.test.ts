import { decode, encode } from "@msgpack/msgpack"
import { Effect, Exit } from "effect"
import * as fflate from "fflate"
import { describe, expect, it } from "vitest"
import { FrameTooLarge, makeLengthPrefixedFramer } from "../../src/internal/core/frames.js"
import { unzipEntries } from "../../src/internal/core/zip.js"

const context = { endpoint: "image.generate", scrub: (text: string) => text }

const frame = (value: unknown): Uint8Array => {
  const payload = encode(value)
  const out = new Uint8Array(4 + payload.length)
  new DataView(out.buffer).setUint32(0, payload.length)
  out.set(payload, 4)
  return out
}

const concat = (parts: ReadonlyArray<Uint8Array>) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

const drain = (framer: ReturnType<typeof makeLengthPrefixedFramer>) => {
  const out: Array<unknown> = []
  for (;;) {
    const next = framer.next()
    if (next === undefined) return out
    out.push(next instanceof FrameTooLarge ? next : decode(next))
  }
}

describe("length-prefixed frames", () => {
  const events = [
    {
      event_type: "intermediate",
      samp_ix: 0,
      step_ix: 0,
      gen_id: 7,
      sigma: 14.6,
      image: new Uint8Array([1, 2, 3])
    },
    { event_type: "final", samp_ix: 0, gen_id: 7, image: new Uint8Array(20_000).fill(9) }
  ]
  const bytes = concat(events.map(frame))

  it("hands over each frame once whole, however the bytes are split", () => {
    for (const size of [1, 3, 64, 4096, bytes.length]) {
      const framer = makeLengthPrefixedFramer(1 << 20)
      const out: Array<unknown> = []
      for (let at = 0; at < bytes.length; at += size) {
        framer.feed(bytes.subarray(at, at + size))
        out.push(...drain(framer))
      }
      expect(out).toEqual(events)
      expect(framer.pending()).toBe(0)
    }
  })

  it("refuses a frame announcing more than the limit before buffering it", () => {
    const framer = makeLengthPrefixedFramer(1000)
    framer.feed(frame(events[0]))
    framer.feed(new Uint8Array([0x7f, 0xff, 0xff, 0xff]))
    const out = drain(framer)
    expect(out[0]).toEqual(events[0])
    expect(out[1]).toBeInstanceOf(FrameTooLarge)
    expect((out[1] as FrameTooLarge).length).toBe(0x7fffffff)
  })

  it("counts a cut-off frame as pending", () => {
    const framer = makeLengthPrefixedFramer(1 << 20)
    framer.feed(bytes.subarray(0, bytes.length - 10))
    expect(drain(framer)).toEqual([events[0]])
    expect(framer.pending()).toBeGreaterThan(0)
  })
})

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runSyncExit(effect)

describe("ZIP answers", () => {
  const png = new Uint8Array(1000).fill(7)
  const zip = fflate.zipSync({ "image_0.png": png, "image_1.png": png, "notes.txt": new Uint8Array([1]) })
  const keep = (name: string) => /^image_\d+\.png$/.test(name)

  it("reads the entries kept", () => {
    const exit = run(unzipEntries(context, fflate, zip, 1 << 20, keep, 200))
    expect(Exit.isSuccess(exit) && exit.value.map((e) => [e.name, e.bytes.length])).toEqual([
      ["image_0.png", 1000],
      ["image_1.png", 1000]
    ])
  })

  it("refuses contents over the limit, from the sizes declared, with the limit", () => {
    const exit = run(unzipEntries(context, fflate, zip, 1500, keep, 200))
    expect(exit).toMatchObject({
      _tag: "Failure",
      cause: { error: { _tag: "ResponseTooLargeError", limit: 1500 } }
    })
  })

  it("does not grow past a declared size that lies (a ZIP bomb)", () => {
    const bomb = fflate.zipSync({ "image_0.png": new Uint8Array(10_000_000) })
    // Patch the central directory's uncompressed size down to 10 bytes.
    const view = new DataView(bomb.buffer)
    for (let i = bomb.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) === 0x02014b50) {
        view.setUint32(i + 24, 10, true)
        break
      }
    }
    const exit = run(unzipEntries(context, fflate, bomb, 1000, keep, 200))
    if (Exit.isSuccess(exit)) expect(exit.value[0]!.bytes.length).toBe(10)
    else expect(exit.cause).toMatchObject({ error: { _tag: "ResponseDecodeError" } })
  })

  it("says what came when the answer is not a ZIP", () => {
    const exit = run(
      unzipEntries(context, fflate, new TextEncoder().encode("<html>busy</html>"), 1000, keep, 200)
    )
    expect(exit).toMatchObject({ cause: { error: { _tag: "ResponseDecodeError" } } })
    expect(JSON.stringify(exit)).toContain("<html>busy")
  })
})
