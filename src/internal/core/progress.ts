/**
 * What a stream's events mean: NovelAI's semantics on top of SSE framing, as a pure step function
 * (one event in, one outcome out) so it is tested without streams or channels.
 *
 * - The endpoint's done data (`[DONE]`) ends the stream at once, whatever follows; before any
 *   chunk, it is a `StreamTruncatedError` (nothing was generated).
 * - An `event: error` frame, or a data payload that is an error body, fails the stream with the
 *   typed error it describes.
 * - Events with other names (`event: ping`) are not chunks and are skipped.
 * - The input ending before every part (choice, sample) finished is a truncated generation, even
 *   if some parts did: their text is whole, the others' is not.
 */
import * as Either from "effect/Either"
import * as Errors from "../../Errors.js"
import { truncate } from "./decode.js"
import { type ErrorContext, isErrorPayload, parseBody } from "./errors.js"
import type { EventSourceMessage } from "./sse.js"
import type { TokenUsage } from "./telemetry.js"

/** What a stream has said about its generation so far. */
export class Progress {
  /** Chunks decoded. */
  received = 0
  id: string | undefined = undefined
  model: string | undefined = undefined
  usage: TokenUsage | undefined = undefined
  /** The finish reason of each part (choice, sample) that finished, by index. */
  readonly finished = new Map<number, string>()
  /** `parts`: how many parts (choices, samples) the request asked for. */
  constructor(readonly parts: number) {}
  /** Whether every part asked for has finished: the generation is complete even without `[DONE]`. */
  complete(): boolean {
    return this.finished.size >= this.parts
  }
}

/** How one endpoint's events become chunks. */
export interface EventSpec<A> {
  readonly context: ErrorContext
  /** SSE event names whose data are chunks; an event without `event:` is named "message". */
  readonly chunkEvents: ReadonlySet<string>
  /** Decodes one JSON-parsed data payload into a chunk. */
  readonly decode: (json: unknown) => Either.Either<A, Errors.NovelAIError>
  /** Records what a chunk says: finished choices, id, model, usage. */
  readonly observe: (chunk: A, progress: Progress) => void
  /** The data of an event that ends the stream at once (`[DONE]`), if any. */
  readonly doneData: string | undefined
  /** What a complete stream has that a truncated one lacks, for the error's message. */
  readonly ending: string
}

/** An event that carries no chunk (a comment-only frame, an empty payload, a ping). */
export const Skip: unique symbol = Symbol("effect-novelai/events/Skip")
/** `[DONE]`: the stream ends here, whatever follows. */
export const Done: unique symbol = Symbol("effect-novelai/events/Done")
/** The event fails the stream with `error`. */
export class Failure {
  constructor(readonly error: Errors.NovelAIError) {}
}

/**
 * The outcome of one event: its chunk, {@link Skip}, {@link Done} or a {@link Failure}. (A chunk is
 * returned as it is, not wrapped: this runs for every event of every stream.)
 */
export type Step<A> = A | typeof Skip | typeof Done | Failure

const OPEN_BRACE = 123

/**
 * The outcome of one event. `failure` turns an error body into its typed error; `unterminated`
 * says the event was cut off by the end of the body (then malformed JSON means truncation, which
 * {@link end} reports, rather than a decode error).
 */
export const step = <A>(
  spec: EventSpec<A>,
  progress: Progress,
  event: EventSourceMessage,
  failure: (body: unknown) => Errors.NovelAIError,
  unterminated: boolean
): Step<A> => {
  const data = event.data
  const name = event.event
  if (name !== undefined && name !== "message") {
    if (name === "error") return new Failure(failure(parseBody(data)))
    if (!spec.chunkEvents.has(name)) return Skip
  } else if (!spec.chunkEvents.has("message")) {
    return Skip
  }
  // A chunk starts with "{"; only other payloads are trimmed (a copy) to look for [DONE].
  if (data.charCodeAt(0) !== OPEN_BRACE) {
    const trimmed = data.trim()
    if (trimmed === spec.doneData) {
      // A stream that ends before its first chunk generated nothing: no reply is there to give.
      if (progress.received > 0) return Done
      return new Failure(
        new Errors.StreamTruncatedError({
          message: `${spec.context.endpoint}: the stream ended (${spec.doneData}) before its first chunk; nothing was generated`,
          endpoint: spec.context.endpoint,
          chunksReceived: 0
        })
      )
    }
    if (trimmed === "") return Skip
  }
  let json: unknown
  try {
    json = JSON.parse(data)
  } catch {
    if (unterminated) return Skip
    return new Failure(
      new Errors.ResponseDecodeError({
        message: `${spec.context.endpoint}: a stream frame was not valid JSON: ${JSON.stringify(truncate(spec.context.scrub(data), 200))}`,
        endpoint: spec.context.endpoint
      })
    )
  }
  if (isErrorPayload(json)) return new Failure(failure(json))
  const decoded = spec.decode(json)
  if (Either.isLeft(decoded)) return new Failure(decoded.left)
  progress.received++
  spec.observe(decoded.right, progress)
  return decoded.right
}

/** The body ended without `[DONE]`: complete if every part finished, else a truncated generation. */
export const end = <A>(spec: EventSpec<A>, progress: Progress): Errors.StreamTruncatedError | undefined => {
  const { context } = spec
  return progress.complete()
    ? undefined
    : new Errors.StreamTruncatedError({
        message: `${context.endpoint}: the stream ended ${spec.ending}; the generation is incomplete (${progress.received} ${progress.received === 1 ? "chunk" : "chunks"} received)`,
        endpoint: context.endpoint,
        chunksReceived: progress.received
      })
}
