/**
 * Writes an SSE body with backpressure: `data:` frames and named events, with LF line endings, or
 * with CRLF cut at random byte offsets (to exercise a client's framing).
 */
import type * as Http from "node:http"
import { nextRandom } from "./text.js"

export interface SseWriter {
  /** A `data:` frame: JSON for an object, as is for a string (`[DONE]`). */
  readonly data: (data: unknown) => Promise<void>
  /** A named event. */
  readonly event: (name: string, data: unknown) => Promise<void>
  /** Raw text, exactly. */
  readonly raw: (text: string) => Promise<void>
  /** The line ending in use. */
  readonly eol: string
}

/** Waits until the response can take more, or is closed; leaves no listener behind. */
const drained = (res: Http.ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done)
      res.off("close", done)
      resolve()
    }
    res.on("drain", done)
    res.on("close", done)
  })

export const makeSseWriter = (
  res: Http.ServerResponse,
  randomChunks: { readonly seed: number } | undefined,
  /** Counts the data frames written. */
  counter: { chunks: number }
): SseWriter => {
  const eol = randomChunks === undefined ? "\n" : "\r\n"
  const random = { s: (randomChunks?.seed ?? 1) >>> 0 }
  const raw = async (text: string) => {
    if (res.destroyed) return
    if (randomChunks === undefined) {
      if (!res.write(text)) await drained(res)
      return
    }
    // Random byte cuts, yielding between them so they reach the socket as separate writes.
    const bytes = Buffer.from(text, "utf8")
    for (let at = 0; at < bytes.length && !res.destroyed; ) {
      const size = 1 + Math.floor(nextRandom(random) * 15)
      res.write(bytes.subarray(at, at + size))
      at += size
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
  const payload = (data: unknown) => (typeof data === "string" ? data : JSON.stringify(data))
  return {
    eol,
    raw,
    data: async (data) => {
      if (res.destroyed) return
      counter.chunks++
      await raw(`data: ${payload(data)}${eol}${eol}`)
    },
    event: (name, data) => raw(`event: ${name}${eol}data: ${payload(data)}${eol}${eol}`)
  }
}

/**
 * Starts a 200 event stream on `res`: its headers sent, Nagle off, and a writer that cuts the body at
 * random byte offsets when the request's fault says `random-chunks`.
 */
export const openEventStream = (
  res: Http.ServerResponse,
  fault: { readonly kind: string; readonly seed?: number } | undefined,
  counter: { chunks: number }
): SseWriter => {
  const sse = makeSseWriter(
    res,
    fault?.kind === "random-chunks" ? { seed: fault.seed ?? 1 } : undefined,
    counter
  )
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
  res.socket?.setNoDelay(true)
  return sse
}
