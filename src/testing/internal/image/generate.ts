/**
 * The simulator's image generation, as NovelAI's image host answers it (IMAGE-WIRE.md §5, §13,
 * §15): `POST /ai/generate-image` a ZIP of `image_<i>.png` (JSON with `Accept: application/json`),
 * `POST /ai/generate-image-stream` msgpack frames (`[u32 BE length][map]`), or SSE with
 * `parameters.stream: "sse"`: per sample `steps - 1` previews, then its final image. The body is
 * checked as NovelAI checks it (400 "Validation error: …", a V4+ request without `v4_prompt` a
 * bare 500), a free key is short of Anlas (402), and the key's image lock is its own (429
 * "Concurrent generation is locked"), held after a client goes away as the text lock is.
 */

import type * as Http from "node:http"
import { encode } from "@msgpack/msgpack"
import type { CostRequest } from "../../../internal/image/cost.js"
import type { Exchange, Routes } from "../exchange.js"
import { actOnStreamFault, faultAfter, isStreamFault, lingerMs } from "../faults.js"
import { hold } from "../lock.js"
import { sendJson } from "../reply.js"
import { makePng } from "./png.js"
import { checkGuidance } from "./vibes.js"
import { makeZip } from "./zip.js"

/** The image models NovelAI serves, and their inpainting ids (V5 Curated has none of its own). */
export const IMAGE_MODELS: ReadonlySet<string> = new Set([
  "nai-diffusion-5-full",
  "nai-diffusion-5-curated",
  "nai-diffusion-4-5-full",
  "nai-diffusion-4-5-curated",
  "nai-diffusion-4-full",
  "nai-diffusion-4-curated-preview",
  "nai-diffusion-3",
  "nai-diffusion-furry-3",
  "nai-diffusion-5-full-inpainting",
  "nai-diffusion-4-5-full-inpainting",
  "nai-diffusion-4-5-curated-inpainting",
  "nai-diffusion-4-full-inpainting",
  "nai-diffusion-4-curated-inpainting",
  "nai-diffusion-3-inpainting",
  "nai-diffusion-furry-3-inpainting"
])

const SOURCES: ReadonlyArray<readonly [string, string]> = [
  ["nai-diffusion-5", "NovelAI Diffusion V5 0ADF9AB7"],
  ["nai-diffusion-4-5", "NovelAI Diffusion V4.5 4BDE2A90"],
  ["nai-diffusion-4", "NovelAI Diffusion V4"],
  ["nai-diffusion-", "Stable Diffusion XL 7BCCAA2C"]
]

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const isInt = (u: unknown, min: number, max: number): u is number =>
  typeof u === "number" && Number.isInteger(u) && u >= min && u <= max

const maxSamples = (pixels: number) => (pixels <= 360_448 ? 8 : pixels <= 409_600 ? 6 : 4)

/** What a checked request asks for. */
interface Job {
  readonly model: string
  readonly input: string
  readonly width: number
  readonly height: number
  readonly steps: number
  readonly samples: number
  readonly seed: number
  readonly format: "msgpack" | "sse"
  readonly comment: Record<string, unknown>
  /** Its vibes and character references, as the price reads them (vibes.ts). */
  readonly guidance: Exclude<ReturnType<typeof checkGuidance>, string>
}

