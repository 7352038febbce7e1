/**
 * One reply as the command line shows it: the text written as it streams, the thinking apart
 * (dimmed, or not at all), a spinner until the first token and the time and token rate after it
 * on a terminal, and Ctrl-C cancelling the generation (the request closed) with what came kept.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import type { ChatCompletionChunk } from "../ChatCompletions.js"
import type { CompletionChunk } from "../Completions.js"
import type { NovelAIError } from "../Errors.js"
import type { Usage } from "../Sampling.js"
import { ctrlC, outputIsTerminal, spinner, style, write } from "./terminal.js"

/** What one chunk adds: answer text, thinking, usage. */
export interface Piece {
  readonly content?: string | undefined
  readonly reasoning?: string | undefined
  readonly usage?: Usage | undefined
}

/** The pieces of a chat stream's first choice. */
export const chatPieces = <E, R>(
  stream: Stream.Stream<ChatCompletionChunk, E, R>
): Stream.Stream<Piece, E, R> =>
  Stream.map(stream, (chunk) => {
    const choice = chunk.choices.find((c) => c.index === 0)
    return { content: choice?.delta.content, reasoning: choice?.delta.reasoning_content, usage: chunk.usage }
  })

/** The pieces of a completion stream's first choice. */
export const completionPieces = <E, R>(
  stream: Stream.Stream<CompletionChunk, E, R>
): Stream.Stream<Piece, E, R> =>
  Stream.map(stream, (chunk) => ({
    content: chunk.choices.find((c) => c.index === 0)?.text,
    usage: chunk.usage
  }))

/** What was received of a reply. */
export interface Reply {
  readonly content: string
  readonly reasoning: string
  /** Ctrl-C ended it before the model did. */
  readonly cancelled: boolean
}

export interface ReplyOptions {
  /** Show the thinking, dimmed, before the answer. */
  readonly showThinking: boolean
  /** Ctrl-C cancels the reply rather than the program (the interactive chat). */
  readonly cancellable: boolean
}

/** Streams a reply to stdout. */
export const show = <R>(
  pieces: Stream.Stream<Piece, NovelAIError, R>,
  options: ReplyOptions
): Effect.Effect<Reply, NovelAIError, R> =>
  Effect.gen(function* () {
    const s = style()
    const terminal = outputIsTerminal()
    const started = yield* Clock.currentTimeMillis
    let content = ""
    let reasoning = ""
    let tokens = 0
    let usage: Usage | undefined
    let thinking = false
    const spin = yield* Effect.fork(spinner(s.dim("waiting for the first token")))
    const stopSpinner = Fiber.interrupt(spin)
    const run = Stream.runForEach(pieces, (piece) =>
      Effect.suspend(() => {
        if (piece.usage !== undefined) usage = piece.usage
        let out = ""
        if (piece.reasoning) {
          reasoning += piece.reasoning
          tokens++
          if (options.showThinking) {
            out += s.dim(piece.reasoning)
            thinking = true
          }
        }
        if (piece.content) {
          if (thinking) {
            out += "\n\n"
            thinking = false
          }
          if (content === "" && reasoning !== "")
            piece = { ...piece, content: piece.content.replace(/^\s+/, "") }
          content += piece.content
          tokens++
          out += piece.content
        }
        return out === "" ? Effect.void : Effect.zipRight(stopSpinner, write(out))
      })
    )
    const cancelled = yield* (
      options.cancellable
        ? Effect.raceFirst(Effect.as(run, false), Effect.as(ctrlC, true))
        : Effect.as(run, false)
    ).pipe(
      Effect.ensuring(stopSpinner),
      // A reply cut by an error ends its line, so that the error is not written after its text.
      Effect.tapError(() => (content === "" && !thinking ? Effect.void : write("\n")))
    )
    const ended = yield* Clock.currentTimeMillis
    if (cancelled) yield* write(s.dim(" [cancelled]"))
    if (!content.endsWith("\n") || cancelled) yield* write("\n")
    if (terminal) {
      const seconds = (ended - started) / 1000
      const count = usage?.completion_tokens ?? tokens
      const rate = seconds > 0 ? Math.round(count / seconds) : count
      yield* write(s.dim(`(${seconds.toFixed(1)} s, ${count} tokens, ${rate} tokens/s)\n`))
    }
    return { content, reasoning, cancelled }
  })
