import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { Target } from "./contenders.js"

// Bundled into bench/.out/, so the package root is two levels up.
const root = fileURLToPath(new URL("../..", import.meta.url))

interface Sample {
  readonly peak: number
  readonly retained: number
}

const once = (name: string, chunks: number, target: Target): Promise<Sample> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--expose-gc", "bench/.out/memory-child.mjs", name, String(chunks), target.url, target.apiKey],
      { cwd: root, timeout: 300_000 },
      (error, stdout) => {
        if (error) return reject(error)
        const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as Sample & { chunks: number }
        if (result.chunks !== chunks)
          return reject(new Error(`${name}: ${result.chunks} chunks, expected ${chunks}`))
        resolve(result)
      }
    )
  })

export interface MemoryResult {
  readonly name: string
  readonly small: Sample
  readonly large: Sample
}

/** Peak heap while consuming a short and a long stream, for our two APIs and the openai package. */
export const measureMemory = async (
  target: Target,
  [small, large]: [number, number]
): Promise<Array<MemoryResult>> => {
  const results: Array<MemoryResult> = []
  for (const [name, label] of [
    ["effect", "Effect API (Node undici)"],
    ["facade", "Promise facade"],
    ["openai", "openai package"]
  ] as const) {
    results.push({
      name: label,
      small: await once(name, small, target),
      large: await once(name, large, target)
    })
  }
  return results
}

/** Memory per chat stream held open after its first chunk, `count` at once, in a fresh process each. */
export const measureOpenStreams = async (
  target: Target,
  count: number
): Promise<Array<{ readonly name: string; readonly perStream: number }>> => {
  const results: Array<{ name: string; perStream: number }> = []
  for (const [name, label] of [
    ["effect", "Effect API (Node undici, as an async iterable)"],
    ["facade", "Promise facade"],
    ["openai", "openai package"],
    ["effect-floor", "reference: an Effect Stream of one chunk held open, as an async iterable (no request)"]
  ] as const) {
    const perStream = await new Promise<number>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--expose-gc", "bench/.out/open-streams-child.mjs", name, String(count), target.url, target.apiKey],
        { cwd: root, timeout: 300_000 },
        (error, stdout) => {
          if (error) return reject(error)
          const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
            perStream: number
            streams: number
          }
          if (result.streams !== count) return reject(new Error(`${name}: ${result.streams} streams held`))
          resolve(result.perStream)
        }
      )
    })
    results.push({ name: label, perStream })
  }
  return results
}