/** The request checked as NovelAI checks it: the job, or the status and message it answers. */
const check = (body: unknown, stream: boolean, seedOf: () => number): Job | readonly [number, string] => {
  const invalid = (message: string) => [400, `Validation error: ${message}`] as const
  if (!isRecord(body)) return invalid("the body must be a JSON object")
  const { input, model, action, parameters: p } = body
  if (typeof model !== "string" || !IMAGE_MODELS.has(model))
    return invalid(`model ${String(model)} doesn't exist`)
  if (typeof input !== "string") return invalid("input must be a string")
  if (action !== undefined && action !== "generate" && action !== "img2img" && action !== "infill") {
    return invalid(`action ${String(action)} doesn't exist`)
  }
  if (!isRecord(p)) return invalid("parameters must be an object")
  const { width, height } = p
  if (!isInt(width, 64, 16_384) || width % 64 !== 0) return invalid("width must be a multiple of 64")
  if (!isInt(height, 64, 16_384) || height % 64 !== 0) return invalid("height must be a multiple of 64")
  if (width * height > 3_145_728)
    return invalid("Image size is too large. Total size cannot exceed 3145728 pixels.")
  const steps = p.steps ?? 23
  if (!isInt(steps, 1, 50)) return invalid("steps must be an integer from 1 to 50")
  const scale = p.scale ?? 5
  if (typeof scale !== "number" || scale < 0 || scale > 10) return invalid("scale must be from 0 to 10")
  const samples = p.n_samples ?? 1
  if (!isInt(samples, 1, maxSamples(width * height))) {
    return invalid(`n_samples must be from 1 to ${maxSamples(width * height)} at this size`)
  }
  if (p.seed !== undefined && !isInt(p.seed, 0, 4_294_967_295))
    return invalid("seed must be a 32-bit unsigned integer")
  if ((action === "img2img" || action === "infill") && typeof p.image !== "string") {
    return invalid(`image is required for ${action}`)
  }
  if (action === "infill" && typeof p.mask !== "string") return invalid("mask is required for infill")
  const format = p.stream ?? "msgpack"
  if (stream && format !== "msgpack" && format !== "sse") return invalid(`stream must be "msgpack" or "sse"`)
  // V4 and later read v4_prompt; without it NovelAI fails with a bare 500.
  const v3 = model.startsWith("nai-diffusion-3") || model.startsWith("nai-diffusion-furry-3")
  if (!v3 && !isRecord(p.v4_prompt)) return [500, "Internal Server Error"]
  const guidance = checkGuidance(model, p)
  if (typeof guidance === "string") return invalid(guidance)
  const seed = typeof p.seed === "number" ? p.seed : seedOf()
  return {
    model,
    input,
    width,
    height,
    steps,
    samples,
    seed,
    format: format as "msgpack" | "sse",
    guidance,
    comment: {
      prompt: input,
      uc: p.negative_prompt ?? "",
      steps,
      height,
      width,
      scale,
      sampler: p.sampler ?? "k_euler_ancestral",
      noise_schedule: p.noise_schedule ?? "karras",
      cfg_rescale: p.cfg_rescale ?? 0,
      ...(v3 ? {} : { v4_prompt: p.v4_prompt, v4_negative_prompt: p.v4_negative_prompt }),
      request_type:
        action === "img2img"
          ? "Img2ImgRequest"
          : action === "infill"
            ? "NativeInfillingRequest"
            : "PromptGenerateRequest"
    }
  }
}

/** Sample `i`'s final image. */
const finalImage = (job: Job, i: number): Buffer =>
  makePng(job.width, job.height, job.seed + i, {
    Title: "AI generated image",
    Description: job.input,
    Software: "NovelAI",
    Source: SOURCES.find(([prefix]) => job.model.startsWith(prefix))?.[1] ?? "NovelAI",
    Comment: JSON.stringify({ ...job.comment, seed: (job.seed + i) % 4_294_967_296, n_samples: job.samples })
  })

/** A preview of sample `i` at `step`: an eighth of the size. */
const preview = (job: Job, i: number, step: number): Buffer =>
  makePng(Math.max(1, job.width >> 3), Math.max(1, job.height >> 3), (job.seed + i) * 64 + step)

/** Writes `bytes`, waiting while the client reads more slowly than we write. */
const write = (res: Http.ServerResponse, bytes: Uint8Array | string): Promise<void> =>
  res.destroyed || res.write(bytes)
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done)
          res.off("close", done)
          resolve()
        }
        res.on("drain", done)
        res.on("close", done)
      })

/** One msgpack frame: its length, big-endian, then the map. */
const frame = (value: unknown): Buffer => {
  const payload = encode(value)
  const out = Buffer.alloc(4 + payload.length)
  out.writeUInt32BE(payload.length, 0)
  out.set(payload, 4)
  return out
}

/** One SSE event, images as base64. */
const sseEvent = (value: Record<string, unknown>): string => {
  const data = Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v
    ])
  )
  return `event: ${String(value.event_type)}\ndata: ${JSON.stringify(data)}\n\n`
}

/** What the generation costs: its size, steps, samples, and img2img or inpainting strength. */
const priced = (body: Record<string, unknown>, job: Job): CostRequest => {
  const p = body.parameters as Record<string, unknown>
  const number = (value: unknown) => (typeof value === "number" ? value : undefined)
  return {
    model: job.model,
    size: [job.width, job.height],
    steps: job.steps,
    nSamples: job.samples,
    sampler: typeof p.sampler === "string" ? p.sampler : undefined,
    ...(body.action === "img2img" ? { image: true, strength: number(p.strength) } : {}),
    ...(body.action === "infill"
      ? { mask: true, inpaintImg2ImgStrength: number(p.inpaintImg2ImgStrength) }
      : {}),
    // Vibes arrive encoded (their encoding was charged by /ai/encode-vibe); references per image.
    vibes: job.guidance.vibes,
    characterReferences: job.guidance.characterReferences
  }
}

