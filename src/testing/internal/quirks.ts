/**
 * What the real NovelAI does that a well-behaved OpenAI-style server would not, as public client
 * code found it against the live API. The simulator behaves like NovelAI by default; each quirk can
 * be switched off so that tests also cover the well-behaved case.
 */

/**
 * NovelAI's known departures from a well-behaved OpenAI-style server, each on (`true`, as NovelAI
 * does) or off (as a well-behaved server would).
 *
 * @since 0.1.0
 * @category models
 */
export interface Quirks {
  /**
   * A non-streaming chat is answered with a `chat.completion.chunk`-shaped body whose text is empty
   * (`choices[0].text: ""` and `token_ids`), as three independent clients report. Off: a
   * `chat.completion` carrying the reply.
   */
  readonly emptyNonStreamingChat: boolean
  /**
   * A message whose `content` is an array is refused with Go's 400 "cannot unmarshal array into Go
   * struct field … of type string". Off: text parts are joined, other parts refused.
   */
  readonly stringContentOnly: boolean
  /**
   * Thinking arrives inline, `<think>…</think>` at the start of the content, when `enable_thinking`
   * is on, and for some prompts (by prompt and seed) when it is not; some completions carry a stray
   * `</think>`. Off: thinking only when asked, in `reasoning_content`.
   */
  readonly inlineThinking: boolean
  /**
   * Choices and chunks carry fields OpenAI's do not: `token_ids`, `matched_stop`, `stop_reason`
   * and a top-level `metadata`. Off: none of them.
   */
  readonly extraFields: boolean
  /** An error answer to a streaming request is framed as SSE (`data: {"statusCode":…}`), with the error status. */
  readonly sseErrorBodies: boolean
  /** A generation whose client went away keeps the key's lock until it would have finished. Off: released at once. */
  readonly lockOutlivesCancel: boolean
  /**
   * CORS allows only the `Authorization` and `Content-Type` request headers: a preflight asking
   * for any other gets 403. Off: any header asked for is allowed.
   */
  readonly strictCors: boolean
}

const ALL: Quirks = {
  emptyNonStreamingChat: true,
  stringContentOnly: true,
  inlineThinking: true,
  extraFields: true,
  sseErrorBodies: true,
  lockOutlivesCancel: true,
  strictCors: true
}

const NONE: Quirks = {
  emptyNonStreamingChat: false,
  stringContentOnly: false,
  inlineThinking: false,
  extraFields: false,
  sseErrorBodies: false,
  lockOutlivesCancel: false,
  strictCors: false
}

/** `true` or absent: every quirk; `false`: none; an object: every quirk, with those named set as given. */
export const resolveQuirks = (input: boolean | Partial<Quirks> | undefined): Quirks => {
  if (input === undefined || input === true) return ALL
  if (input === false) return NONE
  if (typeof input !== "object" || input === null) {
    throw new TypeError(`quirks must be true, false or an object of quirks (got ${String(input)})`)
  }
  for (const [name, value] of Object.entries(input)) {
    if (!(name in ALL)) throw new TypeError(`quirks: unknown quirk ${JSON.stringify(name)}`)
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`quirks.${name} must be true or false`)
    }
  }
  return { ...ALL, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) }
}

/**
 * A subscription tier. `free` may list models but not generate (402); `opus` alone may use
 * `xialong-v1` (409 for the others).
 *
 * @since 0.1.0
 * @category models
 */
export type Tier = "free" | "tablet" | "scroll" | "opus"

/** Models only the highest tier may use. */
export const OPUS_ONLY: ReadonlySet<string> = new Set(["xialong-v1"])

const TIERS: ReadonlySet<string> = new Set(["free", "tablet", "scroll", "opus"])

/**
 * The accepted keys and their tiers: a plain string is a Scroll key.
 */
export const resolveKeys = (
  input: ReadonlyArray<string | { readonly key: string; readonly tier: Tier }> | undefined
): ReadonlyMap<string, Tier> => {
  const list = input ?? ["pst-simulator", { key: "pst-simulator-opus", tier: "opus" as const }]
  if (!Array.isArray(list)) throw new TypeError("apiKeys must be an array of keys")
  const keys = new Map<string, Tier>()
  for (const entry of list) {
    const [key, tier] = typeof entry === "string" ? [entry, "scroll" as const] : [entry?.key, entry?.tier]
    if (typeof key !== "string" || key === "")
      throw new TypeError("apiKeys: each key must be a non-empty string")
    if (typeof tier !== "string" || !TIERS.has(tier)) {
      throw new TypeError(`apiKeys: the tier of a key must be "free", "tablet", "scroll" or "opus"`)
    }
    keys.set(key, tier as Tier)
  }
  return keys
}
