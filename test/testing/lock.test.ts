/**
 * The simulator's per-key generation lock is given back whatever happens to a request, and `n` is
 * bounded on both sides, so no request can take a key's lock for ever.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { OpenAI } from "effect-novelai"
import { startSimulator } from "effect-novelai/testing"
import { withSimulator } from "../support.js"

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }

describe("n is bounded", () => {
  it.effect("the client refuses n above 128 before sending", () =>
    withSimulator({}, { maxRetries: 0 }, (sim) =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(OpenAI.chatCompletion({ ...hi, n: 1_000_000 }))
        expect(error).toMatchObject({ _tag: "InvalidRequestError", field: "n" })
        expect(error.message).toMatch(/from 1 to 128/)
        expect(sim.requests).toHaveLength(0)
      })
    )
  )

  it("the simulator answers n: 1000000 sent raw with a 400, and the key generates at once after", async () => {
    const sim = await startSimulator({ chunkDelayMs: 0 })
    try {
      const post = (body: unknown) =>
        fetch(`${sim.url}/oa/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${sim.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify(body)
        })
      const huge = await post({ model: "glm-4-6", ...hi, n: 1_000_000 })
      expect(huge.status).toBe(400)
      await huge.text()
      const next = await post({ model: "glm-4-6", ...hi, max_tokens: 4 })
      expect(next.status).toBe(200)
      await next.text()
      expect(sim.errors).toEqual([])
    } finally {
      await sim.close()
    }
  })
})
