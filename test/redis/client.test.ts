/**
 * Clients on Redis gates against the simulator and its strict lock (a cancelled generation keeps
 * the key's lock until it would have finished): the facade and the Effect layer alike, text
 * generations streamed, plain and cut short, never meet a 429; a wait for a slot ends with the
 * call's `timeout` (phase `queue`) with nothing sent; Redis unreachable fails the call before
 * anything is sent.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Stream } from "effect"
import { Errors, NovelAI, NovelAIClient, OpenAI } from "effect-novelai"
import { type Simulator, startSimulator } from "effect-novelai/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { RedisGenerationGate } from "../../src/redis.js"
import { eventually, type RedisServer, redisServer, startRedis } from "./support.js"

const hi = { messages: [{ role: "user" as const, content: "Tell me a story" }], maxTokens: 20 }

describe.skipIf(redisServer === undefined)("clients on a Redis gate", () => {
  let redis: RedisServer
  let sim: Simulator
  beforeAll(async () => {
    ;[redis, sim] = await Promise.all([startRedis(), startSimulator({ chunkDelayMs: 2 })])
  })
  afterAll(async () => {
    await sim?.close()
    await redis?.stop()
  })

  const statuses = () => sim.requests.map((r) => r.status)

  it("two facades and a layer, one key, each with its own gate: streams, plain calls and cut streams never meet the lock", async () => {
    sim.reset()
    const apiKey = sim.apiKey
    const gateOptions = { url: redis.url, apiKey, interruptedHold: "300 millis" } as const
    const gates = [0, 1, 2].map(() => RedisGenerationGate.make(gateOptions))
    const facades = gates
      .slice(0, 2)
      .map((generationGate) => new NovelAI({ apiKey, baseUrl: sim.url, generationGate, maxRetries: 0 }))
    const layer = NovelAIClient.layer({
      apiKey,
      baseUrl: sim.url,
      generationGate: gates[2]!,
      maxRetries: 0
    }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    const viaFacade = async (client: NovelAI, i: number) => {
      for (let j = 0; j < 4; j++) {
        if ((i + j) % 3 === 0) {
          let n = 0
          // Cut short: NovelAI goes on generating, so the slot is kept for interruptedHold.
          for await (const _ of client.openai.chatCompletionStream({ ...hi, maxTokens: 60 }))
            if (++n === 2) break
        } else if ((i + j) % 3 === 1) {
          const reply = await client.openai.completion({ prompt: "Once", maxTokens: 10 })
          expect(reply.choices[0]!.text.length).toBeGreaterThan(0)
        } else {
          let text = ""
          for await (const chunk of client.openai.chatCompletionStream(hi))
            text += chunk.choices[0]?.delta.content ?? ""
          expect(text.length).toBeGreaterThan(0)
        }
      }
    }
    const viaLayer = Effect.gen(function* () {
      for (let j = 0; j < 4; j++) {
        if (j % 2 === 0) yield* OpenAI.chatCompletion(hi)
        else yield* Stream.runDrain(Stream.take(OpenAI.chatCompletionStream({ ...hi, maxTokens: 60 }), 2))
      }
    }).pipe(Effect.provide(layer))
    try {
      await Promise.all([viaFacade(facades[0]!, 0), viaFacade(facades[1]!, 1), Effect.runPromise(viaLayer)])
      const generations = sim.requests.filter((r) => r.method === "POST")
      expect(generations).toHaveLength(12)
      expect(statuses()).not.toContain(429)
      expect(statuses().every((s) => s === 200)).toBe(true)
      // Never two generations of the key at once on the server.
      const spans = generations
        .map((r) => [r.receivedAt, r.closedAt ?? Infinity] as const)
        .sort((a, b) => a[0] - b[0])
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1] - 1)
    } finally {
      await Promise.all(facades.map((f) => f.close()))
      await Promise.all(gates.map((g) => g.close()))
    }
  })

  it("a call waiting for a slot ends with its timeout, phase queue, having sent nothing", async () => {
    sim.reset()
    const apiKey = sim.apiKey
    const holder = RedisGenerationGate.make({ url: redis.url, apiKey })
    const gate = RedisGenerationGate.make({ url: redis.url, apiKey })
    const client = new NovelAI({ apiKey, baseUrl: sim.url, generationGate: gate, maxRetries: 0 })
    try {
      const lease = await Effect.runPromise(holder.acquire("text"))
      const error = await client.openai.chatCompletion(hi, { timeout: "300 millis" }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Errors.TimeoutError)
      expect((error as Errors.TimeoutError).phase).toBe("queue")
      expect(sim.requests.filter((r) => r.method === "POST")).toEqual([])
      // Cancelled with an AbortSignal while waiting: the same, nothing sent.
      const aborted = new AbortController()
      const waiting = client.openai.chatCompletion(hi, { signal: aborted.signal }).catch((e: unknown) => e)
      await eventually("queued", async () => (await redis.admin.keys("*:text:queue")).length > 0)
      aborted.abort()
      await waiting
      expect(sim.requests.filter((r) => r.method === "POST")).toEqual([])
      await Effect.runPromise(lease.release("done"))
      // The slot is free: the next call goes through.
      expect((await client.openai.chatCompletion(hi)).choices[0]!.message.content).toBeTruthy()
    } finally {
      await client.close()
      await gate.close()
      await holder.close()
    }
  })

  it("Redis unreachable: the call fails with GenerationGateError and nothing is sent", async () => {
    sim.reset()
    const apiKey = sim.apiKey
    const gate = RedisGenerationGate.make({
      url: `redis://127.0.0.1:${redis.port + 1}`,
      apiKey,
      operationTimeout: 500
    })
    const client = new NovelAI({ apiKey, baseUrl: sim.url, generationGate: gate })
    try {
      const error = await client.openai.chatCompletion(hi).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Errors.GenerationGateError)
      const streamError = await (async () => {
        for await (const _ of client.openai.chatCompletionStream(hi)) return undefined
      })().catch((e: unknown) => e)
      expect(streamError).toBeInstanceOf(Errors.GenerationGateError)
      expect(sim.requests.filter((r) => r.method === "POST")).toEqual([])
      // Calls that are not generations do not pass the generation gate.
      expect(await client.openai.listModels()).toBeTruthy()
    } finally {
      await client.close()
      await gate.close()
    }
  })
})
