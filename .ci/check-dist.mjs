// Loads the built package by its own name (Node's package self-reference), as an app would, and
// checks that the core never loads the optional peers (@effect/ai and what it needs): users of the
// core and the facade install nothing they do not use.
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import {
  AuthenticationError,
  InvalidRequestError,
  NovelAIClient,
  OpenAI,
  RateLimitError
} from "effect-novelai"
import { startSimulator } from "effect-novelai/testing"

assert.equal(typeof NovelAIClient.layer, "function")
assert.equal(typeof OpenAI.chatCompletion, "function")
assert.ok(new RateLimitError({ message: "x" }) instanceof Error)
assert.equal(typeof AuthenticationError, "function")
assert.equal(typeof InvalidRequestError, "function")
const sim = await startSimulator()
assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/)
await sim.close()
console.log("ESM import: ok")

const { NovelAILanguageModel } = await import("effect-novelai/ai")
assert.equal(typeof NovelAILanguageModel.model, "function")
console.log("ESM import of effect-novelai/ai: ok")

// The Redis gate's entry loads ioredis; making a gate does no I/O, and closing it ends it.
const { RedisGenerationGate } = await import("effect-novelai/redis")
const gate = RedisGenerationGate.make({ url: "redis://127.0.0.1:1", key: "check-dist" })
assert.equal(gate._tag, "effect-novelai/GenerationGate")
await gate.close()
console.log("ESM import of effect-novelai/redis: ok")

// Every module the core's entries load, followed through the built files.
const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist")
const OPTIONAL = /^(@effect\/(ai|experimental|rpc)|ioredis)(\/|$)/
for (const entry of ["index.js", "index.cjs", "testing.js", "testing.cjs"]) {
  const seen = new Set()
  const visit = (file) => {
    if (seen.has(file)) return
    seen.add(file)
    const source = readFileSync(join(dist, file), "utf8")
    for (const [, specifier] of source.matchAll(
      /(?:from\s*|import\s*\(?\s*|require\s*\(\s*)["']([^"']+)["']/g
    )) {
      assert.ok(!OPTIONAL.test(specifier), `${entry} loads ${specifier} (through ${file})`)
      if (specifier.startsWith("./")) visit(specifier.slice(2))
    }
  }
  visit(entry)
}
console.log("the core's entries load none of @effect/ai, @effect/experimental, @effect/rpc, ioredis: ok")

// Erato's tokenizer (3 MB) is an optional peer loaded at run time: an app bundled for Node or for
// the browser never carries it unless the app imports it itself.
const esbuild = await import("esbuild")
const root = join(dist, "..")
for (const platform of ["node", "browser"]) {
  const result = await esbuild.build({
    stdin: {
      contents: `import { NovelAI, Text } from "effect-novelai"\nconsole.log(NovelAI, Text.generate)`,
      resolveDir: root,
      loader: "ts"
    },
    bundle: true,
    write: false,
    format: "esm",
    platform,
    external: ["effect", "effect/*", "@effect/*"],
    tsconfigRaw: "{}",
    logLevel: "silent"
  })
  const text = result.outputFiles[0].text
  assert.ok(
    !text.includes("class Llama3Tokenizer"),
    `a ${platform} bundle of the core carries the Llama 3 tokenizer`
  )
}
console.log("bundles of the core (node and browser) carry no tokenizer vocabulary: ok")
