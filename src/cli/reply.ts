/**
 * One reply as the command line shows it: the text written as it streams, the thinking apart
 * (dimmed, marked in words without colours, or not at all), a spinner until the first token and
 * the time and token rate after it on a terminal, and Ctrl-C cancelling the generation (the request
 * closed) with what came kept. Nothing the server sends reaches the terminal uncleaned.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import type { ChatCompletionChunk } from "../ChatCompletions.js"
import type { CompletionChunk } from "../Completions.js"
import type { NovelAIError } from "../Errors.js"
import type { Usage } from "../Sampling.js"
import { makeCleaner } from "./sanitize.js"
import { outputIsTerminal, spinner, style, write } from "./terminal.js"

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

/** What was received of a reply, as shown (control sequences removed). */
export interface Reply {
  readonly content: string
  readonly reasoning: string
  /** Ctrl-C ended it before the model did. */
  readonly cancelled: boolean
}

export interface ReplyOptions {
  /** Show the thinking before the answer: dimmed, or between `[thinking]` and `[/thinking]` without colours. */
  readonly showThinking: boolean
  /** Succeeds when the user cancels the reply (Ctrl-C in the interactive chat); none: it cannot be. */
  readonly cancel?: Effect.Effect<void> | undefined
}

/** Streams a reply to stdout, every piece cleaned of control sequences before it is shown. */
export const show = <R>(
  pieces: Stream.Stream<Piece, NovelAIError, R>,
  options: ReplyOptions
): Effect.Effect<Reply, NovelAIError, R> =>
  Effect.gen(function* () {
    const s = style()
    const terminal = outputIsTerminal()
    const started = yield* Clock.currentTimeMillis
    const answer = makeCleaner()
    const thought = makeCleaner()
    let content = ""
    let reasoning = ""
    let tokens = 0
    let usage: Usage | undefined
    let thinking = false
    // Without colours the thinking is marked in words, else it would read as the answer.
    const endThinking = () => {
      thinking = false
      return s.coloured ? "" : " [/thinking]"
    }
    const spin = yield* Effect.fork(spinner(s.dim("waiting for the first token")))
    const stopSpinner = Fiber.interrupt(spin)
    const run = Stream.runForEach(pieces, (piece) =>
      Effect.suspend(() => {
        if (piece.usage !== undefined) usage = piece.usage
        let out = ""
        if (piece.reasoning) {
          tokens++
          const shown = thought.push(piece.reasoning)
          reasoning += shown
          if (options.showThinking && shown !== "") {
            if (!thinking && !s.coloured) out += "[thinking] "
            out += s.dim(shown)
            thinking = true
          }
        }
        if (piece.content) {
          tokens++
          let shown = answer.push(piece.content)
          if (content === "" && reasoning !== "") shown = shown.replace(/^\s+/, "")
          if (shown !== "") {
            if (thinking) out += `${endThinking()}\n\n`
            content += shown
            out += shown
          }
        }
        return out === "" ? Effect.void : Effect.zipRight(stopSpinner, write(out))
      })
    )
    const cancelled = yield* (
      options.cancel !== undefined
        ? Effect.raceFirst(Effect.as(run, false), Effect.as(options.cancel, true))
        : Effect.as(run, false)
    ).pipe(
      Effect.ensuring(stopSpinner),
      // A reply cut by an error ends its line, so that the error is not written after its text.
      Effect.tapError(() =>
        content === "" && !thinking ? Effect.void : write(`${thinking ? endThinking() : ""}\n`)
      )
    )
    const ended = yield* Clock.currentTimeMillis
    content += answer.end()
    reasoning += thought.end()
    // A reply cut while thinking (by --max-tokens, or Ctrl-C) closes its thinking.
    if (thinking) yield* write(endThinking())
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
