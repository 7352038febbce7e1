/**
 * The command line's terminal: a spinner, and styles that are plain text whenever the output is not
 * a terminal (or `NO_COLOR` is set). Reading is `input.ts`'s.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** Whether stdout is a terminal: colours, the spinner and the reply's timing only then. */
export const outputIsTerminal = (): boolean => process.stdout.isTTY === true

/** Whether stdin is a terminal: Ctrl-C is a key there, and pasted lines arrive together. */
export const inputIsTerminal = (): boolean => process.stdin.isTTY === true

export interface Style {
  /** Whether the styles colour anything: without, what they would set apart is marked in words. */
  readonly coloured: boolean
  readonly dim: (text: string) => string
  readonly bold: (text: string) => string
  readonly red: (text: string) => string
  readonly cyan: (text: string) => string
}

const ansi = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`
const plain = (text: string) => text

/** ANSI styles on a terminal without `NO_COLOR`, plain text otherwise. */
export const style = (): Style =>
  outputIsTerminal() && !process.env.NO_COLOR
    ? { coloured: true, dim: ansi(2, 22), bold: ansi(1, 22), red: ansi(31, 39), cyan: ansi(36, 39) }
    : { coloured: false, dim: plain, bold: plain, red: plain, cyan: plain }

export const write = (text: string): Effect.Effect<void> => Effect.sync(() => process.stdout.write(text))

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/** A spinner on the terminal until interrupted, which clears it; nothing off a terminal. */
export const spinner = (text: string): Effect.Effect<void> => {
  if (!outputIsTerminal()) return Effect.never
  let frame = 0
  return Effect.sync(() => process.stdout.write(`\r${FRAMES[frame++ % FRAMES.length]} ${text}`)).pipe(
    Effect.repeat(Schedule.spaced("80 millis")),
    Effect.asVoid,
    Effect.onInterrupt(() => Effect.sync(() => process.stdout.write("\r\x1b[2K")))
  )
}
