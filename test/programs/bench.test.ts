/**
 * The benchmark script must never rot: a smoke run with a tiny workload, on the build in dist/
 * (`npm run build` first; `.ci/run` does). It asserts that the script completes and reports every
 * section and contender, never any timing.
 */
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))

it("the benchmark's smoke run completes and reports every section", async () => {
  expect(existsSync(`${root}dist/index.js`), "dist/ is missing: run npm run build first").toBe(true)
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
    (resolve) => {
      execFile(
        process.execPath,
        ["bench/main.mjs", "--smoke"],
        { cwd: root, timeout: 120_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
      )
    }
  )
  expect(stderr).not.toMatch(/Error/)
  expect(code).toBe(0)
  for (const section of [
    "### Non-streaming chat completion",
    "### Streaming",
    "### Memory",
    "### Images",
    "### Memory per open stream",
    "### An uncontended generation slot",
    "### Size and start-up",
    "### Targets"
  ]) {
    expect(stdout).toContain(section)
  }
  for (const name of [
    "raw fetch",
    "Effect API (Node undici)",
    "Effect API (Fetch)",
    "Promise facade",
    "openai package",
    "raw fetch + fflate / @msgpack/msgpack"
  ]) {
    expect(stdout).toContain(`| ${name} |`)
  }
  expect(stdout).not.toContain("Wrote BENCHMARKS.md")
}, 120_000)
