import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { createParser, type EventSourceMessage } from "eventsource-parser"
import * as Errors from "../Errors.js"
import { truncate } from "./decode.js"
import { type ErrorContext, fromFailure, isErrorPayload, parseBody } from "./errors.js"

/** A single event larger than this is refused rather than buffered without bound. */
const MAX_EVENT_BYTES = 8 * 1024 * 1024

/** The most events decoded into one chunk. */
const MAX_BATCH = 1024

export interface SseOptions<A> {
  readonly context: ErrorContext
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly nowMillis: () => number
  /** Decodes one `data:` payload (already JSON-parsed) into a chunk. */
  readonly decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>
  /** Whether a chunk reports a `finish_reason` (the generation completed even without `[DONE]`). */
  readonly isFinal: (chunk: A) => boolean
  /** Called as decoding waits for the next bytes, and as they (or the end) arrive: the idle clock. */
  readonly beforeRead?: () => void
  readonly afterRead?: () => void
}

type Step<A> =
  | { readonly _tag: "More"; readonly out: Array<A> }
  | { readonly _tag: "Done"; readonly out: Array<A> }
  | { readonly _tag: "Fail"; readonly out: Array<A>; readonly error: Errors.NovelAIError }

/**
 * Decodes an SSE byte stream into chunks: `eventsource-parser` does the framing (any line ending,
 * any chunk boundary), a streaming TextDecoder the UTF-8; the NovelAI semantics are here: `[DONE]`
 * ends the stream at once, error frames and error payloads fail it, and an end of input before
 * `[DONE]` and before any `finish_reason` is a {@link Errors.StreamTruncatedError}. Input is pulled
 * only as the consumer pulls.
 */
export const decodeSse =
  <A>(options: SseOptions<A>) =>
  <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<A, E | Errors.NovelAIError, R> =>
    Stream.pipeThroughChannel(
      bytes,
      Channel.suspend(() => {
        const { context, decode, isFinal } = options
        const decoder = new TextDecoder()
        // Events framed but not yet decoded, from `head` on. They are decoded in batches that start
        // at one event and double up to MAX_BATCH: the first chunk reaches the consumer without
        // waiting for the rest of a large network read to be decoded, and long streams still
        // move in large chunks. A consumer that stops early leaves the rest undecoded.
        let events: Array<EventSourceMessage> = []
        let head = 0
        let batch = 1
        let overflow = false
        let ended = false
        let finished = false
        let received = 0
        // The event the server did not close with a blank line, framed when the input ended.
        let unterminated: EventSourceMessage | undefined
        const parser = createParser({
          maxBufferSize: MAX_EVENT_BYTES,
          onEvent: (event) => {
            events.push(event)
          },
          onError: (error) => {
            if (error.type === "max-buffer-size-exceeded") overflow = true
          }
        })

        const fail = (error: Errors.NovelAIError, out: Array<A>): Step<A> => ({ _tag: "Fail", out, error })

        /** Decodes the next batch of framed events. */
        const drain = (): Step<A> => {
          const out: Array<A> = []
          if (overflow) {
            return fail(
              new Errors.ResponseDecodeError({
                message: `${context.endpoint}: a stream event exceeded ${MAX_EVENT_BYTES} bytes`,
                endpoint: context.endpoint
              }),
              out
            )
          }
          const end = Math.min(events.length, head + batch)
          batch = Math.min(batch * 2, MAX_BATCH)
          while (head < end) {
            const event = events[head++]!
            const data = event.data
            if (event.event === "error") {
              return fail(
                fromFailure(context, {
                  status: undefined,
                  body: parseBody(data),
                  headers: options.headers,
                  nowMillis: options.nowMillis()
                }),
                out
              )
            }
            // Trim only short payloads: a JSON chunk is never "[DONE]", and trimming each one costs a copy.
            if (data.length < 16) {
              const short = data.trim()
              if (short === "[DONE]") return { _tag: "Done", out }
              if (short === "") continue
            }
            let json: unknown
            try {
              json = JSON.parse(data)
            } catch {
              // Cut off by the end of the connection: the stream is truncated, not malformed.
              if (event === unterminated) continue
              return fail(
                new Errors.ResponseDecodeError({
                  message: `${context.endpoint}: a stream frame was not valid JSON: ${JSON.stringify(truncate(context.scrub(data), 200))}`,
                  endpoint: context.endpoint
                }),
                out
              )
            }
            if (isErrorPayload(json)) {
              return fail(
                fromFailure(context, {
                  status: undefined,
                  body: json,
                  headers: options.headers,
                  nowMillis: options.nowMillis()
                }),
                out
              )
            }
            const decoded = decode(json)
            if (Either.isLeft(decoded)) return fail(decoded.left, out)
            received++
            if (!finished && isFinal(decoded.right)) finished = true
            out.push(decoded.right)
          }
          if (head === events.length) {
            events = []
            head = 0
          }
          return { _tag: "More", out }
        }

        const emit = <Next>(out: Array<A>, next: Next) =>
          out.length === 0 ? next : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(out)), next as any)

        type Decoding = Channel.Channel<
          Chunk.Chunk<A>,
          Chunk.Chunk<Uint8Array>,
          E | Errors.NovelAIError,
          E,
          void,
          unknown
        >

        /** What comes next: a batch of framed events, more input, or the end. */
        const next = (): Decoding => {
          if (head < events.length || overflow) {
            const step = drain()
            switch (step._tag) {
              case "Done":
                return emit(step.out, Channel.void) as any
              case "Fail":
                return emit(step.out, Channel.fail(step.error)) as any
              case "More":
                return emit(step.out, Channel.suspend(next)) as any
            }
          }
          if (ended) {
            // Input over without [DONE]: complete if a chunk carried a finish_reason, else truncated.
            return finished
              ? Channel.void
              : Channel.fail(
                  new Errors.StreamTruncatedError({
                    message: `${context.endpoint}: the stream ended before [DONE] and before any finish_reason; the generation is incomplete (${received} ${received === 1 ? "chunk" : "chunks"} received)`,
                    endpoint: context.endpoint,
                    chunksReceived: received
                  })
                )
          }
          options.beforeRead?.()
          return Channel.readWithCause({
            onInput: (input: Chunk.Chunk<Uint8Array>) => {
              options.afterRead?.()
              // After an oversized event the parser refuses (throws on) any further input.
              for (const bytes of input) {
                if (overflow) break
                parser.feed(decoder.decode(bytes, { stream: true }))
              }
              return next()
            },
            onFailure: (cause) => {
              options.afterRead?.()
              return Channel.failCause(cause)
            },
            onDone: () => {
              options.afterRead?.()
              const tail = decoder.decode()
              if (tail !== "") parser.feed(tail)
              // The SSE spec drops an event the input ends inside. A last event that is whole but
              // lacks its blank line (`data: [DONE]` at the very end) still counts; one cut off
              // mid-JSON is skipped, so the stream reads as truncated.
              const framed = events.length
              parser.feed("\n\n")
              if (events.length > framed) unterminated = events[framed]
              ended = true
              return next()
            }
          })
        }

        return next()
      })
    )
