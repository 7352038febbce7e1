/**
 * The command line's terminal: reading a message with Node's `readline` (line editing, history,
 * Ctrl-C and Ctrl-D), watching for Ctrl-C while a reply streams, a spinner, and styles that are
 * plain text whenever the output is not a terminal (or `NO_COLOR` is set).
 */
import * as Readline from "node:readline"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** Whether stdout is a terminal: colours, the spinner and the reply's timing only then. */
export const outputIsTerminal = (): boolean => process.stdout.isTTY === true

/** Whether stdin is a terminal: Ctrl-C is a key there, and pasted lines arrive together. */
export const inputIsTerminal = (): boolean => process.stdin.isTTY === true

export interface Style {
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
    ? { dim: ansi(2, 22), bold: ansi(1, 22), red: ansi(31, 39), cyan: ansi(36, 39) }
    : { dim: plain, bold: plain, red: plain, cyan: plain }

export const write = (text: string): Effect.Effect<void> => Effect.sync(() => process.stdout.write(text))

/** What the user did at the prompt. */
export type Input =
  | { readonly _tag: "Message"; readonly text: string }
  /** Ctrl-C at an empty prompt. */
  | { readonly _tag: "Interrupt" }
  /** Ctrl-D at an empty prompt, or the end of piped input. */
  | { readonly _tag: "End" }

/**
 * Reads one message. A line ending with a backslash goes on on the next line; on a terminal, lines
 * that arrive together (a paste) are one message. Ctrl-C on a line being typed discards it. Earlier
 * messages are in `history` (newest first), for the arrow keys.
 */
export const readMessage = (prompt: string, history: Array<string>): Effect.Effect<Input> =>
  Effect.async<Input>((resume) => {
    const terminal = inputIsTerminal()
    const rl = Readline.createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal,
      history: [...history],
      historySize: 500,
      removeHistoryDuplicates: true,
      prompt
    })
    let lines: Array<string> = []
    let done = false
    let pending = false
    const finish = (input: Input) => {
      if (done) return
      done = true
      if (input._tag === "Message") {
        for (const line of input.text.split("\n").reverse()) if (line.trim() !== "") history.unshift(line)
      }
      rl.close()
      resume(Effect.succeed(input))
    }
    rl.on("line", (line) => {
      if (line.endsWith("\\")) {
        lines.push(line.slice(0, -1))
        rl.setPrompt("... ")
        rl.prompt()
        return
      }
      lines.push(line)
      if (!terminal) return finish({ _tag: "Message", text: lines.join("\n") })
      // The other lines of a paste arrive in the same read: wait for them before sending.
      if (!pending) {
        pending = true
        setImmediate(() => finish({ _tag: "Message", text: lines.join("\n") }))
      }
    })
    rl.on("SIGINT", () => {
      if (rl.line === "" && lines.length === 0) {
        process.stdout.write("\n")
        return finish({ _tag: "Interrupt" })
      }
      lines = []
      process.stdout.write("^C\n")
      rl.setPrompt(prompt)
      rl.write(null, { ctrl: true, name: "u" })
      rl.prompt()
    })
    rl.on("close", () => {
      if (!done) {
        if (terminal) process.stdout.write("\n")
        finish(lines.length > 0 ? { _tag: "Message", text: lines.join("\n") } : { _tag: "End" })
      }
    })
    rl.prompt()
    return Effect.sync(() => {
      done = true
      rl.close()
    })
  })

/** A yes/no question on the terminal; Enter is yes. */
export const confirm = (question: string): Effect.Effect<boolean> =>
  Effect.map(readMessage(question, []), (input) =>
    input._tag === "Message" ? !/^\s*n/i.test(input.text) : false
  )

/**
 * Succeeds when Ctrl-C is pressed, while it runs (stdin in raw mode, so nothing typed is echoed
 * into the reply). Off a terminal it never does: a signal ends the program instead.
 */
export const ctrlC: Effect.Effect<void> = Effect.async<void>((resume) => {
  const stdin = process.stdin
  if (!stdin.isTTY) return
  stdin.setRawMode(true)
  stdin.resume()
  const onData = (data: Buffer) => {
    if (data.includes(3)) resume(Effect.void)
  }
  stdin.on("data", onData)
  return Effect.sync(() => {
    stdin.off("data", onData)
    stdin.setRawMode(false)
    stdin.pause()
  })
})

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
