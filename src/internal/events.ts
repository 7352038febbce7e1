/**
 * What a stream's events mean: NovelAI's semantics on top of SSE framing, as a pure step function
 * (one event in, one outcome out) so it is tested without streams or channels.
 *
 * - `[DONE]` ends the stream at once, whatever follows.
 * - An `event: error` frame, or a data payload that is an error body, fails the stream with the
 *   typed error it describes.
 * - Events with other names (`event: ping`) are not chunks and are skipped.
 * - The input ending before `[DONE]` and before any choice finished is a truncated generation.
 */
import * as Either from "effect/Either"
import * as Errors from "../Errors.js"
import type { Usage } from "../Sampling.js"
import { truncate } from "./decode.js"
import { type ErrorContext, isErrorPayload, parseBody } from "./errors.js"
import type { EventSourceMessage } from "./sse.js"

/** What a stream has said about its generation so far. */
export class Progress {
  /** Chunks decoded. */
  received = 0
  id: string | undefined = undefined
  model: string | undefined = undefined
  usage: Usage | undefined = undefined
  /** The finish reason of each choice that finished, by index. */
  readonly finished = new Map<number, string>()
  /** `choices`: how many choices the request asked for. */
  constructor(readonly choices: number) {}
  /** Whether every choice asked for has finished: the text is complete even without `[DONE]`. */
  complete(): boolean {
    return this.finished.size >= this.choices
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
}

/** The outcome of one event. */
export type Step<A> =
  | { readonly _tag: "Chunk"; readonly chunk: A }
  | { readonly _tag: "Skip" }
  | { readonly _tag: "Done" }
  | { readonly _tag: "Fail"; readonly error: Errors.NovelAIError }

const skip: Step<never> = { _tag: "Skip" }
const done: Step<never> = { _tag: "Done" }

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
  const name = event.event ?? "message"
  if (name === "error") return { _tag: "Fail", error: failure(parseBody(data)) }
  if (!spec.chunkEvents.has(name)) return skip
  // A chunk starts with "{"; only other payloads are trimmed (a copy) to look for [DONE].
  if (data.charCodeAt(0) !== OPEN_BRACE) {
    const trimmed = data.trim()
    if (trimmed === "[DONE]") return done
    if (trimmed === "") return skip
  }
  let json: unknown
  try {
    json = JSON.parse(data)
  } catch {
    if (unterminated) return skip
    return {
      _tag: "Fail",
      error: new Errors.ResponseDecodeError({
        message: `${spec.context.endpoint}: a stream frame was not valid JSON: ${JSON.stringify(truncate(spec.context.scrub(data), 200))}`,
        endpoint: spec.context.endpoint
      })
    }
  }
  if (isErrorPayload(json)) return { _tag: "Fail", error: failure(json) }
  const decoded = spec.decode(json)
  if (Either.isLeft(decoded)) return { _tag: "Fail", error: decoded.left }
  progress.received++
  spec.observe(decoded.right, progress)
  return { _tag: "Chunk", chunk: decoded.right }
}

/** The body ended without `[DONE]`: complete if a choice finished, else a truncated generation. */
export const end = (context: ErrorContext, progress: Progress): Errors.StreamTruncatedError | undefined =>
  progress.finished.size > 0
    ? undefined
    : new Errors.StreamTruncatedError({
        message: `${context.endpoint}: the stream ended before [DONE] and before any finish_reason; the generation is incomplete (${progress.received} ${progress.received === 1 ? "chunk" : "chunks"} received)`,
        endpoint: context.endpoint,
        chunksReceived: progress.received
      })

/** What the OpenAI-compatible chunks (chat and completions) say about their generation. */
export const observeChoices = (
  chunk: {
    readonly id: string
    readonly model: string
    readonly usage?: Usage | undefined
    readonly choices: ReadonlyArray<{ readonly index: number; readonly finish_reason: string | null }>
  },
  progress: Progress
): void => {
  if (progress.id === undefined && chunk.id !== "") progress.id = chunk.id
  if (progress.model === undefined && chunk.model !== "") progress.model = chunk.model
  if (chunk.usage !== undefined) progress.usage = chunk.usage
  for (const choice of chunk.choices) {
    if (choice.finish_reason !== null) progress.finished.set(choice.index, choice.finish_reason)
  }
}
