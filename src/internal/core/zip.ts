/**
 * Answers that are ZIP archives (NovelAI's images): the body read up to a byte limit, then its
 * entries with `fflate` (loaded only when a ZIP answer arrives, so a bundle that never reads one
 * does not carry it). What the entries may decompress to is bounded by the same limit, from the
 * sizes the archive's central directory declares; an entry that inflates past its declared size
 * fails rather than growing.
 */
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Errors from "../../Errors.js"
import * as Encoding from "./decompress.js"
import type { ErrorContext } from "./errors.js"

/** One file of an archive. */
export interface ZipEntry {
  readonly name: string
  readonly bytes: Uint8Array
}

type Fflate = typeof import("fflate")
let fflate: Promise<Fflate> | undefined

/** `fflate`, imported once, at the first ZIP answer. */
const loadFflate = (): Promise<Fflate> => {
  fflate ??= import("fflate").catch((error: unknown) => {
    fflate = undefined
    throw error
  })
  return fflate
}

export const tooLarge = (context: ErrorContext, limit: number, what: string, status?: number) =>
  new Errors.ResponseTooLargeError({
    message: `${context.endpoint}: ${what} exceeded ${limit} bytes, the most this call reads`,
    endpoint: context.endpoint,
    status,
    limit
  })

const decodeError = (context: ErrorContext, message: string, status: number) =>
  new Errors.ResponseDecodeError({
    message: `${context.endpoint}: ${message}`,
    endpoint: context.endpoint,
    status
  })

/** The whole body as bytes, failing with a `ResponseTooLargeError` once it passes `limit`. */
export const readBytes = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<Uint8Array, Errors.NovelAIError> => {
  const declared = Number(response.headers["content-length"])
  if (Number.isFinite(declared) && declared > limit) {
    return Effect.fail(tooLarge(context, limit, "the response body", response.status))
  }
  return Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return Stream.runForEach(Encoding.bytes(context, response), (chunk) => {
      size += chunk.length
      if (size > limit) return Effect.fail(tooLarge(context, limit, "the response body", response.status))
      chunks.push(chunk)
      return Effect.void
    }).pipe(Effect.map(() => concat(chunks, size)))
  })
}

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

const isZip = (bytes: Uint8Array) =>
  bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05)

/**
 * The entries of `bytes`, an archive, whose names `keep` accepts, with at most `limit` bytes
 * decompressed in all.
 */
export const unzipEntries = (
  context: ErrorContext,
  fflate: Fflate,
  bytes: Uint8Array,
  limit: number,
  keep: (name: string) => boolean,
  status: number
): Effect.Effect<ReadonlyArray<ZipEntry>, Errors.NovelAIError> => {
  if (!isZip(bytes)) {
    const head = new TextDecoder().decode(bytes.subarray(0, 120)).replace(/[^\x20-\x7e]/g, "?")
    return Effect.fail(
      decodeError(
        context,
        `the response was not a ZIP archive (${bytes.length} bytes: ${JSON.stringify(context.scrub(head))})`,
        status
      )
    )
  }
  let total = 0
  let over = false
  let files: Record<string, Uint8Array>
  try {
    files = fflate.unzipSync(bytes, {
      filter: (file) => {
        if (!keep(file.name)) return false
        total += file.originalSize
        if (total > limit) over = true
        return !over
      }
    })
  } catch (error) {
    return Effect.fail(
      decodeError(
        context,
        `the ZIP archive could not be read (${error instanceof Error ? error.message : String(error)})`,
        status
      )
    )
  }
  if (over) return Effect.fail(tooLarge(context, limit, "the archive's files", status))
  return Effect.succeed(Object.entries(files).map(([name, data]) => ({ name, bytes: data })))
}

/** A ZIP answer's entries that `keep` accepts: body and contents each at most `limit` bytes. */
export const readZip = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  limit: number,
  keep: (name: string) => boolean
): Effect.Effect<ReadonlyArray<ZipEntry>, Errors.NovelAIError> =>
  Effect.flatMap(
    Effect.zip(
      readBytes(context, response, limit),
      Effect.tryPromise({
        try: loadFflate,
        catch: () =>
          decodeError(
            context,
            "the ZIP reader (the fflate package) could not be loaded: install fflate",
            response.status
          )
      }),
      { concurrent: true }
    ),
    ([bytes, fflate]) => unzipEntries(context, fflate, bytes, limit, keep, response.status)
  )
