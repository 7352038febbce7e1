/**
 * What the server says, made safe to show: terminal control sequences (ESC, CSI, OSC, DCS and the
 * other string sequences, in their 7-bit and 8-bit forms) and lone control characters removed, so
 * that a reply, a model id or an error message cannot retitle the window, switch screens or move the
 * cursor. Ours to define (a small explicit grammar, ECMA-48's), not `stripVTControlCharacters`,
 * which keeps NUL, C1 and OSC strings with spaces.
 */

// Written as strings, joined: one grammar for the match and for the test of completeness.
/** The start of OSC, DCS, SOS, PM, APC: a string ended by BEL (OSC only) or ST. */
const STRING = String.raw`(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])`
const STRING_END = String.raw`(?:\x07|\x1b\\|\x9c)`
/** CSI and its parameters and intermediates; a final byte ends it. */
const CSI = String.raw`(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*`
/** Any other escape: intermediates (`ESC ( B`); a final byte ends it. */
const ESCAPE = String.raw`\x1b[\x20-\x2f]*`
/** An escape's final byte, but those that begin a CSI or a string (`[ ] P X ^ _`). */
const FINAL = String.raw`[\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e]`

/** A sequence, or what there is of it at the end of a text. */
const SEQUENCE = new RegExp(
  `${STRING}[\\s\\S]*?(?:${STRING_END}|$)|${CSI}[\\x40-\\x7e]?|${ESCAPE}${FINAL}?`,
  "g"
)
/** A sequence with nothing of it missing. */
const COMPLETE = new RegExp(`^(?:${STRING}[\\s\\S]*${STRING_END}|${CSI}[\\x40-\\x7e]|${ESCAPE}${FINAL})$`)
/** C0 but newline and tab, DEL, C1. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g

/**
 * `text` without control sequences or control characters; newlines and tabs stay.
 *
 * @since 0.1.0
 */
export const clean = (text: string): string => text.replace(SEQUENCE, "").replace(CONTROL, "")

/**
 * `text` cleaned and on one line (an error message, a model id): line breaks and tabs become spaces.
 *
 * @since 0.1.0
 */
export const oneLine = (text: string): string =>
  clean(text)
    .replace(/\s*\n\s*/g, " ")
    .replace(/\t/g, " ")
    .trim()

/** Longest sequence held back for the next piece; longer, it is dropped as it stands. */
const HOLD_LIMIT = 4096

/**
 * Cleans a text that arrives in pieces (a streamed reply): a sequence cut between two pieces is held
 * back until it is whole, so that neither half reaches the terminal.
 *
 * @since 0.1.0
 */
export interface Cleaner {
  /** What of the text so far can be shown. */
  readonly push: (piece: string) => string
  /** The end: what was held back is dropped (a sequence never finished). */
  readonly end: () => string
}

/**
 * A {@link Cleaner} for one streamed text.
 *
 * @since 0.1.0
 */
export const makeCleaner = (): Cleaner => {
  let held = ""
  return {
    push: (piece) => {
      const text = held + piece
      held = ""
      let last: RegExpExecArray | null = null
      for (const match of text.matchAll(SEQUENCE)) last = match
      if (
        last !== null &&
        last.index + last[0].length === text.length &&
        !COMPLETE.test(last[0]) &&
        last[0].length < HOLD_LIMIT
      ) {
        held = last[0]
        return clean(text.slice(0, last.index))
      }
      return clean(text)
    },
    end: () => {
      const rest = clean(held)
      held = ""
      return rest
    }
  }
}
