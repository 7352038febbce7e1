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

export interface SseOptions<A> {
  readonly context: ErrorContext
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly nowMillis: () => number
  /** Decodes one `data:` payload (already JSON-parsed) into a chunk. */
  readonly decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>
  /** Whether a chunk reports a `finish_reason` (the generation completed even without `[DONE]`). */
  readonly isFinal: (chunk: A) => boolean
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
        let events: Array<EventSourceMessage> = []
        let overflow = false
        let finished = false
        let received = 0
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

        const drain = (): Step<A> => {
          const pending = events
          events = []
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
          for (const event of pending) {
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
          return { _tag: "More", out }
        }

        const emit = <Next>(out: Array<A>, next: Next) =>
          out.length === 0 ? next : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(out)), next as any)

        const finish = (step: Step<A>) => {
          switch (step._tag) {
            case "Done":
              return emit(step.out, Channel.void)
            case "Fail":
              return emit(step.out, Channel.fail(step.error))
            case "More":
              return emit(step.out, loop())
          }
        }

        const loop = (): Channel.Channel<
          Chunk.Chunk<A>,
          Chunk.Chunk<Uint8Array>,
          E | Errors.NovelAIError,
          E,
          void,
          unknown
        > =>
          Channel.readWithCause({
            onInput: (input: Chunk.Chunk<Uint8Array>) => {
              for (const bytes of input) parser.feed(decoder.decode(bytes, { stream: true }))
              return finish(drain()) as any
            },
            onFailure: (cause) => Channel.failCause(cause),
            onDone: () => {
              const tail = decoder.decode()
              if (tail !== "") parser.feed(tail)
              // An event without its closing blank line still counts once the connection has ended.
              parser.reset({ consume: true })
              const step = drain()
              if (step._tag !== "More" || finished)
                return finish(step._tag === "More" ? { _tag: "Done", out: step.out } : step) as any
              return emit(
                step.out,
                Channel.fail(
                  new Errors.StreamTruncatedError({
                    message: `${context.endpoint}: the stream ended before [DONE] and before any finish_reason; the generation is incomplete (${received + step.out.length} chunks received)`,
                    endpoint: context.endpoint,
                    chunksReceived: received
                  })
                )
              ) as any
            }
          })

        return loop()
      })
    )
