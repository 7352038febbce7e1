import { defineConfig } from "tsup"

export default defineConfig({
  entry: { index: "src/index.ts", testing: "src/testing/index.ts", "bin/simulator": "src/bin/simulator.ts" },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
  splitting: true,
  treeshake: true,
  // effect and @effect/* are peers: the app's single copy must be used, never a bundled one.
  external: [/^effect($|\/)/, /^@effect\//, "eventsource-parser"]
})
