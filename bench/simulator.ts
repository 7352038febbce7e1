/**
 * Starts the simulator in its own process (fastest mode: no delays, no generation lock). NovelAI's
 * quirks stay on but for the empty non-streaming chat, so that a plain request carries a reply.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export interface RunningSimulator {
  readonly url: string
  readonly apiKey: string
  readonly stop: () => Promise<void>
}

// Bundled into bench/.out/, so the package root is two levels up.
const root = fileURLToPath(new URL("../..", import.meta.url))

export const spawnSimulator = (): Promise<RunningSimulator> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        "dist/bin/simulator.js",
        "--delay",
        "0",
        "--limit",
        "1000000",
        "--anlas",
        "1000000000",
        "--no-quirk",
        "emptyNonStreamingChat"
      ],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] }
    )
    // The simulator ends with the benchmark, even one that fails.
    process.once("exit", () => child.kill("SIGTERM"))
    let out = ""
    child.stdout!.on("data", (data: Buffer) => {
      out += data.toString()
      const match = /listening on (http:\/\/[\d.:]+) \(key: (\S+)\)/.exec(out)
      if (match) {
        resolve({
          url: match[1]!,
          apiKey: match[2]!,
          stop: () =>
            new Promise<void>((done) => {
              child.once("exit", () => done())
              child.kill("SIGTERM")
            })
        })
      }
    })
    child.once("exit", (code) => reject(new Error(`simulator exited (${code}) before listening`)))
  })
