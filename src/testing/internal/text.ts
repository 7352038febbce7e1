/** The simulator's text: deterministic from the prompt and the seed, one word a token. */

const SENTENCES = [
  "Once upon a time, a small fox lived at the edge of a quiet forest.",
  "Every evening she climbed the hill to watch the lanterns of the village.",
  "The river carried old songs down from the mountains.",
  "One night a letter arrived, sealed with silver wax.",
  "Nobody in the village could read the strange handwriting.",
  "The fox set out at dawn, following the road toward the sea.",
  "Along the way she met a heron who knew every story of the coast.",
  "Together they crossed the bridge as the morning fog lifted.",
  "At the harbour an old sailor smiled and opened the letter.",
  "It was an invitation to a festival of light beyond the hills.",
  "The wind turned warm, and the bells began to ring.",
  "And so the journey, like all good journeys, began with a single step."
].map((sentence) => sentence.split(" ").map((word) => ` ${word}`))

/** FNV-1a: a seed from a text. */
export const hash = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** A xorshift step: the next number in [0, 1). */
export const nextRandom = (state: { s: number }): number => {
  let x = state.s || 0x9e3779b9
  x ^= x << 13
  x ^= x >>> 17
  x ^= x << 5
  state.s = x >>> 0
  return state.s / 4294967296
}

/** The simulator's own tokenizer: words and punctuation. */
export const countTokens = (text: string): number =>
  text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)?.length ?? 0

/** One generation: its tokens in order (a word with its leading space), how many, and why it ends. */
export interface Generation {
  readonly tokens: () => Iterator<string>
  readonly length: number
  readonly finishReason: "stop" | "length"
}

/**
 * The generation for `input`: its natural length comes from the prompt and seed, cut at
 * `maxTokens` (default 64) or at the first stop sequence; `forced` sets the length outright.
 */
export const generate = (
  input: string,
  seed: number | undefined,
  maxTokens: number | undefined,
  stop: unknown,
  forced?: number
): Generation => {
  const start = hash(`${input}\u0000${seed ?? 0}`)
  const tokens = function* () {
    const state = { s: start }
    let sentence = Math.floor(nextRandom(state) * SENTENCES.length)
    while (true) {
      yield* SENTENCES[sentence]!
      sentence = (sentence + 1 + Math.floor(nextRandom(state) * 3)) % SENTENCES.length
    }
  }
  const natural = forced ?? 24 + (start % 400)
  const limit = maxTokens ?? 64
  let length = forced ?? Math.min(natural, limit)
  let finishReason: "stop" | "length" = forced !== undefined || natural <= limit ? "stop" : "length"
  const stops = (typeof stop === "string" ? [stop] : Array.isArray(stop) ? stop : []).filter(
    (s): s is string => typeof s === "string" && s !== ""
  )
  if (stops.length > 0 && forced === undefined) {
    let text = ""
    const it = tokens()
    for (let i = 0; i < length; i++) {
      text += it.next().value
      if (stops.some((s) => text.includes(s))) {
        length = i
        finishReason = "stop"
        break
      }
    }
  }
  return { tokens, length, finishReason }
}

/** The whole text of a generation. */
export const textOf = (generation: Generation): string => {
  const it = generation.tokens()
  return Array.from({ length: generation.length }, () => it.next().value).join("")
}
