/**
 * The command line (`effect-novelai`) as users run it: the non-interactive commands as processes
 * against the simulator, their output and exit status checked; the built bin from a project that
 * has only what npm installs; and the interactive chat in a real terminal (tmux), typed into.
 */
import { execFile, execFileSync, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { stripVTControlCharacters } from "node:util"
import { type Simulator, startSimulator } from "effect-novelai/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pngSize } from "../../src/internal/image/bytes.js"
import { makePng } from "../../src/testing/internal/image/png.js"
import { INSTALLED_BY_NPM, makeConsumer, root } from "./consumer.js"

const tsx = join(root, "node_modules/.bin/tsx")
const cli = join(root, "src/bin/cli.ts")

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({ chunkDelayMs: 1 })
})
afterAll(() => sim.close())

const run = (args: ReadonlyArray<string>, options: { env?: NodeJS.ProcessEnv; input?: string } = {}) =>
  new Promise<Run>((resolve) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NOVELAI_API_KEY: sim.apiKey,
      NOVELAI_BASE_URL: sim.url,
      ...options.env
    }
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name]
    const child = execFile(
      tsx,
      [cli, ...args],
      { cwd: root, env, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
    )
    child.stdin?.end(options.input ?? "")
  })

/** Whether a text has no terminal escape codes (colours, cursor moves). */
const plainText = (text: string) => stripVTControlCharacters(text) === text

