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
const theirs = `
import OpenAI from "openai"
new OpenAI({ apiKey: "x" }).chat.completions.create({ model: "glm-4-6", messages: [{ role: "user", content: "Hi" }] })
`

const bundle = async (contents: string, external: Array<string>, platform: "node" | "browser" = "node") => {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: root, loader: "ts" },
    bundle: true,
    minify: true,
    write: false,
    format: "esm",
    platform,
    treeShaking: true,
    external,
    // The built package, as an app would get it from npm, with none of this repository's tsconfig
    // paths (which point the package's own `#default-http` import at a source file).
    alias: { "effect-novelai": `${root}dist/index.js` },
    tsconfigRaw: "{}",
    logLevel: "silent"
  })
  const code = result.outputFiles[0]!.contents
  if (platform === "browser" && /["']node:[a-z_/]+["']/.test(result.outputFiles[0]!.text)) {
    throw new Error("the browser bundle imports a node: module")
  }
  return { minified: code.length, gzip: gzipSync(code, { level: 9 }).length }
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
  return {
    bundles: [
      {
        name: "effect-novelai, app using only chatCompletion: what it adds on top of effect + @effect/platform",
        ...added
      },
      { name: "the same app, total with effect + @effect/platform", ...total },
      { name: "the same app with the openai package, total", ...openai },
      { name: "browser: the Effect API app, total (platform browser, nothing external)", ...browserEffect },
      { name: "browser: the same call through the Promise facade, total", ...browserFacade }
    ],
    imports: [
      { name: "effect-novelai (with effect and @effect/platform)", ms: importMs("effect-novelai", times) },
      { name: "effect + @effect/platform alone", ms: importMs("@effect/platform/HttpClient", times) },
      { name: "openai", ms: importMs("openai", times) }
    ]
  }
}
