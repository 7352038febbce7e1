/**
 * The README renders as written: a line that a formatter wrapped so that it starts with ">" turns
 * the rest of its paragraph into a quote, and a table row with a missing cell breaks the table.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8")

/** The README's lines outside fenced code blocks, with their line numbers. */
const prose = (() => {
  const out: Array<[number, string]> = []
  let fenced = false
  readme.split("\n").forEach((line, i) => {
    if (line.startsWith("```")) fenced = !fenced
    else if (!fenced) out.push([i + 1, line])
  })
  return out
})()

it("no prose line starts a quote by accident", () => {
  expect(prose.filter(([, line]) => /^\s*>/.test(line))).toEqual([])
})

it("every table row has as many cells as its header", () => {
  const cells = (line: string) =>
    line
      .replace(/\\\|/g, "")
      .replace(/`[^`]*`/g, "")
      .split("|").length
  const broken: Array<number> = []
  let header: number | undefined
  for (const [n, line] of prose) {
    if (!line.startsWith("|")) {
      header = undefined
      continue
    }
    if (header === undefined) header = cells(line)
    else if (cells(line) !== header) broken.push(n)
  }
  expect(broken).toEqual([])
})
