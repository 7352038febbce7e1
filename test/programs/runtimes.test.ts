/**
 * The same program (fixtures/runtime-smoke.mjs: a chat, a stream, an abort mid-stream, a typed
 * error, through the facade on its default transport and the Effect API on Fetch) under Node, Bun
 * and Deno, against the simulator, from a project that installed the built package.
 *
 * Bun and Deno come from the npm registry (`.ci/run` installs them into `.ci/.runtimes`); without
 * them these tests are skipped, with a message, unless REQUIRE_RUNTIMES=1 (as `.ci/run` sets),
 * which fails them instead.
 */
import { execFile } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { startSimulator } from "effect-novelai/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Consumer, makeConsumer, root } from "./consumer.js"

const installed = (name: string): string | undefined => {
  const path = join(root, ".ci", ".runtimes", "node_modules", ".bin", name)
  return existsSync(path) ? path : undefined
}

const runtimes: ReadonlyArray<[string, string | undefined, ReadonlyArray<string>]> = [
  ["Node", process.execPath, []],
  ["Bun", installed("bun"), []],
  ["Deno", installed("deno"), ["run", "-A"]]
]

let consumer: Consumer
beforeAll(() => {
  consumer = makeConsumer({
    "runtime-smoke.mjs": readFileSync(join(root, "test/programs/fixtures/runtime-smoke.mjs"), "utf8")
  })
})
afterAll(() => consumer.remove())

const required = process.env.REQUIRE_RUNTIMES === "1"

describe("the package under each runtime", () => {
  for (const [name, binary, args] of runtimes) {
    const missing = binary === undefined && !required
    it.skipIf(missing)(
      missing ? `${name}: skipped, not installed (.ci/run installs it into .ci/.runtimes)` : name,
      async () => {
        expect(binary, `${name} is not installed in .ci/.runtimes`).toBeDefined()
        const sim = await startSimulator({ concurrencyLimit: 4, chunkDelayMs: 5 })
        try {
          const run = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) =>
            execFile(
              binary!,
              [...args, "runtime-smoke.mjs"],
              {
                cwd: consumer.dir,
                env: {
                  ...process.env,
                  NOVELAI_API_KEY: sim.apiKey,
                  NOVELAI_BASE_URL: sim.url,
                  NO_COLOR: "1"
                },
                timeout: 60_000
              },
              (error, stdout, stderr) =>
                resolve({ stdout, stderr, code: error ? ((error as { code?: number }).code ?? 1) : 0 })
            )
          )
          expect(run.stderr).toBe("")
          expect(run.code).toBe(0)
          expect(run.stdout).toBe(
            [
              "chat: 8 words",
              "stream: 12 chunks",
              "abort: AbortError after 3 chunks",
              "bad key: AuthenticationError",
              "native: stopped at the first '.', Hello world is 2 tokens",
              "effect: 5 words, 5 chunks",
              ""
            ].join("\n")
          )
          // The abort closed the connection mid-stream: the simulator saw it.
          expect(sim.requests.map((r) => [r.path, r.status, r.clientClosedEarly])).toEqual([
            ["/oa/v1/chat/completions", 200, false],
            ["/oa/v1/chat/completions", 200, false],
            ["/oa/v1/chat/completions", 200, true],
            ["/oa/v1/models", 401, false],
            ["/ai/generate", 200, false],
            ["/oa/v1/chat/completions", 200, false],
            ["/oa/v1/chat/completions", 200, false]
          ])
        } finally {
          await sim.close()
        }
      }
    )
  }
})
