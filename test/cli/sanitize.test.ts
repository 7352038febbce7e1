/**
 * What the server says is cleaned before the terminal sees it: no sequence (title, alternate
 * screen, cursor, colours) and no control character gets through, split across pieces or not.
 */

import { describe, expect, it } from "vitest"
import { clean, makeCleaner, oneLine } from "../../src/cli/sanitize.js"

/** Whether a text could do anything to a terminal but print: nothing below space but \n and \t. */
const inert = (text: string) =>
  [...text].every((char) => {
    const code = char.codePointAt(0) ?? 0
    return code === 0x0a || code === 0x09 || (code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code < 0xa0))
  })

describe("clean", () => {
  it("removes the title and alternate-screen sequences of a reply, and keeps its text", () => {
    expect(clean("Hello\x1b]0;title\x07\x1b[?1049h world")).toBe("Hello world")
    expect(clean("a\x1b]2;my window title\x1b\\b")).toBe("ab")
  })

  it("removes CSI (colours, cursor, erase), 8-bit CSI and OSC, string sequences and bare escapes", () => {
    expect(clean("\x1b[31mred\x1b[0m \x1b[2J\x1b[H\x1b[10;20Hx")).toBe("red x")
    expect(clean("\x9b31mred\x9d0;t\x9c.")).toBe("red.")
    expect(clean("a\x1bPq#0;2;0;0;0\x1b\\b\x1b_apc\x1b\\c\x1b^pm\x1b\\d\x1bXsos\x1b\\e")).toBe("abcde")
    expect(clean("\x1bcreset \x1b(B\x1b7saved\x1b8")).toBe("reset saved")
  })

  it("removes NUL, BEL, backspace, carriage return, DEL and C1; keeps newlines, tabs and Unicode", () => {
    expect(clean("glm\x00-4\x1b-6")).toBe("glm-4")
    expect(clean("a\x07b\x08c\rd\x7fe\x85f\x8dg")).toBe("abcdefg")
    expect(clean("line 1\n\tline 2 — é 日本 🎉")).toBe("line 1\n\tline 2 — é 日本 🎉")
  })

  it("an unterminated string sequence takes the rest of the text with it", () => {
    expect(clean("text\x1b]0;never ended")).toBe("text")
  })
})

describe("oneLine", () => {
  it("an error message with line breaks is one line", () => {
    expect(oneLine("Bad request:\n  temperature\tis wrong\r\n\x1b[31mfix it\x1b[0m\n")).toBe(
      "Bad request: temperature is wrong fix it"
    )
  })
})

describe("makeCleaner", () => {
  const stream = (pieces: ReadonlyArray<string>) => {
    const cleaner = makeCleaner()
    const shown = pieces.map((piece) => cleaner.push(piece))
    return { shown, text: shown.join("") + cleaner.end() }
  }

  it("a sequence cut between two pieces reaches the terminal in neither", () => {
    const { shown, text } = stream(["Hello \x1b]0;ti", "tle\x07\x1b[?10", "49h world", "!\x1b"])
    expect(text).toBe("Hello  world!")
    for (const piece of shown) expect(inert(piece)).toBe(true)
  })

  it("an ST cut after its ESC ends the string in the next piece", () => {
    expect(stream(["a\x1b]0;t\x1b", "\\b"]).text).toBe("ab")
  })

  it("text without sequences is shown as it comes, nothing held back", () => {
    expect(stream(["Once", " upon", " a time\n"]).shown).toEqual(["Once", " upon", " a time\n"])
  })

  it("every split of a hostile text shows the same, inert text", () => {
    const hostile = "A\x1b]0;title\x07B\x1b[?1049hC\x9b2JD\x1bPdcs\x1b\\E\x00F"
    for (let at = 0; at <= hostile.length; at++) {
      const { shown, text } = stream([hostile.slice(0, at), hostile.slice(at)])
      expect(text).toBe("ABCDEF")
      for (const piece of shown) expect(inert(piece)).toBe(true)
    }
  })
})
