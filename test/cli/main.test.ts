/**
 * The command line run in this process (`run(argv)`, as the bin runs it) against loopback servers:
 * what reaches stdout and stderr, and the exit status. Hostile servers (escape sequences, errors on
 * several lines, no answer at all), wrong arguments, defects.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FetchHttpClient } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import * as NodePath from "@effect/platform-node-shared/NodePath"
import * as NodeTerminal from "@effect/platform-node-shared/NodeTerminal"
import { Duration, Effect, Exit, Layer, Option, Stream } from "effect"
import { NovelAIClient } from "effect-novelai"
import { startSimulator } from "effect-novelai/testing"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest"
import { replyMessage } from "../../src/cli/chat.js"
import { fileFor, generateImage, withVibes } from "../../src/cli/image.js"
import { report, run } from "../../src/cli/main.js"
import { show } from "../../src/cli/reply.js"
import { makePng } from "../../src/testing/internal/image/png.js"

interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

let stdout = ""
let stderr = ""
beforeEach(() => {
  stdout = ""
  stderr = ""
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk)
    return true
  })
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk)
    return true
  })
  // @effect/cli writes the help with console.log.
  vi.spyOn(console, "log").mockImplementation((...args) => {
    stdout += `${args.join(" ")}\n`
  })
})
afterEach(() => {
  vi.restoreAllMocks()
  process.exitCode = undefined
})

const platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

/** The program as the bin runs it, its output and exit status. */
const cli = async (...args: Array<string>): Promise<Ran> => {
  process.exitCode = undefined
  stdout = ""
  stderr = ""
  await Effect.runPromise(run(["node", "effect-novelai", ...args]).pipe(Effect.provide(platform)))
  const code = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  return { code, stdout, stderr }
}

