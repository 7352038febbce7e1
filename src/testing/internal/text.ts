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
  /** The stop sequence that ended it, if one did. */
  readonly matchedStop: string | undefined
  /** How many of the first tokens are thinking (`<think>` to `</think>`, both counted). */
  readonly thinkingTokens: number
}

/** GLM's thinking before an answer, as it writes it: inline, between tags. */
export const THINKING = [
  "<think>",
  "The",
  " user",
  " wants",
  " a",
  " short",
  " story.",
  " Keep",
  " it",
  " gentle.",
  "</think>"
]

/** What a generation starts with: thinking, a stray `</think>` (as leaks into completions), or the answer. */
export type Lead = "thinking" | "stray-close" | undefined

/** Whether GLM thinks (or leaks a `</think>`) for this prompt and seed though nobody asked: about one in five. */
export const leaksThinking = (input: string, seed: number | undefined): boolean =>
  hash(`${input}\u0000${seed ?? 0}\u0000think`) % 5 === 0

export interface GenerateOptions {
  readonly input: string
  readonly seed: number | undefined
  readonly maxTokens: number | undefined
  readonly stop: unknown
  /** The length outright, whatever the prompt and `maxTokens`. */
  readonly forced?: number | undefined
  readonly lead?: Lead
  /** The text of the answer, when it is not the story (a JSON reply). */
  readonly text?: string | undefined
  /** Text the answer must start with (`generation_prefix`): no thinking comes before it. */
  readonly prefix?: string | undefined
}

/** A fixed text as tokens: up to four characters each, with the whitespace before them. */
const tokensOf = (text: string): Array<string> => text.match(/\s*\S{1,4}|\s+/g) ?? []

/**
 * The generation for an input: its natural length comes from the prompt and seed, cut at
 * `maxTokens` (default 64) or at the first stop sequence; `forced` sets the length outright.
 */
export const generate = (options: GenerateOptions): Generation => {
  const { input, seed, maxTokens, stop, forced, text, prefix } = options
  const lead = prefix === undefined || prefix === "" ? options.lead : undefined
  const start = hash(`${input}\u0000${seed ?? 0}`)
  const fixed = text === undefined ? undefined : tokensOf(text)
  const answer = function* () {
    const state = { s: start }
    let sentence = Math.floor(nextRandom(state) * SENTENCES.length)
    while (true) {
      yield* SENTENCES[sentence]!
      sentence = (sentence + 1 + Math.floor(nextRandom(state) * 3)) % SENTENCES.length
    }
  }
  const leading = [
    ...(lead === "thinking" ? THINKING : lead === "stray-close" ? ["</think>"] : []),
    ...(prefix !== undefined && prefix !== "" && !(text ?? "").startsWith(prefix) ? [prefix] : [])
  ]
  const tokens = function* () {
    yield* leading
    if (fixed === undefined) yield* answer()
    else yield* fixed
  }
  const natural = forced ?? leading.length + (fixed === undefined ? 24 + (start % 400) : fixed.length)
  const limit = maxTokens ?? 64
  let length = forced ?? Math.min(natural, limit)
  let finishReason: "stop" | "length" = forced !== undefined || natural <= limit ? "stop" : "length"
  let matchedStop: string | undefined
  const stops = (typeof stop === "string" ? [stop] : Array.isArray(stop) ? stop : []).filter(
    (s): s is string => typeof s === "string" && s !== ""
  )
  if (stops.length > 0 && forced === undefined) {
    let text = ""
    const it = tokens()
    for (let i = 0; i < length; i++) {
      text += it.next().value
      const matched = stops.find((s) => text.includes(s))
      if (matched !== undefined) {
        length = i
        finishReason = "stop"
        matchedStop = matched
        break
      }
    }
  }
  const thinkingTokens = lead === "thinking" ? Math.min(THINKING.length, length) : 0
  return { tokens, length, finishReason, matchedStop, thinkingTokens }
}

/** The whole text of a generation. */
export const textOf = (generation: Generation): string => {
  const it = generation.tokens()
  return Array.from({ length: generation.length }, () => it.next().value).join("")
}
