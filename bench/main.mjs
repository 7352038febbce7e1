// `npm run bench`: bundles the benchmark (TypeScript) with esbuild and runs it on plain Node, so
// every contender runs as shipped JavaScript: ours from dist/ (built first), the others from
// node_modules. (Run under a TypeScript loader, even raw fetch measured half as fast.)
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as esbuild from "esbuild"

const root = fileURLToPath(new URL("..", import.meta.url))
await esbuild.build({
  entryPoints: {
    run: `${root}bench/run.ts`,
    "memory-child": `${root}bench/memory-child.ts`,
    "open-streams-child": `${root}bench/open-streams-child.ts`,
    profile: `${root}bench/profile.ts`
  },
  outdir: `${root}bench/.out`,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Packages stay imports: effect-novelai resolves to dist/ through the package's own exports.
  packages: "external",
  logLevel: "warning"
})
// `--build-only`: bundle, for `node --cpu-prof bench/.out/profile.mjs` (see bench/profile.ts).
if (process.argv.includes("--build-only")) process.exit(0)
const result = spawnSync(process.execPath, [`${root}bench/.out/run.mjs`, ...process.argv.slice(2)], {
  stdio: "inherit"
})
process.exit(result.status ?? 1)
