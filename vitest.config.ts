import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    alias: [
      { find: /^effect-novelai$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
      {
        find: /^effect-novelai\/testing$/,
        replacement: fileURLToPath(new URL("./src/testing/index.ts", import.meta.url))
      },
      {
        find: /^effect-novelai\/ai$/,
        replacement: fileURLToPath(new URL("./src/ai/index.ts", import.meta.url))
      },
      // The package's own per-runtime imports (package.json "imports"), at their Node sources: the
      // suite runs without a build.
      {
        find: /^#default-http$/,
        replacement: fileURLToPath(new URL("./src/internal/core/defaultHttp.node.ts", import.meta.url))
      },
      {
        find: /^#llama3$/,
        replacement: fileURLToPath(new URL("./src/internal/native/llama3.ts", import.meta.url))
      }
    ]
  },
  test: {
    // Tests mirror src/ (test/core, test/openai, ...); the long programs run in `npm run test:programs`.
    include: ["test/**/*.test.ts"],
    exclude: ["test/programs/**", "**/node_modules/**"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // One module registry per worker instead of per file: collecting 17 files cost about 12 s of
    // the run. No test relies on module state of its own file.
    isolate: false,
    // The suite mostly waits on sockets, child processes and timers, so more files run at once
    // than there are cores: vitest's default on 2 cores is one worker (cores - 1), which left the
    // machine idle half of the run (vitest alone: 52 s with one, 31 s with two, 27-35 s with three).
    maxWorkers: 3,
    minWorkers: 3
  }
})
