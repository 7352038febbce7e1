/**
 * Every example runs as a real program (tsx) against its own simulator, and what it prints is
 * checked, so no example rots.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { type Simulator, type SimulatorOptions, startSimulator } from "effect-novelai/testing"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const tsx = `${root}node_modules/.bin/tsx`

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly sim: Simulator
}

const runExample = async (
  file: string,
  options: { sim?: SimulatorOptions; key?: string; before?: (sim: Simulator) => void; online?: boolean } = {}
): Promise<Run> => {
  const sim = await startSimulator({ chunkDelayMs: 2, ...options.sim })
  options.before?.(sim)
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.NOVELAI_API_KEY
  delete env.NOVELAI_BASE_URL
  if (options.online !== false) {
    env.NOVELAI_API_KEY = options.key ?? sim.apiKey
    env.NOVELAI_BASE_URL = sim.url
  }
  try {
    return await new Promise<Run>((resolve) => {
      // Under the test's 45 s: a program killed here fails on its output, not on vitest's timeout.
      execFile(tsx, [file], { cwd: root, env, timeout: 40_000 }, (error, stdout, stderr) => {
        const killed = (error as { killed?: boolean } | null)?.killed === true
        resolve({
          code: error ? ((error as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr: killed ? `${stderr}\n(killed after 40 s)` : stderr,
          sim
        })
      })
    })
  } finally {
    await sim.close()
  }
}

const words = /\w+( \w+){3,}/

describe.concurrent("the spec's samples (examples/spec) run unchanged but for the import", {
  timeout: 45_000
}, () => {
  it("list models", async () => {
    const run = await runExample("examples/spec/list-models.ts")
    expect(run.stderr).toBe("")
    expect(run.stdout).toBe("glm-4-5 (owned by novelai)\nglm-4-6 (owned by novelai)\n")
  })

  it("text completion", async () => {
    const run = await runExample("examples/spec/text-completion.ts")
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(words)
    expect(run.sim.requests.map((r) => r.path)).toEqual(["/oa/v1/models", "/oa/v1/completions"])
    expect(run.sim.requests[1]!.body).toEqual({
      prompt: "Once upon a time, in a kingdom far away,",
      model: "glm-4-5",
      max_tokens: 100,
      temperature: 0.7
    })
  })

  it("chat completion", async () => {
    const run = await runExample("examples/spec/chat-completion.ts")
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(words)
  })

  it("both streams", async () => {
    for (const file of ["examples/spec/completion-stream.ts", "examples/spec/chat-completion-stream.ts"]) {
      const run = await runExample(file)
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(words)
      expect((run.sim.requests[0]!.body as { stream: boolean }).stream).toBe(true)
    }
  })

  it("cancelling a stream after 5 seconds", async () => {
    const run = await runExample("examples/spec/cancel-stream.ts", { sim: { chunkDelayMs: 500 } })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/\nGeneration cancelled\n$/)
    expect(run.sim.requests[0]!.clientClosedEarly).toBe(true)
  })

  it("token count", async () => {
    const run = await runExample("examples/spec/token-count.ts")
    expect(run.stdout).toBe("Token count: 9\n")
  })

  it("error handling: a wrong key, and a rate limit", async () => {
    const auth = await runExample("examples/spec/error-handling.ts", { key: "pst-wrong" })
    expect(auth.stderr).toBe("Invalid API Key\n")
    // The client retries a 429 twice by default: the third one reaches the sample's handler.
    const limited = await runExample("examples/spec/error-handling.ts", {
      before: (sim) => {
        for (let i = 0; i < 3; i++) sim.enqueueFault({ kind: "rate-limit", retryAfterMs: 10 })
      }
    })
    expect(limited.stderr).toBe("Rate limit exceeded\n")
    expect(limited.sim.requests.map((r) => r.status)).toEqual([429, 429, 429])
  })
})

describe.concurrent("Effect examples", { timeout: 45_000 }, () => {
  it("quickstart (npm start) without a key runs offline against the simulator", async () => {
    const run = await runExample("examples/quickstart.ts", { online: false })
    expect(run.code).toBe(0)
    expect(run.stdout.split("\n")[0]).toMatch(
      /^No NOVELAI_API_KEY set: running offline against the local simulator at http:\/\/127\.0\.0\.1:\d+\.$/
    )
    expect(run.stdout).toMatch(words)
  })

  it("quickstart with a key talks to NOVELAI_BASE_URL", async () => {
    const run = await runExample("examples/quickstart.ts")
    expect(run.code).toBe(0)
    expect(run.stdout.split("\n")[0]).toBe("NOVELAI_API_KEY is set: talking to the NovelAI API.")
    expect(run.sim.requests).toHaveLength(1)
  })

  it("compose", async () => {
    const run = await runExample("examples/compose.ts")
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(
      /^Models: glm-4-5, glm-4-6; using glm-4-6\nThe question is 10 tokens\nAnswer 1: .+\nAnswer 2: .+\n$/
    )
  })

  it("fake layer", async () => {
    const run = await runExample("examples/fake-layer.ts")
    expect(run.stdout).toBe('ok: summary "A fox finds a letter.", sent max_tokens=30 model=glm-4-6\n')
  })

  it("retry with a Schedule gets through the generation lock", async () => {
    const run = await runExample("examples/retry.ts", { sim: { chunkDelayMs: 5 } })
    expect(run.code).toBe(0)
    const retried = Number(/3 replies after (\d+) rate-limited attempts retried/.exec(run.stdout)?.[1])
    expect(retried).toBeGreaterThanOrEqual(2)
    expect(run.sim.requests.filter((r) => r.status === 429)).toHaveLength(retried)
  })

  it("the generation gate, shared by an Effect client and the facade: no 429 at all", async () => {
    const run = await runExample("examples/concurrency-limit.ts", { sim: { chunkDelayMs: 5 } })
    expect(run.stderr).toBe("")
    expect(run.stdout).toBe("15 of 15 calls succeeded, none rate limited\n")
    expect(run.sim.requests.map((r) => r.status)).toEqual(Array(15).fill(200))
    expect(new Set(run.sim.requests.map((r) => r.path))).toEqual(
      new Set(["/oa/v1/chat/completions", "/oa/v1/completions"])
    )
  })

  it("native-story: Erato continues a story, streamed, to a stop sequence given as text", async () => {
    const run = await runExample("examples/native-story.ts")
    expect(run.stderr).toBe("")
    const [prompt, continuation, summary] = run.stdout.split("\n")
    expect(prompt).toMatch(/^The lighthouse keeper .+ \[19 tokens\]$/)
    expect(continuation).toMatch(/^ \w[^.]*\.$/)
    expect(summary).toMatch(/^\(\d+ tokens, to the end of the sentence\)$/)
    expect(run.sim.requests.map((r) => r.path)).toEqual(["/ai/generate-stream"])
    expect(run.sim.requests[0]!.body).toMatchObject({
      model: "llama-3-erato-v1",
      parameters: { use_string: true, max_length: 80, order: [0, 10], stop_sequences: [[13]] }
    })
  })

  it("ai-chat: an @effect/ai Chat keeps its history over three streamed turns", async () => {
    const run = await runExample("examples/ai-chat.ts")
    expect(run.stderr).toBe("")
    expect(run.stdout).toMatch(
      /^> Begin a story about a fox\.\n\w.+\n\n> What happens next\?\n\w.+\n\n> How does it end\?\n/
    )
    expect(run.stdout).toMatch(/\nThe chat holds 7 messages\.\n$/)
    expect(run.sim.requests.map((r) => (r.body as { messages: Array<unknown> }).messages.length)).toEqual([
      2, 4, 6
    ])
  })

  it("ai-object: generateObject with a Schema", async () => {
    const run = await runExample("examples/ai-object.ts")
    expect(run.stderr).toBe("")
    expect(run.stdout).toMatch(/^\w+( \w+)?, a \w+( \w+)? of [\d.]+: .+\n$/)
    expect(run.sim.requests[0]!.body).toMatchObject({ generation_prefix: "{", max_tokens: 300 })
  })

  it("cancel with a timeout and with fiber interruption", async () => {
    const run = await runExample("examples/cancel.ts", { sim: { chunkDelayMs: 5 } })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^Timeout: kept \d+ words, then stopped the stream\n/)
    expect(run.stdout).toMatch(/\nInterrupted: the generation was cancelled\n$/)
    // The first stream is cut by the timeout; the second meets the lock it left (429) until it is
    // free, then streams until the fiber is interrupted.
    const records = run.sim.requests
    expect(records[0]!.clientClosedEarly).toBe(true)
    expect(records.at(-1)!.status).toBe(200)
    expect(records.at(-1)!.clientClosedEarly).toBe(true)
    expect(records.slice(1, -1).every((r) => r.status === 429)).toBe(true)
  })

  it("image: the SDK's generate and generateStream samples write real PNGs, against the simulator without a key", async () => {
    const run = await runExample("examples/image.ts", { online: false })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^No NOVELAI_API_KEY: running against the simulator at /)
    expect(run.stdout).toMatch(/wrote output\.png \(\d+ bytes\)/)
    expect(run.stdout).toMatch(/step \d+, sigma [\d.]+/)
    expect(run.stdout).toMatch(/wrote final\.png in /)
  })

  it("image-tools: a price before the call, a vibe encoded once, a director tool and the upscaler, the Anlas spent", async () => {
    const run = await runExample("examples/image-tools.ts", { online: false })
    expect(run.stderr).toBe("")
    const [head] = run.stdout.split("\n")
    const [, total, price] = /^tier \d, (\d+) Anlas; this generation: (\d+) Anlas$/.exec(head ?? "") ?? []
    expect(total).toBeDefined()
    expect(run.stdout).toMatch(/wrote vibed\.png\nwrote lineart\.png\nwrote upscaled-1664x2432\.png\n/)
    // What the simulator charged: two generations, one encoding (2), the tool and the upscale.
    const spent = Number(/spent (\d+) Anlas/.exec(run.stdout)?.[1])
    expect(spent).toBeGreaterThanOrEqual(2 * Number(price) + 2)
  })

  it("image-stream: an Effect program saves each preview and the final image", async () => {
    const run = await runExample("examples/image-stream.ts", { online: false })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/wrote preview-0-0\.png\n/)
    expect(run.stdout).toMatch(/wrote final-0-seed-\d+\.png\n/)
  })
})
