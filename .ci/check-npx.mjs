// `npx effect-novelai` on a fresh install, as a user gets it: the packed tarball installed into a
// new project by npm (which adds the required peers, effect and @effect/platform, and no optional
// one), then the command line run through npx, offline and online (a key and a host: here the
// simulator's, since NovelAI is not reachable from CI).
//
// Usage: node .ci/check-npx.mjs   (after npm run build)
import assert from "node:assert/strict"
import { execFile, execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const root = fileURLToPath(new URL("..", import.meta.url))
const work = mkdtempSync(join(tmpdir(), "effect-novelai-npx-"))
const options = (env) => ({
  cwd: work,
  encoding: "utf8",
  env: { ...process.env, NOVELAI_API_KEY: "", NOVELAI_BASE_URL: "", ...env }
})
const run = (command, args, env = {}) =>
  execFileSync(command, args, { ...options(env), stdio: ["ignore", "pipe", "pipe"] })
/** Without blocking this process, whose simulator must answer. */
const runAsync = async (command, args, env = {}) =>
  (await promisify(execFile)(command, args, { ...options(env), timeout: 60_000 })).stdout

try {
  const tarball = run("npm", ["pack", "--silent", "--pack-destination", work, root]).trim().split("\n").pop()
  writeFileSync(join(work, "package.json"), JSON.stringify({ name: "fresh", private: true }))
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", join(work, tarball)])
  for (const optional of ["@effect/cli", "@effect/platform-node", "@effect/ai", "llama3-tokenizer-js"]) {
    assert.ok(!existsSync(join(work, "node_modules", optional)), `npm installed ${optional}`)
  }

  const offline = run("npx", [
    "--no-install",
    "effect-novelai",
    "chat",
    "--once",
    "Hello",
    "--offline",
    "--max-tokens",
    "6"
  ])
  assert.match(offline, /^\w+( \S+){5}\n$/, `offline: ${offline}`)

  const { startSimulator } = await import(join(root, "dist/testing.js"))
  const sim = await startSimulator()
  try {
    const env = { NOVELAI_API_KEY: sim.apiKey, NOVELAI_BASE_URL: sim.url }
    assert.equal(
      await runAsync("npx", ["--no-install", "effect-novelai", "models"], env),
      "glm-4-5\nglm-4-6\n"
    )
    const answer = await runAsync(
      "npx",
      ["--no-install", "effect-novelai", "chat", "--once", "Hi", "--max-tokens", "4"],
      env
    )
    assert.match(answer, /^\w+( \S+){3}\n$/, `online: ${answer}`)
  } finally {
    await sim.close()
  }
  console.log("npx effect-novelai on a fresh install (no optional peer), offline and with a key: ok")
} finally {
  rmSync(work, { recursive: true, force: true })
}