describe("the non-interactive commands", { timeout: 45_000 }, () => {
  it("models lists the models, one per line", async () => {
    const result = await run(["models"])
    expect(result).toMatchObject({ code: 0, stdout: "glm-4-5\nglm-4-6\n", stderr: "" })
  })

  it("tokens counts a text, or stdin with -", async () => {
    expect((await run(["tokens", "Hello", "world,", "again"])).stdout).toBe("4\n")
    expect((await run(["tokens", "-"], { input: "one two three\n" })).stdout).toBe("3\n")
  })

  it("complete streams a completion to stdout, with the sampling options sent", async () => {
    const before = sim.requests.length
    const result = await run([
      "complete",
      "Once upon a time",
      "--max-tokens",
      "8",
      "--temperature",
      "0.7",
      "--stop",
      "xyz"
    ])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^ ?\w+( [\w,.]+){5,}\n$/)
    expect(plainText(result.stdout)).toBe(true)
    const request = sim.requests[before]!
    expect(request.path).toBe("/oa/v1/completions")
    expect(request.body).toMatchObject({
      prompt: "Once upon a time",
      max_tokens: 8,
      temperature: 0.7,
      stop: ["xyz"],
      stream: true
    })
  })

  it("chat --once - answers a message from stdin, with no colours, thinking or timing in a pipe", async () => {
    const before = sim.requests.length
    const result = await run(
      ["chat", "--once", "-", "--system", "Be brief", "--enable-thinking", "-m", "glm-4-5"],
      {
        input: "hi there\n"
      }
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^\w.+\n$/)
    expect(plainText(result.stdout)).toBe(true)
    expect(result.stdout).not.toMatch(/tokens\/s|The user wants/)
    expect(sim.requests[before]!.body).toMatchObject({
      model: "glm-4-5",
      enable_thinking: true,
      messages: [
        { role: "system", content: "Be brief" },
        { role: "user", content: "hi there" }
      ]
    })
  })

  it("a bad parameter is exit status 2 and its message, nothing sent", async () => {
    const before = sim.requests.length
    const result = await run(["chat", "--once", "hi", "--temperature", "5"])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe("effect-novelai: temperature must be a number from 0 to 2 (got 5)\n")
    expect(sim.requests.length).toBe(before)
  })

  it("an error mid-reply ends the reply's line, then is one line on stderr with exit status 1", async () => {
    sim.enqueueFault({ kind: "error-frame", after: 4, message: "the model hit a snag" })
    const result = await run(["chat", "--once", "Tell me a story", "--max-tokens", "30"])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^\w+( \S+){3}\n$/)
    expect(result.stderr).toBe("effect-novelai: ServerError: the model hit a snag\n")
  })

  it("a refused key is exit status 1 with the error's message, and the key is never echoed", async () => {
    const result = await run(["models"], { env: { NOVELAI_API_KEY: "pst-not-a-real-key-123456" } })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^effect-novelai: AuthenticationError: .+\n$/)
    expect(result.stdout + result.stderr).not.toContain("pst-not-a-real-key-123456")
  })

  it("upscale writes the PNG twice as wide and high, offline; a file that is not a PNG is refused (exit 2)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "effect-novelai-upscale-"))
    try {
      const input = join(dir, "in.png")
      writeFileSync(input, makePng(64, 96, 5))
      const out = join(dir, "big.png")
      const result = await run(["upscale", input, "-o", out, "--offline"], {
        env: { NOVELAI_API_KEY: undefined }
      })
      expect(result).toMatchObject({ code: 0, stdout: `${out}  128x192\n` })
      expect(pngSize(readFileSync(out))).toEqual({ width: 128, height: 192 })
      writeFileSync(input, "not a png")
      const refused = await run(["upscale", input, "--offline"])
      expect(refused).toMatchObject({ code: 2, stdout: "" })
      expect(refused.stderr).toBe(
        "effect-novelai: image must be a PNG image (its first bytes are not a PNG's)\n"
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("without a key it says so and offers --offline; --api-key-file and --offline work", async () => {
    const none = await run(["models"], { env: { NOVELAI_API_KEY: undefined } })
    expect(none.code).toBe(1)
    expect(none.stderr).toContain("set NOVELAI_API_KEY or pass --api-key-file FILE; or pass --offline")
    const dir = mkdtempSync(join(tmpdir(), "effect-novelai-key-"))
    try {
      writeFileSync(join(dir, "key"), `${sim.apiKey}\n`)
      const fromFile = await run(["models", "--api-key-file", join(dir, "key")], {
        env: { NOVELAI_API_KEY: undefined }
      })
      expect(fromFile).toMatchObject({ code: 0, stdout: "glm-4-5\nglm-4-6\n" })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const offline = await run(["models", "--offline"], {
      env: { NOVELAI_API_KEY: undefined, NOVELAI_BASE_URL: undefined }
    })
    expect(offline.code).toBe(0)
    expect(offline.stdout).toBe("glm-4-5\nglm-4-6\n")
    expect(offline.stderr).toMatch(
      /^\(offline: the bundled NovelAI simulator at http:\/\/127\.0\.0\.1:\d+\)\n$/
    )
  })

  it("piped into the chat, every line is read (commands too), each message answered, and the end of input exits 0", async () => {
    const before = sim.requests.length
    const result = await run(["chat", "--max-tokens", "5"], {
      input: "hello\n/set temperature 0.5\nsecond\n"
    })
    expect(result.code).toBe(0)
    expect(result.stderr).toBe("")
    // No prompts off a terminal: the greeting, the replies and what the commands say.
    expect(result.stdout).toMatch(/^Chatting with glm-4-6\. .+\n\w.*\n\(temperature = 0\.5\)\n.*\n$/)
    const sent = sim.requests.slice(before).map((r) => r.body as Record<string, unknown>)
    expect(sent).toHaveLength(2)
    expect(sent[1]).toMatchObject({
      temperature: 0.5,
      messages: [
        { role: "user", content: "hello" },
        { role: "assistant", content: expect.stringMatching(/\w/) },
        { role: "user", content: "second" }
      ]
    })
  })

  it("the chat refuses a native model, and keeps a reply cut inside its thinking in the conversation", async () => {
    const before = sim.requests.length
    const result = await run(["chat", "--enable-thinking", "--max-tokens", "3"], {
      input: "/model kayra-v1\nhi\nsecond\n"
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("/model: kayra-v1 is a model of NovelAI's native text API")
    const sent = sim.requests.slice(before).map((r) => r.body as Record<string, unknown>)
    expect(sent.map((body) => body.model)).toEqual(["glm-4-6", "glm-4-6"])
    expect(sent[1]!.messages).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: expect.stringMatching(/^<think>.+<\/think>$/s) },
      { role: "user", content: "second" }
    ])
  })

  it("a closed pipe (| head -c 20) ends the program quietly: no EPIPE stack, exit 0", async () => {
    const slow = await startSimulator({ chunkDelayMs: 20 })
    try {
      const child = spawn(tsx, [cli, "complete", "Once upon a time", "--max-tokens", "150"], {
        cwd: root,
        env: { ...process.env, NOVELAI_API_KEY: slow.apiKey, NOVELAI_BASE_URL: slow.url },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      child.stderr.on("data", (data: Buffer) => {
        stderr += data.toString()
      })
      // The reader goes away after the first piece, as head does, while the reply goes on.
      child.stdout.once("data", () => child.stdout.destroy())
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
      expect(stderr).toBe("")
      expect(code).toBe(0)
      // It stopped there: the generation was cut, not streamed to its end.
      expect(slow.requests[0]!.clientClosedEarly).toBe(true)
    } finally {
      await slow.close()
    }
  })

  it("the built bin runs from a project holding only what npm installs (its own libraries bundled)", () => {
    const consumer = makeConsumer({}, INSTALLED_BY_NPM)
    try {
      const bin = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).bin["effect-novelai"] as string
      const out = execFileSync(
        process.execPath,
        [
          join(consumer.dir, "node_modules/effect-novelai", bin),
          "chat",
          "--once",
          "Hello",
          "--offline",
          "--max-tokens",
          "5"
        ],
        { cwd: consumer.dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }
      )
      expect(out).toMatch(/^\w+( \S+){4}\n$/)
    } finally {
      consumer.remove()
    }
  })
})

describe("the simulator's command (effect-novelai-simulator)", () => {
  const simulator = join(root, "src/bin/simulator.ts")
  const runSimulator = (args: ReadonlyArray<string>) =>
    new Promise<Run>((resolve) =>
      execFile(tsx, [simulator, ...args], { cwd: root, timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
      )
    )

  it("--help prints its usage, exit 0; a wrong option is one line and exit status 2, no stack", async () => {
    const [help, wrong] = await Promise.all([runSimulator(["--help"]), runSimulator(["--bogus"])])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: effect-novelai-simulator \[options\]\n/)
    expect(help.stdout).toContain("--well-behaved")
    expect(help.stderr).toBe("")
    expect(wrong).toMatchObject({
      code: 2,
      stdout: "",
      stderr: "effect-novelai-simulator: Unknown option '--bogus' (--help lists the options)\n"
    })
  })

  it("its banner suggests a command a user's project has (npx effect-novelai chat), not npm start", async () => {
    const child = spawn(tsx, [simulator, "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    try {
      let banner = ""
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (data: Buffer) => {
          banner += data.toString()
          if (/Try: .*\n/.test(banner)) resolve()
        })
        child.on("exit", (code) => reject(new Error(`the simulator exited (${code}) before its banner`)))
      })
      expect(banner).toMatch(
        /Try: NOVELAI_API_KEY=pst-simulator NOVELAI_BASE_URL=http:\/\/127\.0\.0\.1:\d+ npx effect-novelai chat\n/
      )
      expect(banner).not.toContain("npm start")
    } finally {
      child.kill("SIGTERM")
    }
  })

  it("the first Erato request loads the tokenizer only when it has token-id stop sequences", async () => {
    // In a process of its own, where a loader hook marks the package when it loads: no timing.
    const probe = await new Promise<Run>((resolve) =>
      execFile(
        tsx,
        [join(root, "test/cli/fixtures/tokenizer-probe.ts")],
        { cwd: root, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr })
      )
    )
    expect(probe.stderr).toBe("")
    expect(JSON.parse(probe.stdout)).toEqual({ plain: 200, before: false, withStops: 200, after: true })
  })
})

