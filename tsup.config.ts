import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { defineConfig } from "tsup"

/** Every `.d.ts` under `dir`. */
const declarations = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? declarations(join(dir, entry.name))
      : entry.name.endsWith(".d.ts")
        ? [join(dir, entry.name)]
        : []
  )

const library = defineConfig({
  entry: {
    index: "src/index.ts",
    testing: "src/testing/index.ts",
    ai: "src/ai/index.ts",
    // The Redis generation gate: its own entry, so only its users need the optional peer ioredis.
    redis: "src/redis.ts",
    // The facade's default transport, one file per runtime (package.json "imports": #default-http).
    "default-http": "src/internal/core/defaultHttp.ts",
    "default-http.node": "src/internal/core/defaultHttp.node.ts",
    // Erato's tokenizer loader, one file for browsers and one for the rest (#llama3).
    llama3: "src/internal/native/llama3.ts",
    "llama3.browser": "src/internal/native/llama3.browser.ts",
    "bin/simulator": "src/bin/simulator.ts"
  },
  format: ["esm", "cjs"],
  // Declarations come from tsc, one file per module, not from tsup's bundler: bundled, a class
  // exported through a namespace (`Errors.RateLimitError`, `ChatCompletions.ChatCompletion`) lost
  // its type, so users could not write it in a type position.
  dts: false,
  sourcemap: true,
  // `npm run build` empties dist/ first: the two builds below share it.
  clean: false,
  target: "node20",
  platform: "node",
  splitting: true,
  treeshake: true,
  // effect and @effect/* are peers: the app's single copy must be used, never a bundled one.
  // `#default-http` stays an import, resolved per runtime by the package's "imports" conditions.
  external: [/^effect($|\/)/, /^@effect\//, "eventsource-parser", "llama3-tokenizer-js", "ioredis", /^#/],
  onSuccess: async () => {
    execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
      stdio: "inherit"
    })
    // CommonJS consumers resolve `.d.cts` files, whose relative imports name `.cjs` files.
    for (const file of declarations("dist/dts")) {
      const source = readFileSync(file, "utf8")
        .replace(/(from\s+["']\.{1,2}\/[^"']*?)\.js(["'])/g, "$1.cjs$2")
        .replace(/(import\(["']\.{1,2}\/[^"']*?)\.js(["']\))/g, "$1.cjs$2")
        .replace(/\n\/\/# sourceMappingURL=.*$/, "")
      writeFileSync(file.replace(/\.d\.ts$/, ".d.cts"), source)
    }
  }
})

/**
 * The command line, `dist/bin/cli.js`: ESM only, one file (with the library's code it uses), no
 * source map. Its own libraries are bundled in: `npx effect-novelai` must work on a fresh install,
 * where npm installs the peers `effect` and `@effect/platform` but no optional peer, and users of
 * the library install nothing for a command line they may never run. `effect` and
 * `@effect/platform` stay the app's.
 */
const commandLine = defineConfig({
  entry: { "bin/cli": "src/bin/cli.ts" },
  format: ["esm"],
  // cli-progress is CommonJS and requires Node's modules: in one ESM file, require must exist.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);'
  },
  dts: false,
  sourcemap: false,
  clean: false,
  target: "node20",
  platform: "node",
  splitting: false,
  treeshake: true,
  external: [/^effect($|\/)/, /^@effect\/platform($|\/)/, "eventsource-parser", "llama3-tokenizer-js", /^#/],
  noExternal: [
    /^@effect\/(cli|printer|printer-ansi|typeclass|platform-node-shared)($|\/)/,
    "cli-progress",
    "ini",
    "toml",
    "yaml"
  ]
})

export default [library, commandLine]
