/**
 * `npm run demo:redis`: two processes, one NovelAI key, one generation at a time between them,
 * through a generation gate shared in Redis (REDIS_URL, default redis://127.0.0.1:6379).
 *
 * With NOVELAI_API_KEY set it talks to the real API (or NOVELAI_BASE_URL); without it, it starts the
 * bundled simulator, whose lock answers 429 to a generation sent while another runs, and counts the
 * 429s it sent at the end: none.
 */
import { fork } from "node:child_process"
import { NovelAI } from "effect-novelai"
import { RedisGenerationGate } from "effect-novelai/redis"
import { startSimulator } from "effect-novelai/testing"

const GENERATIONS = 4
const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379"

/** One process: its own client and its own gate, on the account's slot in Redis. */
const worker = async (name: string, apiKey: string, baseUrl: string | undefined) => {
  const generationGate = RedisGenerationGate.make({ url: redisUrl, apiKey })
  const client = new NovelAI({ apiKey, generationGate, ...(baseUrl ? { baseUrl } : {}) })
  try {
    for (let i = 1; i <= GENERATIONS; i++) {
      let text = ""
      for await (const chunk of client.openai.chatCompletionStream({
        messages: [{ role: "user", content: `Process ${name} asks for a one-line story.` }],
        maxTokens: 30
      })) {
        text += chunk.choices[0]?.delta.content ?? ""
      }
      console.log(
        `process ${name}: generation ${i} of ${GENERATIONS}: ${text.trim().split(/\s+/).slice(0, 6).join(" ")}...`
      )
    }
  } finally {
    await client.close()
    await generationGate.close()
  }
}

/** Starts the two processes (this file again, with a name) and waits for them. */
const main = async () => {
  const online = Boolean(process.env.NOVELAI_API_KEY)
  const sim = online ? undefined : await startSimulator({ chunkDelayMs: 10 })
  const apiKey = sim?.apiKey ?? process.env.NOVELAI_API_KEY!
  const baseUrl = sim?.url ?? process.env.NOVELAI_BASE_URL ?? ""
  console.log(
    online
      ? "Talking to the NovelAI API."
      : `No NOVELAI_API_KEY set: using the local simulator at ${baseUrl}.`
  )
  const script = process.argv[1]!
  const exits = ["1", "2"].map(
    (name) =>
      new Promise<number | null>((resolve) => {
        const child = fork(script, ["--worker", name], {
          env: { ...process.env, DEMO_API_KEY: apiKey, DEMO_BASE_URL: baseUrl, REDIS_URL: redisUrl }
        })
        child.once("exit", resolve)
      })
  )
  const codes = await Promise.all(exits)
  if (sim !== undefined) {
    const generations = sim.requests.filter((r) => r.method === "POST")
    const locked = generations.filter((r) => r.status === 429).length
    console.log(
      `${generations.length} generations from 2 processes, one at a time: ${locked} met NovelAI's lock (429)`
    )
    await sim.close()
  }
  if (codes.some((code) => code !== 0)) process.exitCode = 1
}

const at = process.argv.indexOf("--worker")
const run =
  at === -1
    ? main()
    : worker(process.argv[at + 1]!, process.env.DEMO_API_KEY!, process.env.DEMO_BASE_URL || undefined)
run.catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