export const handleImage = async (routes: Routes, ex: Exchange, stream: boolean): Promise<void> => {
  const { res } = ex
  if (ex.method !== "POST") return ex.fail(404, `Cannot ${ex.method} ${ex.path}`)
  if (ex.badJson) return ex.fail(400, "Validation error: the body is not JSON")
  const job = check(ex.body, stream, () => (routes.nextId() * 2_654_435_761) % 4_294_967_296)
  if (Array.isArray(job)) return ex.fail(job[0], job[1])
  const checked = job as Job
  const lock = `image:${ex.key}`
  if (!routes.locks.acquire(lock)) return ex.fail(429, "Concurrent generation is locked")
  // Charged once the generation is taken, at the price of NovelAI's formula.
  if (
    routes.wallets.charge(ex.key, ex.tier, priced(ex.body as Record<string, unknown>, checked)) === undefined
  ) {
    routes.locks.release(lock, 0)
    return ex.fail(402, "Not enough Anlas")
  }

  const events = checked.steps * checked.samples
  const generationMs = events * routes.chunkDelayMs
  const held = hold(routes.locks, lock, res, routes.quirks.lockOutlivesCancel)
  held.duration = generationMs
  const release = held.release

  if (!stream) {
    if (generationMs > 0) await routes.timers.sleep(generationMs)
    release(true)
    if (res.destroyed) return
    const images = Array.from({ length: checked.samples }, (_, i) => finalImage(checked, i))
    if ((ex.req.headers.accept ?? "").includes("application/json")) {
      return sendJson(res, 200, {
        images: images.map((image, index) => ({
          image: image.toString("base64"),
          index,
          seed: (checked.seed + index) % 4_294_967_296
        }))
      })
    }
    const zip = makeZip(images.map((bytes, i) => ({ name: `image_${i}.png`, bytes })))
    res.writeHead(200, {
      "content-type": "binary/octet-stream",
      "content-disposition": `attachment; filename="${checked.seed}.zip"`,
      "content-length": zip.length
    })
    res.end(zip)
    return
  }

  const sse = checked.format === "sse"
  res.writeHead(200, { "content-type": sse ? "text/event-stream" : "application/msgpack" })
  // The headers go out at once, as NovelAI's do, before the first step is done.
  res.flushHeaders()
  const send = (value: Record<string, unknown>) => {
    ex.record.chunks++
    return write(res, sse ? sseEvent(value) : frame(value))
  }
  const genId = routes.nextId()
  const fault = isStreamFault(ex.fault) ? ex.fault : undefined
  const after = fault === undefined ? -1 : faultAfter(fault)
  let sent = 0
  let finished = false
  try {
    for (let i = 0; i < checked.samples; i++) {
      for (let step = 0; step < checked.steps && !res.destroyed; step++) {
        if (fault !== undefined && sent === after) {
          const goOn = await actOnStreamFault(fault, {
            res,
            sleep: routes.timers.sleep,
            // 0xc1 is never used in msgpack: the frame cannot be decoded.
            malformed: () =>
              write(res, sse ? 'event: final\ndata: {"image":\n\n' : Buffer.from([0, 0, 0, 1, 0xc1])),
            errorFrame: (message) => send({ event_type: "error", message, samp_ix: i })
          })
          if (!goOn) return
        }
        if (routes.chunkDelayMs > 0) await routes.timers.sleep(routes.chunkDelayMs)
        if (res.destroyed) return
        const last = step === checked.steps - 1
        await send(
          last
            ? { event_type: "final", samp_ix: i, gen_id: genId, image: finalImage(checked, i) }
            : {
                event_type: "intermediate",
                samp_ix: i,
                step_ix: step,
                gen_id: genId,
                sigma: Math.round(14.6 * (1 - step / checked.steps) * 1000) / 1000,
                image: preview(checked, i, step)
              }
        )
        sent++
      }
    }
    finished = !res.destroyed
    if (lingerMs(ex.fault) > 0) {
      // The generation is over: its lock is free while the body lingers.
      release(finished)
      await routes.timers.sleep(lingerMs(ex.fault))
    }
    res.end()
  } finally {
    release(finished)
  }
}
