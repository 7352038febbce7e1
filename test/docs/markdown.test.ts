/**
 * The README and the guides in docs/ render as written and their links lead somewhere: a line that
 * a formatter wrapped so that it starts with ">" turns the rest of its paragraph into a quote, a
 * table row with a missing cell breaks the table, and a guide moved or a heading renamed leaves
 * links pointing at nothing.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, normalize } from "node:path"
import { describe, expect, it } from "vitest"
import { markdownPages, repository } from "../support.js"

/** A page's lines outside fenced code blocks, with their line numbers. */
const prose = (page: string) => {
  const out: Array<[number, string]> = []
  let fenced = false
  readFileSync(join(repository, page), "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.startsWith("```")) fenced = !fenced
      else if (!fenced) out.push([i + 1, line])
    })
  return out
}

/** The anchors GitHub gives a page's headings. */
const anchors = (page: string) =>
  new Set(
    prose(page)
      .filter(([, line]) => /^#{1,6} /.test(line))
      .map(([, line]) =>
        line
          .replace(/^#+ /, "")
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, "")
          .replace(/\s/g, "-")
      )
  )

it("the guides are there, and the README links each of them", () => {
  const pages = markdownPages()
  const readme = readFileSync(join(repository, "README.md"), "utf8")
  for (const guide of ["openai", "native", "reliability", "simulator", "cli", "design", "redis", "image"]) {
    expect(pages).toContain(`docs/${guide}.md`)
  }
  for (const page of pages.filter((p) => p !== "README.md")) expect(readme).toContain(`](${page})`)
})

describe.each(markdownPages())("%s", (page) => {
  it("no prose line starts a quote by accident", () => {
    expect(prose(page).filter(([, line]) => /^\s*>/.test(line))).toEqual([])
  })

  it("every table row has as many cells as its header", () => {
    const cells = (line: string) =>
      line
        .replace(/\\\|/g, "")
        .replace(/`[^`]*`/g, "")
        .split("|").length
    const broken: Array<number> = []
    let header: number | undefined
    for (const [n, line] of prose(page)) {
      if (!line.startsWith("|")) {
        header = undefined
        continue
      }
      if (header === undefined) header = cells(line)
      else if (cells(line) !== header) broken.push(n)
    }
    expect(broken).toEqual([])
  })

  it("every relative link points at a file of the repository, and at a heading of it", () => {
    const broken: Array<string> = []
    for (const [n, line] of prose(page)) {
      for (const [, target] of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue
        const [path, anchor] = target!.split("#") as [string, string | undefined]
        const file = path === "" ? page : normalize(join(dirname(page), path))
        if (!existsSync(join(repository, file))) broken.push(`${page}:${n}: ${target} (no ${file})`)
        else if (anchor !== undefined && file.endsWith(".md") && !anchors(file).has(anchor)) {
          broken.push(`${page}:${n}: ${target} (no heading #${anchor} in ${file})`)
        }
      }
    }
    expect(broken).toEqual([])
  })

  it("every code block is closed (an unclosed one swallows the rest of the page)", () => {
    const text = readFileSync(join(repository, page), "utf8")
    expect((text.match(/^```/gm) ?? []).length % 2).toBe(0)
  })
})