const chunk = (content: string | undefined, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "glm-4-6",
    choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }]
  })}\n\n`

const TITLE = "\x1b]0;pwned title\x07"
const ALT_SCREEN = "\x1b[?1049h"

/** A server that says what no terminal should see: escape sequences, NUL, multi-line errors. */
const hostile = Http.createServer((req, res) => {
  if (req.url === "/oa/v1/models") {
    res.writeHead(200, { "content-type": "application/json" })
    res.end(
      JSON.stringify({
        object: "list",
        data: [`glm\x00-4-6${TITLE}`, `glm-4-5\x1b[2J`].map((id) => ({ id, object: "model", created: 1 }))
      })
    )
    return
  }
  if (req.url === "/oa/v1/chat/completions") {
    res.writeHead(200, { "content-type": "text/event-stream" })
    // The title sequence split over two deltas: neither half may reach the terminal.
    res.end(
      chunk(`Hello${TITLE.slice(0, 5)}`) +
        chunk(`${TITLE.slice(5)}${ALT_SCREEN} world`) +
        chunk(undefined, "stop") +
        "data: [DONE]\n\n"
    )
    return
  }
  res.writeHead(400, { "content-type": "application/json" })
  res.end(JSON.stringify({ error: { message: `bad request:\n  prompt is wrong${ALT_SCREEN}\nsee docs` } }))
})
/** A server that accepts connections and never answers. */
const silent = Http.createServer(() => {})

let hostileUrl = ""
let silentUrl = ""
let dir = ""
let keyFile = ""
const listen = (server: Http.Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  )
beforeAll(async () => {
  hostileUrl = await listen(hostile)
  silentUrl = await listen(silent)
  dir = mkdtempSync(join(tmpdir(), "effect-novelai-cli-"))
  keyFile = join(dir, "key")
  writeFileSync(keyFile, "pst-test-key-0123456789\n")
})
afterAll(() => {
  for (const server of [hostile, silent]) {
    server.closeAllConnections()
    server.close()
  }
  rmSync(dir, { recursive: true, force: true })
})

/** Whether a text could do anything to a terminal but print. */
const inert = (text: string) =>
  [...text].every((char) => {
    const code = char.codePointAt(0) ?? 0
    return code === 0x0a || code === 0x09 || (code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code < 0xa0))
  })

describe("what the server says is cleaned before it is shown", () => {
  it("model ids with NUL, OSC and CSI are printed without them", async () => {
    const result = await cli("models", "--base-url", hostileUrl, "--api-key-file", keyFile)
    expect(result).toMatchObject({ code: 0, stdout: "glm-4-6\nglm-4-5\n", stderr: "" })
  })

  it("a reply's title and alternate-screen sequences (split over two deltas) never reach the terminal", async () => {
    const result = await cli("chat", "--once", "hi", "--base-url", hostileUrl, "--api-key-file", keyFile)
    expect(result).toMatchObject({ code: 0, stdout: "Hello world\n", stderr: "" })
  })

  it("an error message on several lines, with an escape in it, is one plain line on stderr", async () => {
    const result = await cli("complete", "story", "--base-url", hostileUrl, "--api-key-file", keyFile)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^effect-novelai: InvalidRequestError: .*bad request: prompt is wrong see docs\n$/
    )
    expect(inert(result.stderr.slice(0, -1))).toBe(true)
  })
})

describe("--timeout", () => {
  it("a server that never answers is given up at the deadline (each attempt), not after 10 minutes", async () => {
    const started = performance.now()
    const result = await cli(
      "models",
      "--timeout",
      "50ms",
      "--base-url",
      silentUrl,
      "--api-key-file",
      keyFile
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^effect-novelai: TimeoutError: .+\n$/)
    // Three attempts of 50 ms and two backoffs, well under the 20 s the test may take.
    expect(performance.now() - started).toBeLessThan(15_000)
  })

  it("a duration that is not one is refused before anything starts, exit status 2", async () => {
    const result = await cli("models", "--timeout", "soon", "--offline")
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^effect-novelai: --timeout must be a positive duration .*\(got "soon"\)\n$/
    )
  })
})

describe("the arguments are checked before anything starts", () => {
  it("complete with a value out of range is exit status 2, the simulator never started", async () => {
    const result = await cli("complete", "story", "--temperature", "5", "--offline")
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "effect-novelai: temperature must be a number from 0 to 2 (got 5)\n"
    })
  })

  it("@effect/cli's own messages carry the prefix, on one line with no blank one", async () => {
    expect(await cli("models", "--wat")).toEqual({
      code: 2,
      stdout: "",
      stderr: "effect-novelai: Received unknown argument: '--wat'\n"
    })
  })

  it("chat --once without a value says what is missing", async () => {
    expect((await cli("chat", "--once")).stderr).toBe(
      "effect-novelai: --once needs a value: the message to send, or - to read it from stdin\n"
    )
    expect(await cli("complete", "story", "--temperature")).toMatchObject({
      code: 2,
      stderr: "effect-novelai: --temperature needs a value (effect-novelai complete --help says which)\n"
    })
  })

  it("a native model (the chat talks to /oa/v1) is refused with what to use instead", async () => {
    const result = await cli("chat", "-m", "kayra-v1", "--once", "hi", "--offline")
    expect(result.code).toBe(2)
    expect(result.stdout).toBe("")
    expect(result.stderr).toMatch(
      /^effect-novelai: kayra-v1 is a model of NovelAI's native text API.*glm-4-6/
    )
  })

  it("the help documents --timeout and its default", async () => {
    const result = await cli("models", "--help")
    expect(result.stdout).toMatch(/--timeout/)
    expect(result.stdout).toMatch(/default 30 seconds/)
  })
})

describe("a defect", () => {
  it("is one effect-novelai line on stderr and exit status 1, never silence", async () => {
    await Effect.runPromise(report(Effect.die(new TypeError("boom\n    at somewhere"))))
    expect(stderr).toBe("effect-novelai: unexpected error, please report it: TypeError: boom at somewhere\n")
    expect(process.exitCode).toBe(1)
  })
})

describe("thinking", () => {
  const pieces = (...list: Array<{ reasoning?: string; content?: string }>) => Stream.fromIterable(list)

  it("without colours (NO_COLOR, or not a terminal) it is marked, so that it does not read as the answer", async () => {
    await Effect.runPromise(
      show(pieces({ reasoning: "The user" }, { reasoning: " says hi." }, { content: "\n\nHello!" }), {
        showThinking: true
      })
    )
    expect(stdout).toBe("[thinking] The user says hi. [/thinking]\n\nHello!\n")
  })

  it("a reply cut inside its thinking closes the mark, and stays in the conversation", async () => {
    const reply = await Effect.runPromise(show(pieces({ reasoning: "Let me think" }), { showThinking: true }))
    expect(stdout).toBe("[thinking] Let me think [/thinking]\n")
    expect(replyMessage(reply)).toEqual({ role: "assistant", content: "<think>Let me think</think>" })
    expect(replyMessage({ content: "", reasoning: "" })).toBeUndefined()
  })
})

describe("image and account", () => {
  let dir = ""
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "effect-novelai-image-"))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const sizeOf = (file: string) => {
    const png = readFileSync(file)
    return [png.readUInt32BE(16), png.readUInt32BE(20)]
  }

  it("image writes each sample's PNG at the size asked (--out numbered after the first), printing files and seeds", async () => {
    const out = join(dir, "cat.png")
    const result = await cli(
      "image",
      "1girl, cat ears",
      "--offline",
      "--size",
      "512x640",
      "--samples",
      "2",
      "--seed",
      "9",
      "--steps",
      "3",
      "--out",
      out
    )
    expect(result).toMatchObject({ code: 0 })
    expect(result.stdout).toBe(`${out}  seed 9\n${join(dir, "cat-2.png")}  seed 10\n`)
    expect(sizeOf(out)).toEqual([512, 640])
    expect(sizeOf(join(dir, "cat-2.png"))).toEqual([512, 640])
  })

  it("image parameters out of range are exit status 2 before anything starts", async () => {
    for (const args of [
      ["--steps", "99"],
      ["--size", "500x500"],
      ["--samples", "9"]
    ]) {
      const result = await cli("image", "x", "--offline", ...args)
      expect(result.code).toBe(2)
      expect(result.stderr).not.toContain("simulator at")
      expect(result.stderr).toMatch(/^effect-novelai: /)
    }
  })

  it("tags prints the suggestions for the prompt's last fragment, one per line: tag, count, confidence", async () => {
    const result = await cli("tags", "1girl, fox", "--offline")
    expect(result).toMatchObject({ code: 0 })
    expect(
      result.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split("\t")[0])
    ).toEqual(["fox ears", "fox"])
    expect(result.stdout).toMatch(/^fox ears\t130000\t0\.\d+\n/)
  })

  it("account prints the tier and the Anlas", async () => {
    const result = await cli("account", "--offline")
    expect(result).toMatchObject({ code: 0 })
    expect(result.stdout).toContain("Scroll")
    expect(result.stdout).toContain("1000 Anlas (1000 monthly, 0 purchased)")
  })
})

describe("image on a terminal asks before spending Anlas", () => {
  const run = async (tier: "scroll" | "opus", answer: boolean) => {
    const sim = await startSimulator({ apiKeys: [{ key: "pst-k", tier }] })
    const questions: Array<string> = []
    const layer = NovelAIClient.layer({ apiKey: "pst-k", baseUrl: sim.url, imageBaseUrl: sim.url }).pipe(
      Layer.provide(FetchHttpClient.layer)
    )
    const exit = await Effect.runPromiseExit(
      generateImage(
        { prompt: "x", size: "portrait", steps: 28, nSamples: 1 },
        {
          out: Option.some(join(tmpdir(), `effect-novelai-ask-${process.pid}.png`)),
          timeout: Duration.seconds(10),
          ask: (question) =>
            Effect.sync(() => {
              questions.push(question)
              return answer
            })
        }
      ).pipe(Effect.provide(layer))
    )
    const paths = sim.requests.map((r) => r.path)
    await sim.close()
    return { exit, questions, paths }
  }

  it("a generation that costs Anlas is priced from the account and not sent when the answer is no", async () => {
    const { exit, questions, paths } = await run("scroll", false)
    expect(questions).toEqual(["This generation costs 20 Anlas (Scroll, 1000 left). Generate? [y/N] "])
    expect(Exit.isFailure(exit)).toBe(true)
    expect(paths).toEqual(["/user/subscription"])
    const yes = await run("scroll", true)
    expect(Exit.isSuccess(yes.exit)).toBe(true)
    expect(yes.paths).toEqual(["/user/subscription", "/ai/generate-image-stream"])
  })

  it("a free one (Opus's rule) is not asked about", async () => {
    const { exit, questions } = await run("opus", false)
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(questions).toEqual([])
  })

  it("files after the first are numbered; without --out each is named by its seed", () => {
    expect(fileFor(Option.some("a/cat.png"), 2, 3, 7)).toBe("a/cat-3.png")
    expect(fileFor(Option.some("cat"), 1, 2, 7)).toBe("cat-2.png")
    expect(fileFor(Option.none(), 0, 1, 42)).toBe("novelai-42.png")
  })
})

describe("image --vibe", () => {
  let dir = ""
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "effect-novelai-vibe-"))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it("reads each --vibe file as a vibe, encoded once by the client, at --vibe-strength", async () => {
    const vibe = join(dir, "style.png")
    writeFileSync(vibe, makePng(96, 64, 1))
    const params = await Effect.runPromise(
      withVibes(
        { prompt: "x", size: [64, 64], steps: 2 },
        { vibe: [vibe, vibe], vibeStrength: Option.some(0.3) }
      )
    )
    const sim = await startSimulator()
    try {
      const layer = NovelAIClient.layer({ apiKey: sim.apiKey, imageBaseUrl: sim.url }).pipe(
        Layer.provide(FetchHttpClient.layer)
      )
      const exit = await Effect.runPromiseExit(
        generateImage(params, {
          out: Option.some(join(dir, "out.png")),
          timeout: Duration.seconds(10),
          ask: undefined
        }).pipe(Effect.provide(layer))
      )
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(sim.requests.map((r) => r.path)).toEqual(["/ai/encode-vibe", "/ai/generate-image-stream"])
      expect((sim.requests[1]!.body as any).parameters.reference_strength_multiple).toEqual([0.3, 0.3])
    } finally {
      await sim.close()
    }
  })

  it("a model without vibes, or a file that is not a PNG, is exit status 2 before anything starts", async () => {
    const vibe = join(dir, "style.png")
    writeFileSync(vibe, makePng(96, 64, 1))
    const v5 = await cli("image", "x", "--offline", "--model", "nai-diffusion-5-full", "--vibe", vibe)
    expect(v5.code).toBe(2)
    expect(v5.stderr).toContain("V5 models take no vibe transfer")
    const text = join(dir, "notes.txt")
    writeFileSync(text, "not an image")
    const notPng = await cli("image", "x", "--offline", "--vibe", text)
    expect(notPng.code).toBe(2)
    expect(notPng.stderr).toContain("must be a PNG image")
  })
})
