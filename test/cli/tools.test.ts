/**
 * `augment` and `upscale` run in this process (`run(argv)`, as the bin runs it) against the bundled
 * simulator (`--offline`): the PNGs written and the lines printed, and the arguments refused (exit
 * status 2) before a client is made.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import * as NodePath from "@effect/platform-node-shared/NodePath"
import * as NodeTerminal from "@effect/platform-node-shared/NodeTerminal"
import { Effect, Layer } from "effect"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { run } from "../../src/cli/main.js"
import { pngSize } from "../../src/internal/image/bytes.js"
import { makePng } from "../../src/testing/internal/image/png.js"

let stdout = ""
let stderr = ""
let dir = ""
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "effect-novelai-tools-"))
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk)
    return true
  })
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk)
    return true
  })
  vi.spyOn(console, "log").mockImplementation((...args) => {
    stdout += `${args.join(" ")}\n`
  })
})
afterEach(() => {
  vi.restoreAllMocks()
  process.exitCode = undefined
  rmSync(dir, { recursive: true, force: true })
})

const platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

const cli = async (...args: Array<string>) => {
  process.exitCode = undefined
  stdout = ""
  stderr = ""
  await Effect.runPromise(run(["node", "effect-novelai", ...args]).pipe(Effect.provide(platform)))
  const code = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  return { code, stdout, stderr }
}

/** The first bytes of a PNG of any size: all the command reads of an image it refuses. */
const pngHeader = (width: number, height: number) => {
  const bytes = Buffer.alloc(33)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  bytes.writeUInt32BE(width, 16)
  bytes.writeUInt32BE(height, 20)
  return bytes
}

describe("augment", () => {
  it("writes the tool's PNG next to the input (or to -o), bg-removal its three, each file and size printed", async () => {
    const input = join(dir, "face.png")
    writeFileSync(input, makePng(64, 96, 2))
    const emotion = await cli(
      "augment",
      "emotion",
      input,
      "--emotion",
      "happy",
      "--prompt",
      "blush",
      "--offline"
    )
    expect(emotion).toMatchObject({ code: 0, stdout: `${join(dir, "face-emotion.png")}  64x96\n` })
    expect(pngSize(readFileSync(join(dir, "face-emotion.png")))).toEqual({ width: 64, height: 96 })

    const out = join(dir, "cut.png")
    const removal = await cli("augment", "bg-removal", input, "-o", out, "--offline")
    expect(removal.code).toBe(0)
    const files = ["masked", "generated", "blend"].map((part) => join(dir, `cut-${part}.png`))
    expect(removal.stdout).toBe(files.map((file) => `${file}  64x96\n`).join(""))
    for (const file of files) expect(pngSize(readFileSync(file))).toEqual({ width: 64, height: 96 })
  })

  it("refuses before starting anything (exit 2): a tool's wrong field, an unknown tool, an image too large", async () => {
    const input = join(dir, "in.png")
    writeFileSync(input, makePng(32, 32, 1))
    const cases: ReadonlyArray<readonly [Array<string>, string]> = [
      [["augment", "lineart", input, "--prompt", "x"], "prompt is not taken by lineart"],
      [["augment", "colorize", input, "--defry", "9"], "defry must be an integer from 0 to 5 (got 9)"],
      [["augment", "emotion", input, "--emotion", "glad"], "emotion must be one of neutral"],
      [["augment", "emotion", input], "emotion is missing"],
      [["augment", "sketch", join(dir, "missing.png")], "missing.png: ENOENT"]
    ]
    for (const [args, message] of cases) {
      const result = await cli(...args, "--offline")
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(message)
      expect(result.stderr).not.toContain("simulator at")
    }
    writeFileSync(input, pngHeader(4096, 4096))
    const large = await cli("augment", "sketch", input, "--offline")
    expect(large.code).toBe(2)
    expect(large.stderr).toContain("image must be at most 3,143,728 pixels (got 4096x4096")
    expect(large.stderr).toContain("scale it down to about 1773x1773")
    expect((await cli("augment", "blur", input, "--offline")).code).toBe(2)
  })
})

describe("upscale", () => {
  it("writes <file>-upscaled.png twice the size; --model takes only the upscaler's models", async () => {
    const input = join(dir, "small.png")
    writeFileSync(input, makePng(40, 24, 3))
    const result = await cli("upscale", input, "--model", "nai-diffusion-5-full", "--offline")
    expect(result).toMatchObject({ code: 0, stdout: `${join(dir, "small-upscaled.png")}  80x48\n` })
    expect(pngSize(readFileSync(join(dir, "small-upscaled.png")))).toEqual({ width: 80, height: 48 })
    const wrong = await cli("upscale", input, "-m", "nai-diffusion-4-5-full", "--offline")
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain("model must be nai-diffusion-5-curated or nai-diffusion-5-full")
  })
})
