/**
 * GLM's thinking, sent inline in the content as `<think>...</think>` (in streams and whole replies,
 * sometimes even with thinking off), split out of the answer. One state machine serves both: a
 * stream's deltas are pushed as they come, a whole reply in one piece, so the collected stream
 * equals the whole reply's split whatever the chunk boundaries (`"<thi"`, `"nk>plan"`).
 *
 * - Leading whitespace, then `<think>`: what follows, up to `</think>` (or the end), is reasoning;
 *   whitespace after `</think>` is dropped.
 * - A `</think>` with no opening (it leaks into answers and completions) is dropped; the text around
 *   it stays.
 * - A delta ending in what may be the start of a tag (`"<"`, `"</thi"`) is held back until the next
 *   one tells; `end()` releases it.
 */

const OPEN = "<think>"
const CLOSE = "</think>"

type State = "start" | "thinking" | "after" | "answer"

const isSpace = (code: number) => code === 32 || code === 10 || code === 13 || code === 9

const firstNonSpace = (text: string): number => {
  for (let i = 0; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) return i
  return -1
}

/** How many characters at the end of `text` may begin `tag`. */
const partialSuffix = (text: string, tag: string): number => {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(tag.slice(0, n))) return n
  }
  return 0
}

/** What one push gave: the answer's new text and the reasoning's. */
export interface Split {
  content: string
  reasoning: string
}

export class ThinkingSplitter {
  private state: State
  private held = ""

  /** `answerOnly`: no leading thinking is looked for (completions); stray `</think>` is still dropped. */
  constructor(answerOnly = false) {
    this.state = answerOnly ? "answer" : "start"
  }

  /** The next delta. */
  push(delta: string): Split {
    // The common case, costing one scan: an answer's text with no tag in sight.
    if (this.state === "answer" && this.held === "" && delta.indexOf("<") === -1) {
      return { content: delta, reasoning: "" }
    }
    const out: Split = { content: "", reasoning: "" }
    let text = this.held + delta
    this.held = ""
    while (text !== "") {
      switch (this.state) {
        case "start": {
          const at = firstNonSpace(text)
          if (at === -1) {
            this.held = text
            return out
          }
          const rest = text.slice(at)
          if (rest.startsWith(OPEN)) {
            this.state = "thinking"
            text = rest.slice(OPEN.length)
          } else if (OPEN.startsWith(rest)) {
            this.held = text
            return out
          } else {
            this.state = "answer"
          }
          break
        }
        case "thinking": {
          const close = text.indexOf(CLOSE)
          if (close !== -1) {
            out.reasoning += text.slice(0, close)
            text = text.slice(close + CLOSE.length)
            this.state = "after"
          } else {
            const keep = partialSuffix(text, CLOSE)
            out.reasoning += text.slice(0, text.length - keep)
            this.held = text.slice(text.length - keep)
            return out
          }
          break
        }
        case "after": {
          const at = firstNonSpace(text)
          if (at === -1) return out
          text = text.slice(at)
          this.state = "answer"
          break
        }
        case "answer": {
          const close = text.indexOf(CLOSE)
          if (close !== -1) {
            out.content += text.slice(0, close)
            text = text.slice(close + CLOSE.length)
          } else {
            const keep = partialSuffix(text, CLOSE)
            out.content += text.slice(0, text.length - keep)
            this.held = text.slice(text.length - keep)
            return out
          }
          break
        }
      }
    }
    return out
  }

  /** The end of the text: what was held back, where it belongs. */
  end(): Split {
    const held = this.held
    this.held = ""
    if (this.state === "thinking") return { content: "", reasoning: held }
    return { content: this.state === "after" ? "" : held, reasoning: "" }
  }
}

/**
 * A whole reply's content split: inline thinking out of the answer, after any `reasoning` the server
 * sent apart. The same as streaming the content through a {@link ThinkingSplitter}.
 */
export const splitThinking = (
  content: string,
  reasoning: string | undefined
): { readonly content: string; readonly reasoning_content?: string } => {
  const splitter = new ThinkingSplitter()
  const first = splitter.push(content)
  const last = splitter.end()
  const inline = first.reasoning + last.reasoning
  const answer = first.content + last.content
  const sawThinking = inline !== "" || content.trimStart().startsWith(OPEN)
  const joined = sawThinking ? (reasoning ?? "") + inline : reasoning
  return joined === undefined ? { content: answer } : { content: answer, reasoning_content: joined }
}

/** A completion's text with stray `</think>` tags dropped. */
export const stripStrayClose = (text: string): string =>
  text.indexOf(CLOSE) === -1 ? text : text.split(CLOSE).join("")
