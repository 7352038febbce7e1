/**
 * Answers that are ZIP archives (NovelAI's images): the body read up to a byte limit, then its
 * entries with `fflate` (loaded only when a ZIP answer arrives, so a bundle that never reads one
 * does not carry it). What the entries may decompress to is bounded by the same limit, from the
 * sizes the archive's central directory declares; an entry that inflates past its declared size
 * fails rather than growing.
 */
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
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
export const loadFflate = (): Promise<Fflate> => {
  fflate ??= import("fflate").catch((error: unknown) => {
    fflate = undefined
    throw error
  })
  return fflate
}

const decodeError = (context: ErrorContext, message: string, status: number) =>
  new Errors.ResponseDecodeError({
    message: `${context.endpoint}: ${message}`,
    endpoint: context.endpoint,
    status
  })

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
  if (over) return Effect.fail(Encoding.tooLarge(context, limit, status, "the archive's files"))
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
      Encoding.bounded(context, response, limit),
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
