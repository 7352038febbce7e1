/** The README's Reliability snippet, run against the simulator so it cannot rot. */
import { NodeHttpClient } from "@effect/platform-node"
import { expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schedule } from "effect"
import { NovelAI, NovelAIClient, OpenAI, Retry } from "effect-novelai"
import { NovelAISimulator, layerSimulator as simulatorLayer } from "effect-novelai/testing"

it.live("the Reliability section's options and per-call overrides work as written", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    const NovelAILive = NovelAIClient.layerConfig({
      maxConcurrency: 1, // NovelAI's own per-account limit: no 429 from the generation lock
      maxRetries: 3,
      timeout: "5 minutes",
      idleTimeout: "30 seconds",
      rateLimit: { limit: 30, interval: "1 minute" }
    }).pipe(
      Layer.provide(NodeHttpClient.layerUndici),
      Layer.provide(
        Layer.setConfigProvider(
          ConfigProvider.fromMap(
            new Map([
              ["NOVELAI_API_KEY", sim.apiKey],
              ["NOVELAI_BASE_URL", sim.url]
            ])
          )
        )
      )
    )
    const messages = [{ role: "user" as const, content: "Hello" }]

    // Per call: no retries for this one, a short timeout.
    const quick = OpenAI.tokenCount({ prompt: "Hello" }, { maxRetries: 0, timeout: "5 seconds" })

    // Your own policy, built from the exported pieces.
    const patient = Schedule.exponential("1 second").pipe(
      Schedule.intersect(Schedule.recurs(10)),
      Schedule.whileInput(Retry.isRetryable)
    )
    const reply = OpenAI.chatCompletion({ messages }, { retrySchedule: patient })

    const [count, replies] = yield* Effect.all([
      quick,
      Effect.all([reply, reply, reply], { concurrency: 3 })
    ]).pipe(Effect.provide(NovelAILive))
    expect(count).toBe(1)
    expect(replies).toHaveLength(3)
    expect(sim.requests.filter((r) => r.status === 429)).toEqual([])

    const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0, timeout: 30_000 })
    const promised = yield* Effect.promise(() =>
      client.openai.chatCompletion({ messages }, { timeout: "1 minute" })
    )
    expect(promised.choices).toHaveLength(1)
    yield* Effect.promise(() => client.close())
  }).pipe(Effect.provide(simulatorLayer()))
)
