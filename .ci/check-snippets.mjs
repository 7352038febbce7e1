// Type-checks every TypeScript snippet of the README and of the guides in docs/ (docs/*.md; the
// generated reference in docs-api/ is docgen's, which checks its examples itself), and every
// example program, as a user's project would: in a new project that installs the packed tarball, with the strictest settings users turn
// on (strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes), under moduleResolution
// "bundler" (ESM) and "node16" (ESM and CommonJS). The spec's samples (examples/spec) are the
// spec's code, kept unchanged, and are checked by the repository's own type check instead.
//
// Usage: node .ci/check-snippets.mjs   (after npm run build)
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const work = mkdtempSync(join(tmpdir(), "effect-novelai-consumer-"))
const run = (command, args, cwd) =>
  execFileSync(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" })

// 1. The package as users get it.
const tarball = run("npm", ["pack", "--silent", "--pack-destination", work], root).trim().split("\n").pop()

// 2. The snippets: every ```ts block of the README and of each guide, and the example programs.
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`)
]
const blocks = pages.flatMap((page) =>
  [...readFileSync(join(root, page), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => [
    // README-01.ts, docs-openai-01.ts: a type error names the page and the snippet's place on it.
    `${page.replace(/\.md$/, "").replace(/\//g, "-")}-${String(i + 1).padStart(2, "0")}.ts`,
    m[1]
  ])
)
const examples = readdirSync(join(root, "examples"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => [f, readFileSync(join(root, "examples", f), "utf8")])

// A fragment (a block without imports) is checked with the imports and names its page has
// introduced before it.
const prelude = `import { FetchHttpClient, HttpClient } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Duration, Effect, Layer, Schedule, Schema, Stream } from "effect"
import { NovelAI, NovelAIClient, OpenAI, Retry } from "effect-novelai"
declare const messages: ReadonlyArray<{ readonly role: "system" | "user" | "assistant"; readonly content: string }>
declare const storyPipeline: Effect.Effect<string, unknown, NovelAIClient.NovelAIClient>
`

/** Splits a snippet into its imports and the rest (so the rest can go inside a function for CJS). */
const split = (source) => {
  const lines = source.split("\n")
  const imports = []
  const body = []
  let inImport = false
  for (const line of lines) {
    if (inImport || /^import\s/.test(line) || /^declare\s/.test(line)) {
      imports.push(line)
      inImport =
        /^import\s/.test(line) && !/from\s+["'][^"']+["']\s*;?\s*$/.test(line) && !/^import\s+["']/.test(line)
          ? true
          : inImport && !/from\s+["'][^"']+["']\s*;?\s*$/.test(line)
    } else body.push(line)
  }
  return { imports: imports.join("\n"), body: body.join("\n") }
}

// And what the declarations must allow beyond the snippets: classes reached through a module
// namespace used as types (tsup's bundled declarations lost them).
const namespaced = `import type { ChatCompletions, Errors, Models, NovelAIClient } from "effect-novelai"
export const retryAfter = (e: Errors.RateLimitError) => e.retryAfter
export type Names = [ChatCompletions.ChatCompletion, Models.ModelInfo, NovelAIClient.NovelAIClient]
`

const snippets = [
  ["types-namespaced.ts", namespaced],
  ...blocks.map(([name, code]) => [name, /^import\s/m.test(code) ? code : prelude + code]),
  ...examples.map(([name, code]) => [`example-${name}`, code])
]

const compilerOptions = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  target: "ES2022",
  lib: ["ES2022", "DOM", "DOM.Iterable", "ESNext.AsyncIterable", "ESNext.Disposable"],
  types: ["node"],
  skipLibCheck: false
}
const modes = [
  ["bundler", "module", { module: "ESNext", moduleResolution: "bundler" }, false],
  ["node16-esm", "module", { module: "node16", moduleResolution: "node16" }, false],
  ["node16-cjs", "commonjs", { module: "node16", moduleResolution: "node16" }, true]
]

// 3. One project, installed once; one folder (with its own package.json type) per mode.
writeFileSync(
  join(work, "package.json"),
  JSON.stringify(
    {
      name: "consumer",
      private: true,
      dependencies: {
        "effect-novelai": `file:./${tarball}`,
        effect: pkg.devDependencies.effect,
        "@effect/platform": pkg.devDependencies["@effect/platform"],
        "@effect/platform-node": pkg.devDependencies["@effect/platform-node"],
        // The optional peers of effect-novelai/ai, for its snippets and examples.
        "@effect/ai": pkg.devDependencies["@effect/ai"],
        "@effect/experimental": pkg.devDependencies["@effect/experimental"],
        "@effect/rpc": pkg.devDependencies["@effect/rpc"],
        // The optional peer that tokenizes for Erato (docs/native.md passes its loader by hand).
        "llama3-tokenizer-js": pkg.devDependencies["llama3-tokenizer-js"],
        // The optional peer of effect-novelai/redis, for its example.
        ioredis: pkg.devDependencies.ioredis,
        "@effect/vitest": pkg.devDependencies["@effect/vitest"],
        vitest: pkg.devDependencies.vitest,
        "@types/node": pkg.devDependencies["@types/node"],
        // @effect/platform-node's declarations name the ws package's types.
        "@types/ws": "^8.5.12",
        typescript: pkg.devDependencies.typescript
      }
    },
    null,
    2
  )
)
run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], work)

let failed = false
for (const [mode, type, options, wrap] of modes) {
  const dir = join(work, mode)
  mkdirSync(dir)
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type }))
  for (const [name, code] of snippets) {
    // vitest's own declarations do not check under node16 (its CommonJS entry imports its ESM one),
    // and it runs no CommonJS tests: snippets of tests are checked under "bundler" only.
    if (mode !== "bundler" && /from "(@effect\/)?vitest"/.test(code)) continue
    let source = code
    if (wrap && /\bawait\b/.test(code)) {
      // CommonJS has no top-level await: the snippet's code runs inside an async function.
      const { imports, body } = split(code)
      source = `${imports}\nexport async function snippet(): Promise<void> {\n${body}\n}\n`
    }
    writeFileSync(join(dir, name), source)
  }
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { ...compilerOptions, ...options }, include: ["*.ts"] }, null, 2)
  )
  try {
    run(join(work, "node_modules", ".bin", "tsc"), ["-p", dir], dir)
    console.log(
      `${mode}: ${readdirSync(dir).filter((f) => f.endsWith(".ts")).length} snippets type-check (${pages.length} pages, ${examples.length} examples)`
    )
  } catch (error) {
    failed = true
    console.log(`${mode}: type errors\n${error.stdout}${error.stderr}`)
  }
}
if (failed) {
  console.log(`(the consumer project is kept in ${work})`)
  process.exit(1)
}
rmSync(work, { recursive: true, force: true })
