/**
 * Response bodies, decoded when a proxy compressed them although the client asked for none
 * (`accept-encoding: identity`, see `http.ts`). The Fetch transport decodes them itself; undici's
 * request API hands over the compressed bytes. So a body is looked at, not its header alone: gzip
 * and deflate bytes (recognised by their first bytes) are inflated with the platform's
 * `DecompressionStream`; anything else the transport did not decode (br, zstd) is a
 * `ResponseDecodeError` that names the encoding. A body with no `content-encoding` takes none of
 * this.
 */
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Errors from "../../Errors.js"
import { type ErrorContext, toTransportError } from "./errors.js"

type Format = "gzip" | "deflate"

export const encodingOf = (response: HttpClientResponse.HttpClientResponse): string | undefined => {
  const encoding = response.headers["content-encoding"]?.trim().toLowerCase()
  return encoding === undefined || encoding === "" || encoding === "identity" ? undefined : encoding
}

/** The compression the body's first bytes show, if any: gzip's magic number, or a zlib header. */
const compressedAs = (bytes: Uint8Array): Format | undefined => {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return "gzip"
  if (bytes.length >= 2 && (bytes[0]! & 0x0f) === 8 && ((bytes[0]! << 8) | bytes[1]!) % 31 === 0)
    return "deflate"
  return undefined
}

const undecodable = (context: ErrorContext, encoding: string, status: number) =>
  new Errors.ResponseDecodeError({
    message: `${context.endpoint}: the answer came compressed (content-encoding: ${encoding}) although the client asked for none, and the transport did not decode it; a proxy between you and the server compressed it`,
    status,
    endpoint: context.endpoint
  })

/** Is the body still compressed (the transport did not decode it), and how. */
const classify = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  encoding: string,
  first: Uint8Array
): Format | "plain" | Errors.ResponseDecodeError => {
  const format = compressedAs(first)
  if (format !== undefined) return format
  // Text (JSON, SSE) starts with a printable byte: the transport decoded it, or it was never encoded.
  if (
    first.length === 0 ||
    first[0]! === 0x0a ||
    first[0]! === 0x0d ||
    (first[0]! >= 0x20 && first[0]! < 0x7f)
  ) {
    return "plain"
  }
  return undecodable(context, encoding, response.status)
}

const inflate = (bytes: ReadableStream<Uint8Array>, format: Format): ReadableStream<Uint8Array> =>
  bytes.pipeThrough(new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>)

/** The failure of a body (or of `what` in it: an archive's files, a stream's frame) over its cap. */
export const tooLarge = (
  context: ErrorContext,
  limit: number,
  status: number | undefined,
  what = "the response"
) =>
  new Errors.ResponseTooLargeError({
    message: `${context.endpoint}: ${what} is larger than ${limit} bytes (maxResponseBytes)`,
    status,
    endpoint: context.endpoint,
    limit
  })

/**
 * The whole body, decoded, as bytes: at most `limit` of them, counted after decompression (a body
 * declared within the cap, with no encoding, is read whole); a larger body fails with a `ResponseTooLargeError` as soon as it passes the cap, and its reading stops.
 */
export const bounded = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<Uint8Array, Errors.NovelAIError> =>
  Effect.suspend(() => {
    const declared = Number(response.headers["content-length"])
    // Declared within the cap, with no encoding: read whole (HTTP holds it to its length), without
    // a stream's pulls.
    if (encodingOf(response) === undefined && declared <= limit) {
      return Effect.mapBoth(response.arrayBuffer, {
        onFailure: toTransportError(context),
        onSuccess: (buffer) => new Uint8Array(buffer)
      })
    }
    if (encodingOf(response) === undefined && declared > limit) {
      return Effect.zipRight(
        Effect.ignore(Stream.runDrain(Stream.take(response.stream, 0))),
        Effect.fail(tooLarge(context, limit, response.status))
      )
    }
    const parts: Array<Uint8Array> = []
    let size = 0
    return Effect.map(
      Stream.runForEachChunk(bytes(context, response), (chunk) => {
        for (const part of chunk) {
          size += part.length
          if (size > limit) return Effect.fail(tooLarge(context, limit, response.status))
          parts.push(part)
        }
        return Effect.void
      }),
      () => {
        if (parts.length === 1) return parts[0]!
        const whole = new Uint8Array(size)
        let at = 0
        for (const part of parts) {
          whole.set(part, at)
          at += part.length
        }
        return whole
      }
    )
  })

/**
 * The whole body as text, at most `limit` bytes of it (see {@link bounded}). A body the server
 * declared no larger than the cap, with no encoding, is read whole (HTTP holds it to its length).
 */
export const text = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<string, Errors.NovelAIError> => {
  const declared = Number(response.headers["content-length"])
  if (encodingOf(response) === undefined && declared <= limit) {
    return Effect.mapError(response.text, toTransportError(context))
  }
  return Effect.map(bounded(context, response, limit), (bytes) => new TextDecoder().decode(bytes))
}

/** The body's bytes as they arrive. */
export const bytes = (
  context: ErrorContext,
  response: HttpClientResponse.HttpClientResponse
): Stream.Stream<Uint8Array, Errors.NovelAIError> => {
  const encoding = encodingOf(response)
  const raw = Stream.mapError(response.stream, toTransportError(context))
  if (encoding === undefined) return raw
  return Stream.unwrapScoped(
    Effect.gen(function* () {
      const reader = (yield* Stream.toReadableStreamEffect(raw)).getReader()
      yield* Effect.addFinalizer(() => Effect.promise(() => reader.cancel().catch(() => undefined)))
      const head = yield* Effect.tryPromise({
        try: () => reader.read(),
        catch: (error) =>
          Errors.isNovelAIError(error) ? error : undecodable(context, encoding, response.status)
      })
      const first = head.value ?? new Uint8Array()
      const kind = classify(context, response, encoding, first)
      if (kind instanceof Errors.ResponseDecodeError) return Stream.fail(kind)
      const rest = new ReadableStream<Uint8Array>({
        start: (controller) => {
          if (head.done) controller.close()
          else controller.enqueue(first)
        },
        pull: async (controller) => {
          const next = await reader.read()
          if (next.done) controller.close()
          else controller.enqueue(next.value)
        },
        cancel: () => reader.cancel()
      })
      return Stream.fromReadableStream({
        evaluate: () => (kind === "plain" ? rest : inflate(rest, kind)),
        onError: (error) =>
          Errors.isNovelAIError(error) ? error : undecodable(context, `${encoding}, corrupt`, response.status)
      })
    })
  )
}
