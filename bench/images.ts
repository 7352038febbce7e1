/**
 * The image calls: a 4-sample generation (a ZIP of PNGs) and a 28-step stream (msgpack frames:
 * 27 previews and a final), against the simulator with no delay. The floor is raw fetch with
 * `fflate` (the ZIP) or `@msgpack/msgpack` (the frames) reading the same answer to the same body;
 * our clients are measured over it, each with its defaults but for the gate (not queued, as in the
 * text phases) and retries (none: a generation is never repeated here).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { decode } from "@msgpack/msgpack"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { Image, NovelAI, NovelAIClient } from "effect-novelai"
import { unzipSync } from "fflate"
import type { Target } from "./contenders.js"

/** What each contender does, resolving to the bytes it got (checked to agree). */
export interface ImageContender {
  readonly name: string
  /** A reference row, not a client: shown, held to no target. */
  readonly reference?: boolean
  /** One 4-sample generation: the total bytes of its PNGs. */
  readonly generate: () => Promise<number>
  /** One 28-step stream: the events received. */
  readonly stream: () => Promise<number>
  readonly close: () => Promise<void>
}

export const SAMPLES = 4
export const STEPS = 28
const params = { prompt: "1girl, cat ears", size: [512, 512] as const, seed: 1, steps: STEPS }

/**
 * The body our client sends for `params` (read off the first request it makes), so that raw fetch
 * sends the very same one.
 */
const bodyOf = async (target: Target, stream: boolean): Promise<string> => {
  let sent = ""
  const capture: typeof fetch = async (input, init) => {
    const body = init?.body
    sent = typeof body === "string" ? body : new TextDecoder().decode(body as Uint8Array)
    return fetch(input, init)
  }
  const client = new NovelAI({ apiKey: target.apiKey, imageBaseUrl: target.url, fetch: capture })
  if (stream) {
    for await (const _ of client.image.generateStream(params)) void _
  } else {
    await client.image.generate({ ...params, nSamples: SAMPLES })
  }
  await client.close()
  return sent
}

const headers = (target: Target, accept: string) => ({
  authorization: `Bearer ${target.apiKey}`,
  "content-type": "application/json",
  accept
})

/**
 * The floor's framing: `bytes` appended to what is held, each whole frame (a 4-byte big-endian
 * length, then that many bytes) handed to `each`; returns what is left held.
 */
const takeFrames = (held: Uint8Array, bytes: Uint8Array, each: (frame: Uint8Array) => void): Uint8Array => {
  let buffer: Uint8Array = new Uint8Array(held.length + bytes.length)
  buffer.set(held)
  buffer.set(bytes, held.length)
  while (buffer.length >= 4) {
    const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0)
    if (buffer.length < 4 + length) break
    each(buffer.subarray(4, 4 + length))
    buffer = buffer.subarray(4 + length)
  }
  return buffer
}

export const rawImages = async (target: Target): Promise<ImageContender> => {
  const generateBody = await bodyOf(target, false)
  const streamBody = await bodyOf(target, true)
  return {
    name: "raw fetch + fflate / @msgpack/msgpack",
    generate: async () => {
      const response = await fetch(`${target.url}/ai/generate-image`, {
        method: "POST",
        headers: headers(target, "*/*"),
        body: generateBody
      })
      if (!response.ok) throw new Error(`raw generate: HTTP ${response.status}: ${await response.text()}`)
      const files = unzipSync(new Uint8Array(await response.arrayBuffer()))
      return Object.values(files).reduce((n, bytes) => n + bytes.length, 0)
    },
    stream: async () => {
      const response = await fetch(`${target.url}/ai/generate-image-stream`, {
        method: "POST",
        headers: headers(target, "application/msgpack"),
        body: streamBody
      })
      let buffer: Uint8Array = new Uint8Array(0)
      let events = 0
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer = takeFrames(buffer, bytes, (frame) => {
          decode(frame)
          events++
        })
      }
      return events
    },
    close: async () => undefined
  }
}

/**
 * The same frames as raw fetch reads them, consumed as an Effect `Stream`
 * (`Stream.fromAsyncIterable`, `Stream.runCount`): what any Effect stream of these 28 events costs,
 * whoever makes it. The Effect API is consumed the same way, so this is its floor in Effect.
 */
export const rawAsEffectStream = async (target: Target): Promise<ImageContender> => {
  const raw = await rawImages(target)
  const streamBody = await bodyOf(target, true)
  const frames = async function* () {
    const response = await fetch(`${target.url}/ai/generate-image-stream`, {
      method: "POST",
      headers: headers(target, "application/msgpack"),
      body: streamBody
    })
    let buffer: Uint8Array = new Uint8Array(0)
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      const events: Array<unknown> = []
      buffer = takeFrames(buffer, bytes, (frame) => events.push(decode(frame)))
      yield* events
    }
  }
  return {
    name: "raw fetch + @msgpack/msgpack as an Effect Stream (reference)",
    reference: true,
    generate: raw.generate,
    stream: () => Effect.runPromise(Stream.runCount(Stream.fromAsyncIterable(frames(), (error) => error))),
    close: raw.close
  }
}

const settings = { generationConcurrency: "unbounded", maxRetries: 0 } as const

export const effectImages = async (target: Target): Promise<ImageContender> => {
  const runtime = ManagedRuntime.make(
    NovelAIClient.layer({ apiKey: target.apiKey, imageBaseUrl: target.url, ...settings }).pipe(
      Layer.provide(NodeHttpClient.layerUndici)
    )
  )
  return {
    name: "Effect API (Node undici)",
    generate: () =>
      runtime.runPromise(
        Effect.map(Image.generate({ ...params, nSamples: SAMPLES }), (result) =>
          result.images.reduce((n, image) => n + image.bytes.length, 0)
        )
      ),
    stream: () => runtime.runPromise(Stream.runCount(Image.generateStream(params))),
    close: () => runtime.dispose()
  }
}

export const facadeImages = async (target: Target): Promise<ImageContender> => {
  const client = new NovelAI({ apiKey: target.apiKey, imageBaseUrl: target.url, ...settings })
  return {
    name: "Promise facade",
    generate: async () => {
      const images = await client.image.generate({ ...params, nSamples: SAMPLES })
      return images.reduce((n, image) => n + image.length, 0)
    },
    stream: async () => {
      let events = 0
      for await (const _ of client.image.generateStream(params)) events++
      return events
    },
    close: () => client.close()
  }
}

export const allImages = [rawImages, rawAsEffectStream, effectImages, facadeImages]
