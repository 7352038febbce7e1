/**
 * Bundle size (esbuild, minified, gzipped) of an app that uses only `chatCompletion`, for Node and
 * for the browser (the Effect API and the Promise facade, nothing external, no `node:` module
 * allowed), and the cold import time of each package in a fresh Node process.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import * as esbuild from "esbuild"
import { median } from "./stats.js"

// Bundled into bench/.out/, so the package root is two levels up.
const root = fileURLToPath(new URL("../..", import.meta.url))

const ours = `
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"
const live = NovelAIClient.layer({ apiKey: "pst-x" }).pipe(Layer.provide(FetchHttpClient.layer))
Effect.runPromise(OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }).pipe(Effect.provide(live)))
`
const facade = `
import { NovelAI } from "effect-novelai"
new NovelAI({ apiKey: "pst-x" }).openai.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }).then(console.log)
`
const native = `
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { NovelAIClient, Text } from "effect-novelai"
const live = NovelAIClient.layer({ apiKey: "pst-x" }).pipe(Layer.provide(FetchHttpClient.layer))
Effect.runPromise(Text.generate({ input: "Once", stopSequences: [[13]] }).pipe(Effect.provide(live)))
`
const nativeTokenized = `
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { NovelAIClient, Text } from "effect-novelai"
const live = NovelAIClient.layer({
  apiKey: "pst-x",
  tokenizers: { "llama-3-erato-v1": () => import("llama3-tokenizer-js") }
}).pipe(Layer.provide(FetchHttpClient.layer))
Effect.runPromise(Text.generate({ input: "Once", stopSequences: ["."] }).pipe(Effect.provide(live)))
`
const theirs = `
import OpenAI from "openai"
new OpenAI({ apiKey: "x" }).chat.completions.create({ model: "glm-4-6", messages: [{ role: "user", content: "Hi" }] })
`

/** How every app here is bundled: minified ESM of the built package. */
const common = (contents: string) =>
  ({
    stdin: { contents, resolveDir: root, loader: "ts" },
    bundle: true,
    minify: true,
    write: false,
    format: "esm",
    treeShaking: true,
    // The built package, as an app would get it from npm, with none of this repository's tsconfig
    // paths (which point the package's own `#default-http` import at a source file).
    alias: { "effect-novelai": `${root}dist/index.js` },
    tsconfigRaw: "{}",
    logLevel: "silent"
  }) as const

const bundle = async (contents: string, external: Array<string>, platform: "node" | "browser" = "node") => {
  const result = await esbuild.build({ ...common(contents), platform, external })
  const code = result.outputFiles[0]!.contents
  if (platform === "browser" && /["']node:[a-z_/]+["']/.test(result.outputFiles[0]!.text)) {
    throw new Error("the browser bundle imports a node: module")
  }
  return { minified: code.length, gzip: gzipSync(code, { level: 9 }).length }
}

/** A browser app bundled with code splitting: its entry chunk, and the chunks it loads on demand. */
const bundleSplit = async (contents: string) => {
  const result = await esbuild.build({
    ...common(contents),
    platform: "browser",
    splitting: true,
    outdir: `${root}bench/.out/split`
  })
  const size = (code: Uint8Array) => ({ minified: code.length, gzip: gzipSync(code, { level: 9 }).length })
  const [entry, ...chunks] = result.outputFiles.filter((f) => f.path.endsWith(".js"))
  const rest = chunks.reduce((sum, f) => sum + f.contents.length, 0)
  const restGzip = chunks.reduce((sum, f) => sum + gzipSync(f.contents, { level: 9 }).length, 0)
  return { entry: size(entry!.contents), lazy: { minified: rest, gzip: restGzip } }
}

const importMs = (specifier: string, times: number): number => {
  const samples: Array<number> = []
  for (let i = 0; i < times; i++) {
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t)`
      ],
      { cwd: root }
    )
    samples.push(Number(out.toString().trim()))
  }
  return median(samples)
}

export const measureSize = async (times: number) => {
  const added = await bundle(ours, ["effect", "effect/*", "@effect/*"])
  const total = await bundle(ours, [])
  const openai = await bundle(theirs, [])
  const browserEffect = await bundle(ours, [], "browser")
  const browserFacade = await bundle(facade, [], "browser")
  const browserNative = await bundle(native, [], "browser")
  const browserTokenized = await bundleSplit(nativeTokenized)
  return {
    bundles: [
      {
        name: "effect-novelai, app using only chatCompletion: what it adds on top of effect + @effect/platform",
        ...added
      },
      { name: "the same app, total with effect + @effect/platform", ...total },
      { name: "the same app with the openai package, total", ...openai },
      { name: "browser: the Effect API app, total (platform browser, nothing external)", ...browserEffect },
      { name: "browser: the same call through the Promise facade, total", ...browserFacade },
      {
        name: "browser: a native Text.generate app (stop sequences as ids; no tokenizer in it)",
        ...browserNative
      },
      {
        name: "browser: the same with Erato's tokenizer passed as a loader, code split: the app's chunk",
        ...browserTokenized.entry
      },
      {
        name: "...and the tokenizer's chunks, fetched on the first call with text to tokenize",
        ...browserTokenized.lazy
      }
    ],
    imports: [
      { name: "effect-novelai (with effect and @effect/platform)", ms: importMs("effect-novelai", times) },
      { name: "effect + @effect/platform alone", ms: importMs("@effect/platform/HttpClient", times) },
      { name: "openai", ms: importMs("openai", times) }
    ]
  }
}
