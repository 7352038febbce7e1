/** A native token stream folded into the whole generation `text.generate` returns. */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { TextGeneration, TextToken } from "../../TextGeneration.js"
import { type Collector, fold } from "../core/collect.js"

/**
 * Collects native tokens into the {@link TextGeneration} `text.generate` returns: the tokens'
 * text concatenated, and their `logprobs` in order when they carry any.
 */
export const textCollector = (): Collector<TextToken, TextGeneration> => {
  let output = ""
  const logprobs: Array<unknown> = []
  return {
    add: (tokens) => {
      for (const token of tokens) {
        output += token.token
        if (token.logprobs !== undefined) logprobs.push(token.logprobs)
      }
    },
    result: () => (logprobs.length === 0 ? { output } : { output, logprobs })
  }
}

/** A native token stream as the {@link TextGeneration} `text.generate` returns. */
export const text: <E, R>(stream: Stream.Stream<TextToken, E, R>) => Effect.Effect<TextGeneration, E, R> =
  fold(textCollector)
