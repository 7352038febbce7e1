/**
 * How a facade stream ended, as its generation gate hears it: a shared gate (Redis) keeps the
 * account's slot after a stream that was cut (NovelAI goes on generating), and only then.
 */
import { NovelAI } from "effect-novelai"
import { startSimulator } from "effect-novelai/testing"
import { expect, it } from "vitest"
import { recordingGate } from "../support.js"

const hi = { messages: [{ role: "user" as const, content: "Tell me a story" }] }

it("a whole stream is 'done', one refused before its first chunk 'failed', one aborted midway 'interrupted'", async () => {
  const sim = await startSimulator({ chunkDelayMs: 5, quirks: { lockOutlivesCancel: false } })
  const { gate: generationGate, outcomes } = recordingGate()
  const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0, generationGate })
  try {
    for await (const _ of client.openai.chatCompletionStream({ ...hi, maxTokens: 4 })) {
      // consumed to its end
    }
    sim.enqueueFault({ kind: "server-error", status: 500 })
    const failed = await (async () => {
      for await (const _ of client.openai.chatCompletionStream(hi)) {
        // never reached
      }
    })().catch((error: unknown) => error)
    expect(failed).toMatchObject({ _tag: "ServerError" })
    const controller = new AbortController()
    const aborted = await (async () => {
      for await (const _ of client.openai.chatCompletionStream(
        { ...hi, maxTokens: 200 },
        controller.signal
      )) {
        controller.abort()
      }
    })().catch((error: unknown) => error)
    expect((aborted as Error).name).toBe("AbortError")
    expect(outcomes).toEqual(["done", "failed", "interrupted"])
  } finally {
    await client.close()
    await sim.close()
  }
})
