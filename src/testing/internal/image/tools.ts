/**
 * The simulator's image tools, as NovelAI's image host answers them (IMAGE-WIRE.md §9, §11, §15):
 * `POST /ai/augment-image` (the director tools) a ZIP of one PNG at the size sent, three for
 * `bg-removal` (masked, generated, blend); `POST /ai/upscale` a ZIP of one PNG twice the size. The
 * body is checked as NovelAI checks it (400 "Validation error: …"), the price of NovelAI's formula
 * is charged (402 "Not enough Anlas" when short), and each holds the key's image lock as a
 * generation does (429 "Concurrent generation is locked").
 */
import { DIRECTOR_TOOLS, EMOTIONS as EMOTION_NAMES, UPSCALE_MODELS } from "../../../ImageTools.js"
import { pngSize } from "../../../internal/image/bytes.js"
import type { CostRequest } from "../../../internal/image/cost.js"
import type { Exchange, Routes } from "../exchange.js"
import { hold } from "../lock.js"
import { makePng } from "./png.js"
import { makeZip } from "./zip.js"

const TOOLS: ReadonlySet<string> = new Set(DIRECTOR_TOOLS)

const EMOTIONS: ReadonlySet<string> = new Set(EMOTION_NAMES)

const UPSCALE_MODEL_IDS: ReadonlySet<string> = new Set(UPSCALE_MODELS)

const MAX_PIXELS = 3_145_728

/** How long a tool runs, in steps of the simulator's `chunkDelayMs`: priced as 28 steps, it takes as long. */
const STEPS = 28

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const isInt = (u: unknown, min: number, max: number): u is number =>
  typeof u === "number" && Number.isInteger(u) && u >= min && u <= max

/** What a checked request asks for. */
interface Job {
  readonly price: CostRequest
  /** The size of each PNG answered, and how many. */
  readonly width: number
  readonly height: number
  readonly count: number
  readonly comment: Record<string, unknown>
}

type Checked = Job | readonly [number, string]

const invalid = (message: string) => [400, `Validation error: ${message}`] as const

/** The size of the PNG `image` (base64) holds, or undefined. */
const imageSize = (image: unknown) => {
  if (typeof image !== "string" || image === "") return undefined
  return pngSize(new Uint8Array(Buffer.from(image.slice(0, 64), "base64")))
}

const checkAugment = (body: unknown): Checked => {
  if (!isRecord(body)) return invalid("the body must be a JSON object")
  const { req_type: tool, width, height, image, prompt, defry } = body
  if (typeof tool !== "string" || !TOOLS.has(tool)) return invalid(`req_type ${String(tool)} doesn't exist`)
  const size = imageSize(image)
  if (size === undefined) return invalid("image must be a base64 PNG")
  if (!isInt(width, 1, 16_384) || !isInt(height, 1, 16_384))
    return invalid("width and height must be positive integers")
  if (width !== size.width || height !== size.height)
    return invalid(
      `width and height (${width}x${height}) must be the image's size (${size.width}x${size.height})`
    )
  if (width * height > MAX_PIXELS)
    return invalid("Image size is too large. Total size cannot exceed 3145728 pixels.")
  if (defry !== undefined && !isInt(defry, 0, 5)) return invalid("defry must be an integer from 0 to 5")
  if (prompt !== undefined && typeof prompt !== "string") return invalid("prompt must be a string")
  if (tool === "emotion") {
    const [emotion, ...rest] = typeof prompt === "string" ? prompt.split(";;") : []
    if (rest.length === 0 || emotion === undefined || !EMOTIONS.has(emotion))
      return invalid(
        `emotion's prompt must be "<emotion>;;<prompt>" with a known emotion (got ${JSON.stringify(prompt)})`
      )
  }
  return {
    price: { tool, size: [width, height] },
    width,
    height,
    count: tool === "bg-removal" ? 3 : 1,
    comment: {
      req_type: tool,
      ...(typeof prompt === "string" ? { prompt } : {}),
      ...(defry !== undefined ? { defry } : {})
    }
  }
}

const checkUpscale = (body: unknown): Checked => {
  if (!isRecord(body)) return invalid("the body must be a JSON object")
  const { image, model } = body
  if (typeof model !== "string" || !UPSCALE_MODEL_IDS.has(model))
    return invalid(`model ${String(model)} doesn't exist`)
  const size = imageSize(image)
  if (size === undefined) return invalid("image must be a base64 PNG")
  if (size.width * size.height > MAX_PIXELS)
    return invalid("Image size is too large. Total size cannot exceed 3145728 pixels.")
  return {
    price: { kind: "upscale", size: [size.width, size.height] },
    width: size.width * 2,
    height: size.height * 2,
    count: 1,
    comment: { model, upscaled_from: [size.width, size.height] }
  }
}

/** Either tool route: checked, locked, charged, then the ZIP once the tool's time has passed. */
const handleTool = async (routes: Routes, ex: Exchange, check: (body: unknown) => Checked): Promise<void> => {
  const { res } = ex
  if (ex.method !== "POST") return ex.fail(404, `Cannot ${ex.method} ${ex.path}`)
  if (ex.badJson) return ex.fail(400, "Validation error: the body is not JSON")
  const job = check(ex.body)
  if (Array.isArray(job)) return ex.fail(job[0], job[1])
  const checked = job as Job
  const lock = `image:${ex.key}`
  if (!routes.locks.acquire(lock)) return ex.fail(429, "Concurrent generation is locked")
  if (routes.wallets.charge(ex.key, ex.tier, checked.price) === undefined) {
    routes.locks.release(lock, 0)
    return ex.fail(402, "Not enough Anlas")
  }
  const ms = STEPS * routes.chunkDelayMs
  const held = hold(routes.locks, lock, res, routes.quirks.lockOutlivesCancel)
  held.duration = ms
  if (ms > 0) await routes.timers.sleep(ms)
  held.release(true)
  if (res.destroyed) return
  const seed = routes.nextId()
  const files = Array.from({ length: checked.count }, (_, i) => ({
    name: `image_${i}.png`,
    bytes: makePng(checked.width, checked.height, seed * 8 + i, {
      Software: "NovelAI",
      Comment: JSON.stringify(checked.comment)
    })
  }))
  const zip = makeZip(files)
  res.writeHead(200, {
    "content-type": "binary/octet-stream",
    "content-disposition": `attachment; filename="${seed}.zip"`,
    "content-length": zip.length
  })
  res.end(zip)
}

/** `POST /ai/augment-image`. */
export const handleAugment = (routes: Routes, ex: Exchange): Promise<void> =>
  handleTool(routes, ex, checkAugment)

/** `POST /ai/upscale`. */
export const handleUpscale = (routes: Routes, ex: Exchange): Promise<void> =>
  handleTool(routes, ex, checkUpscale)