const hasTmux = spawnSync("tmux", ["-V"]).status === 0
const required = process.env.REQUIRE_RUNTIMES === "1"
if (!hasTmux && !required) {
  console.warn("tmux is not installed: the interactive chat test is skipped (apt-get install tmux to run it)")
}

/** A program in a tmux session: keys sent, the screen read, waits for what it shows. */
const terminal = (name: string, command: string) => {
  const session = `effect-novelai-${name}-${process.pid}`
  const tmux = (...args: Array<string>) => execFileSync("tmux", args, { encoding: "utf8" })
  const screen = () => tmux("capture-pane", "-p", "-J", "-t", session)
  tmux(
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    "150",
    "-y",
    "50",
    `bash -c ${JSON.stringify(`cd ${JSON.stringify(root)} && ${command}; echo EXITED $?; sleep 60`)}`
  )
  return {
    screen,
    keys: (...keys: Array<string>) => tmux("send-keys", "-t", session, ...keys),
    waitFor: async (what: string, test: (text: string) => boolean) => {
      for (let i = 0; i < 400; i++) {
        const text = screen()
        if (test(text)) return text
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`the terminal never showed ${what}:\n${screen()}`)
    },
    close: () => spawnSync("tmux", ["kill-session", "-t", session])
  }
}

describe.skipIf(!hasTmux && !required)("the interactive chat in a real terminal (tmux)", () => {
  it("without a key, offers the bundled simulator and chats with it", async () => {
    const t = terminal(
      "offer",
      `env -u NOVELAI_API_KEY -u NOVELAI_BASE_URL ${JSON.stringify(tsx)} ${JSON.stringify(cli)} chat --max-tokens 5`
    )
    try {
      await t.waitFor("the offer", (s) =>
        s.includes("No NOVELAI_API_KEY is set. Chat with the bundled simulator instead? [Y/n]")
      )
      t.keys("Enter")
      await t.waitFor(
        "the greeting",
        (s) =>
          /\(offline: the bundled NovelAI simulator at http:\/\/127\.0\.0\.1:\d+\)/.test(s) &&
          s.includes("/help for commands")
      )
      t.keys("Hi", "Enter")
      await t.waitFor("a reply", (s) => /tokens\/s\)\n> $/m.test(s))
      t.keys("C-d")
      await t.waitFor("the program's exit", (s) => s.includes("EXITED 0"))
    } finally {
      t.close()
    }
  }, 60_000)

  it("a line typed during a reply is not echoed into it, and is sent when the reply ends", async () => {
    const slow = await startSimulator({ chunkDelayMs: 30 })
    const t = terminal(
      "ahead",
      `NOVELAI_API_KEY=${slow.apiKey} NOVELAI_BASE_URL=${slow.url} ${JSON.stringify(tsx)} ${JSON.stringify(cli)} chat --max-tokens 40`
    )
    try {
      await t.waitFor("the greeting", (s) => s.includes("/help for commands"))
      t.keys("Tell me a story", "Enter")
      await t.waitFor("a streamed reply", (s) => /> Tell me a story\n\w+( \S+){3,}/.test(s))
      t.keys("And then", "Enter")
      const screen = await t.waitFor("the second reply", (s) => (s.match(/tokens\/s\)/g) ?? []).length === 2)
      // Shown at its own prompt after the first reply, not in the middle of it.
      expect(screen).toMatch(/tokens\/s\)\n> And then\n\w/)
      expect(screen.match(/And then/g)).toHaveLength(1)
      const second = slow.requests.filter((r) => r.status === 200)[1]!.body as {
        messages: Array<{ role: string; content: string }>
      }
      expect(second.messages.map((m) => m.content)[2]).toBe("And then")
      t.keys("C-d")
      await t.waitFor("the program's exit", (s) => s.includes("EXITED 0"))
    } finally {
      t.close()
      await slow.close()
    }
  }, 60_000)

  it("streams a reply, Ctrl-C cancels it (the connection closes) and keeps it, a paste is one message, /reset, /exit", async () => {
    const slow = await startSimulator({ chunkDelayMs: 30 })
    const t = terminal(
      "chat",
      `NOVELAI_API_KEY=${slow.apiKey} NOVELAI_BASE_URL=${slow.url} ${JSON.stringify(tsx)} ${JSON.stringify(cli)} chat --max-tokens 60`
    )
    const { waitFor } = t
    try {
      await waitFor("the greeting", (t) => t.includes("/help for commands"))
      t.keys("Tell me a story", "Enter")
      // Some of the reply, then Ctrl-C in the middle of it.
      await waitFor("a streamed reply", (t) => /> Tell me a story\n\w+( \S+){5,}/.test(t))
      t.keys("C-c")
      const cancelled = await waitFor("the cancelled reply and the prompt", (t) =>
        /\[cancelled\]\n\(.+tokens\/s\)\n> $/m.test(t)
      )
      expect(cancelled).toMatch(/\(\d+\.\d s, \d+ tokens, \d+ tokens\/s\)/)
      await waitFor(
        "the simulator seeing the connection closed",
        () => slow.requests[0]?.clientClosedEarly === true
      )
      expect(slow.requests).toHaveLength(1)

      // What was received stays in the conversation: the next request carries it. (It may meet the
      // account's lock, which NovelAI keeps after a cancel, and wait it out: only answers count.)
      const answered = () => slow.requests.filter((r) => r.status === 200)
      t.keys("-l", "first line\nsecond line\n")
      await waitFor("the second reply", (t) => (t.match(/tokens\/s\)/g) ?? []).length === 2)
      const second = answered()[1]!.body as { messages: Array<{ role: string; content: string }> }
      expect(second.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"])
      expect(second.messages[1]!.content.length).toBeGreaterThan(10)
      expect(second.messages[2]!.content).toBe("first line\nsecond line")

      t.keys("/reset", "Enter")
      await waitFor("the reset", (t) => t.includes("(conversation cleared)"))
      t.keys("Hello again", "Enter")
      await waitFor("the third reply", (t) => (t.match(/tokens\/s\)/g) ?? []).length === 3)
      expect((answered()[2]!.body as { messages: Array<unknown> }).messages).toEqual([
        { role: "user", content: "Hello again" }
      ])

      t.keys("/exit", "Enter")
      await waitFor("the program's exit", (t) => t.includes("EXITED 0"))
    } finally {
      t.close()
      await slow.close()
    }
  }, 60_000)
})
