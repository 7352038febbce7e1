/**
 * The chat's input: one `readline` interface on stdin for the whole session, so that nothing read
 * is lost between messages. Lines arrive whenever they are typed, piped or pasted (during a reply
 * too) and wait in a queue until the chat asks for the next message; the end of stdin (Ctrl-D, or
 * the end of a pipe) is the last thing in that queue. On a terminal, while the chat is busy with a
 * message, what is typed is not echoed (it would land in the reply): a line finished then is shown
 * at its prompt when its turn comes, a line begun is there to go on with; Ctrl-C cancels the reply.
 * Off a terminal there is no prompt and no echo: the output is the replies.
 */
import { EventEmitter } from "node:events"
import * as Readline from "node:readline"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/**
 * What the user did at the prompt.
 *
 * @since 0.1.0
 */
export type Input =
  | { readonly _tag: "Message"; readonly text: string }
  /** Ctrl-C at an empty prompt. */
  | { readonly _tag: "Interrupt" }
  /** Ctrl-D at an empty prompt, or the end of piped input. */
  | { readonly _tag: "End" }

/**
 * The session's input.
 *
 * @since 0.1.0
 */
export interface Reader {
  /**
   * The next message: one waiting (typed ahead, or the next line of a pipe), else what is typed at
   * `prompt`. A line ending with a backslash goes on on the next line; on a terminal, lines that
   * arrive together (a paste) are one message. Ctrl-C on a line being typed discards it.
   */
  readonly read: (prompt: string) => Effect.Effect<Input>
  /** Succeeds at the next Ctrl-C while the chat is busy (between two `read`s); never off a terminal. */
  readonly interrupted: Effect.Effect<void>
}

/** stdout, but silent while `muted`: what readline echoes while the chat is busy is not shown. */
class Output extends EventEmitter {
  muted = false
  readonly isTTY = process.stdout.isTTY
  constructor() {
    super()
    process.stdout.on("resize", () => this.emit("resize"))
  }
  get columns() {
    return process.stdout.columns
  }
  get rows() {
    return process.stdout.rows
  }
  write(data: string | Uint8Array, ...rest: Array<unknown>): boolean {
    if (!this.muted) process.stdout.write(data)
    const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined
    callback?.()
    return true
  }
}

type Queued = { readonly input: Input; readonly echoed: boolean }

/**
 * The reader, for the scope of the chat (its end closes the interface and releases stdin).
 *
 * @since 0.1.0
 */
export const makeReader: Effect.Effect<Reader, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => open()),
  (reader) => Effect.sync(() => reader.close())
)

const open = (): Reader & { readonly close: () => void } => {
  const terminal = process.stdin.isTTY === true
  const output = new Output()
  const rl = Readline.createInterface({
    input: process.stdin,
    output: output as unknown as NodeJS.WritableStream,
    terminal,
    historySize: 500,
    removeHistoryDuplicates: true
  })
  let prompt = "> "
  const queue: Array<Queued> = []
  let waiting: ((queued: Queued) => void) | undefined
  const interruptions = new Set<() => void>()
  let lines: Array<string> = []
  let grouping = false
  let ended = false

  const deliver = (input: Input) => {
    const queued = { input, echoed: !output.muted }
    if (waiting !== undefined) {
      const resume = waiting
      waiting = undefined
      resume(queued)
    } else queue.push(queued)
  }
  const message = () => {
    const text = lines.join("\n")
    lines = []
    grouping = false
    deliver({ _tag: "Message", text })
  }

  rl.on("line", (line) => {
    if (line.endsWith("\\")) {
      lines.push(line.slice(0, -1))
      rl.setPrompt("... ")
      if (terminal && !output.muted) rl.prompt()
      return
    }
    lines.push(line)
    if (!terminal) return message()
    // The other lines of a paste arrive in the same read: wait for them before sending.
    if (!grouping) {
      grouping = true
      setImmediate(() => {
        if (grouping) message()
      })
    }
  })
  rl.on("SIGINT", () => {
    if (output.muted) {
      for (const interrupt of interruptions) interrupt()
      return
    }
    if (rl.line === "" && lines.length === 0) {
      process.stdout.write("\n")
      return deliver({ _tag: "Interrupt" })
    }
    lines = []
    process.stdout.write("^C\n")
    rl.setPrompt(prompt)
    rl.write(null, { ctrl: true, name: "u" })
    rl.prompt()
  })
  rl.on("close", () => {
    ended = true
    if (lines.length > 0) message()
    deliver({ _tag: "End" })
  })

  const take = (queued: Queued): Input => {
    // The chat is busy with it from now until the next read.
    output.muted = terminal
    const { input } = queued
    if (terminal && input._tag === "Message" && !queued.echoed) {
      // Typed during the last reply, and not shown then: shown now, as if typed at its prompt.
      process.stdout.write(`${prompt}${input.text.split("\n").join("\n... ")}\n`)
    }
    if (terminal && input._tag === "End") process.stdout.write("\n")
    return input
  }

  return {
    read: (next) =>
      Effect.async<Input>((resume) => {
        prompt = next
        output.muted = false
        const queued = queue.shift()
        if (queued !== undefined) return resume(Effect.succeed(take(queued)))
        if (ended) return resume(Effect.succeed<Input>({ _tag: "End" }))
        waiting = (queued) => resume(Effect.succeed(take(queued)))
        // Off a terminal nobody types at a prompt: the output is the replies alone.
        if (terminal && !ended) {
          rl.setPrompt(lines.length > 0 ? "... " : prompt)
          // `true`: what was typed ahead (a line begun during the reply) is shown to go on with.
          rl.prompt(true)
        }
        return Effect.sync(() => {
          waiting = undefined
        })
      }),
    interrupted: Effect.async<void>((resume) => {
      if (!terminal) return
      const interrupt = () => resume(Effect.void)
      interruptions.add(interrupt)
      return Effect.sync(() => {
        interruptions.delete(interrupt)
      })
    }),
    close: () => {
      output.muted = false
      rl.close()
    }
  }
}
