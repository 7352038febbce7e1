/** A native token stream folded into the whole generation `text.generate` returns. */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { TextGeneration, TextToken } from "../../TextGeneration.js"
import { type Collector, fold } from "../core/collect.js"

/** Whether a generation asks for token ids, not text (`extraBody: { use_string: false }`). */
const asIds = (params: Record<string, unknown>): boolean => {
  const extra = params.extraBody as Record<string, unknown> | undefined
  return typeof extra === "object" && extra !== null && extra.use_string === false
}

/**
 * Collects native tokens into the {@link TextGeneration} `text.generate` returns: the tokens'
 * text concatenated, and their `logprobs` in order when they carry any. With `use_string: false`
 * each token is the base64 of its id's bytes, and the whole output the base64 of all of them, as a
 * plain call answers: the bytes are joined, not the base64 texts.
 */
export const textCollector = (params: Record<string, unknown> = {}): Collector<TextToken, TextGeneration> => {
  // Bytes (as a binary string) while every piece is base64; a piece that is not turns it to text.
  let ids = asIds(params)
  let output = ""
  let bytes = ""
  const logprobs: Array<unknown> = []
  return {
    add: (tokens) => {
      for (const token of tokens) {
        output += token.token
        if (ids) {
          try {
            bytes += atob(token.token)
          } catch {
            ids = false
          }
        }
        if (token.logprobs !== undefined) logprobs.push(token.logprobs)
      }
    },
    result: () => {
      const text = ids ? btoa(bytes) : output
      return logprobs.length === 0 ? { output: text } : { output: text, logprobs }
    }
  }
}

/** A native token stream as the {@link TextGeneration} `text.generate` returns. */
export const text: <E, R>(stream: Stream.Stream<TextToken, E, R>) => Effect.Effect<TextGeneration, E, R> =
  fold(() => textCollector())
