/**
 * A project outside this repository that depends on the built package, as a user's would: its
 * `package.json` and `dist/` copied into `node_modules/effect-novelai`, its dependencies linked from
 * ours. Nothing of the repository's own configuration (tsconfig paths, vitest aliases) reaches it,
 * so a runtime or a bundler resolves the package by its `exports` and `imports` conditions alone.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../..", import.meta.url))

const LINKED = [
  "effect",
  "eventsource-parser",
  "@effect/platform",
  "@effect/platform-node",
  "@effect/platform-node-shared",
  "llama3-tokenizer-js",
  "fflate",
  "@msgpack/msgpack"
]

export interface Consumer {
  readonly dir: string
  readonly remove: () => void
}

/**
 * What `npm install effect-novelai` (or `npx effect-novelai`) installs and nothing more: its
 * dependencies and the peers npm installs by itself, not the optional ones.
 */
export const INSTALLED_BY_NPM = [
  "effect",
  "eventsource-parser",
  "@effect/platform",
  "fflate",
  "@msgpack/msgpack"
]

/** A new consumer project; `files` are written into it, and `linked` packages linked from ours. */
export const makeConsumer = (
  files: Readonly<Record<string, string>> = {},
  linked: ReadonlyArray<string> = LINKED
): Consumer => {
  const dir = mkdtempSync(join(tmpdir(), "effect-novelai-consumer-"))
  const modules = join(dir, "node_modules")
  mkdirSync(join(modules, "@effect"), { recursive: true })
  const own = join(modules, "effect-novelai")
  mkdirSync(own)
  cpSync(join(root, "package.json"), join(own, "package.json"))
  cpSync(join(root, "dist"), join(own, "dist"), { recursive: true })
  for (const name of linked) {
    mkdirSync(dirname(join(modules, name)), { recursive: true })
    symlinkSync(join(root, "node_modules", name), join(modules, name), "dir")
  }
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" })
  )
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
