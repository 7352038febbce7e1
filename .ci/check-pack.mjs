// What `npm pack` ships: the build, the sources its source maps point at, the README and the
// manifest; nothing else (no tests, benches, examples or CI files), and no map pointing at a file
// that is not shipped (but for the libraries bundled into the command line, whose maps carry them).
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { dirname, join, normalize } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const [pack] = JSON.parse(
  execFileSync("npm", ["pack", "--dry-run", "--json", "--silent"], { cwd: root, encoding: "utf8" })
)
const shipped = new Set(pack.files.map((file) => file.path))

const allowed = /^(dist\/|src\/|README\.md$|package\.json$|LICENSE$)/
const stray = [...shipped].filter((path) => !allowed.test(path))
assert.deepEqual(stray, [], `npm pack ships files users do not need: ${stray.join(", ")}`)

const referenced = new Set()
for (const path of shipped) {
  if (!path.endsWith(".map")) continue
  const map = JSON.parse(readFileSync(join(root, path), "utf8"))
  map.sources.forEach((source, i) => {
    const target = normalize(join(dirname(path), source))
    // The command line bundles a few libraries (see tsup.config.ts): their sources are in the map.
    if (target.startsWith("node_modules/") && typeof map.sourcesContent?.[i] === "string") return
    assert.ok(shipped.has(target), `${path} points at ${target}, which is not shipped`)
    referenced.add(target)
  })
}
const unreferenced = [...shipped].filter((path) => path.startsWith("src/") && !referenced.has(path))
assert.deepEqual(unreferenced, [], `sources shipped that no source map points at: ${unreferenced.join(", ")}`)
console.log(
  `npm pack: ${shipped.size} files, ${(pack.size / 1024).toFixed(0)} KB packed (${(pack.unpackedSize / 1024).toFixed(0)} KB unpacked): ok`
)
