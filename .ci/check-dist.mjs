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

// fflate (ZIP answers, PNG metadata) and @msgpack/msgpack (image stream frames) are imported when
// an image answer first needs them: a bundler that splits code puts them in chunks of their own,
// which an app that only calls the text APIs never loads. Checked on what the entry loads
// statically, for Node and for browsers; and each library must be in some chunk, or the check
// would pass for a marker that is not theirs.
const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs")
// Inside the package, so that the app's import of "effect-novelai" resolves to it (self-reference).
const work = mkdtempSync(join(root, ".ci", ".split-"))
try {
  const entry = join(work, "app.mjs")
  writeFileSync(
    entry,
    `import { NovelAI, OpenAI } from "effect-novelai"\nconsole.log(NovelAI, OpenAI.chatCompletion)\n`
  )
  const MARKERS = { fflate: "invalid block type", "@msgpack/msgpack": "Unrecognized type byte" }
  for (const platform of ["node", "browser"]) {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      splitting: true,
      write: false,
      outdir: join(work, "out"),
      format: "esm",
      platform,
      external: ["effect", "effect/*", "@effect/*"],
      tsconfigRaw: "{}",
      logLevel: "silent"
    })
    const files = new Map(result.outputFiles.map((file) => [file.path, file.text]))
    const loaded = new Set()
    const load = (path) => {
      if (loaded.has(path)) return
      loaded.add(path)
      for (const [, specifier] of files.get(path).matchAll(/^import\s[^;]*?from\s*"(\.[^"]+)"/gm)) {
        load(join(dirname(path), specifier))
      }
      for (const [, specifier] of files.get(path).matchAll(/^import\s*"(\.[^"]+)"/gm)) {
        load(join(dirname(path), specifier))
      }
    }
    load(join(work, "out", "app.js"))
    for (const [library, marker] of Object.entries(MARKERS)) {
      assert.ok(
        [...files.values()].some((text) => text.includes(marker)),
        `no chunk of the ${platform} bundle has ${library}'s marker: the check is stale`
      )
      for (const path of loaded) {
        assert.ok(
          !files.get(path).includes(marker),
          `a ${platform} app of the text APIs loads ${library} at start`
        )
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
console.log(
  "apps of the text APIs (node and browser, split bundles) load neither fflate nor @msgpack/msgpack at start: ok"
)
