import { inspect } from "node:util"
import {
  AuthenticationError,
  ClientClosedError,
  ConfigurationError,
  InvalidRequestError,
  NovelAI,
  RateLimitError,
  StreamTruncatedError
} from "effect-novelai"
import { type Simulator, startSimulator } from "effect-novelai/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

let sim: Simulator
let client: NovelAI

beforeAll(async () => {
  sim = await startSimulator({ chunkDelayMs: 2, concurrencyLimit: 4 })
  client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0 })
})
afterAll(async () => {
  await client.close()
  await sim.close()
})

const hi = { messages: [{ role: "user" as const, content: "Tell me a story" }] }

describe("the Promise facade", () => {
  it("runs every endpoint with the spec's parameters and result shapes", async () => {
    const models = await client.openai.listModels()
    expect(models.map((m) => `${m.id} (owned by ${m.owned_by})`)).toEqual([
      "glm-4-5 (owned by novelai)",
      "glm-4-6 (owned by novelai)"
    ])
    const completion = await client.openai.completion({
      prompt: "Once upon a time,",
      model: models[0]!.id,
      maxTokens: 10
    })
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0)
    const chat = await client.openai.chatCompletion({ ...hi, model: "glm-4-6", maxTokens: 12 })
    let streamed = ""
    for await (const chunk of client.openai.chatCompletionStream({
      ...hi,
      model: "glm-4-6",
      maxTokens: 12
    })) {
      streamed += chunk.choices[0]?.delta?.content ?? ""
    }
    expect(streamed).toBe(chat.choices[0]!.message.content)
    let text = ""
    for await (const chunk of client.openai.completionStream({
      prompt: "The quick brown fox",
      maxTokens: 10
    })) {
      text += chunk.choices[0]?.text ?? ""
    }
    expect(text.split(" ").length).toBeGreaterThan(5)
    expect(
      await client.openai.tokenCount({ prompt: "Hello, world! This is a test.", model: "llama-3-erato-v1" })
    ).toBe(9)
  })

  it("throws the same error classes as the Effect API", async () => {
    const wrong = new NovelAI({ apiKey: "pst-wrong", baseUrl: sim.url })
    await expect(wrong.openai.listModels()).rejects.toBeInstanceOf(AuthenticationError)
    await wrong.close()
    const invalid = await client.openai.chatCompletion({ ...hi, temperature: 7 }).catch((e: unknown) => e)
    expect(invalid).toBeInstanceOf(InvalidRequestError)
    expect((invalid as InvalidRequestError).message).toMatch(/temperature must be a number from 0 to 2/)
    sim.enqueueFault({ kind: "rate-limit" })
    await expect(client.openai.chatCompletion(hi)).rejects.toBeInstanceOf(RateLimitError)
    sim.enqueueFault({ kind: "cut", after: 2 })
    const iterate = async () => {
      for await (const _ of client.openai.chatCompletionStream(hi)) {
        // consume
      }
    }
    await expect(iterate()).rejects.toBeInstanceOf(StreamTruncatedError)
  })

  it("aborting a stream rejects with AbortError and closes the request", async () => {
    sim.reset()
    const controller = new AbortController()
    const seen: Array<string> = []
    const error = await (async () => {
      for await (const chunk of client.openai.chatCompletionStream(
        { ...hi, maxTokens: 500 },
        controller.signal
      )) {
        seen.push(chunk.choices[0]?.delta?.content ?? "")
        if (seen.length === 3) controller.abort()
      }
    })().catch((e: unknown) => e)
    expect((error as Error).name).toBe("AbortError")
    expect(seen).toHaveLength(3)
    expect((await sim.closed(0)).clientClosedEarly).toBe(true)
  })

  it("aborting a pending call rejects with AbortError; an aborted signal rejects at once", async () => {
    sim.reset()
    sim.enqueueFault({ kind: "stall-headers", ms: 2000 })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const error = await client.openai
      .chatCompletion(hi, { signal: controller.signal })
      .catch((e: unknown) => e)
    expect((error as Error).name).toBe("AbortError")
    // It did not wait for the answer: the simulator had not sent one yet.
    expect(sim.requests[0]!.status).toBeUndefined()
    const already = await client.openai.listModels({ signal: AbortSignal.abort() }).catch((e: unknown) => e)
    expect((already as Error).name).toBe("AbortError")
  })

  it("breaking out of for await closes the request", async () => {
    sim.reset()
    let n = 0
    for await (const _ of client.openai.chatCompletionStream({ ...hi, maxTokens: 500 })) {
      if (++n === 2) break
    }
    expect((await sim.closed(0)).clientClosedEarly).toBe(true)
  })

  it("the key falls back to NOVELAI_API_KEY; with none the constructor throws a clear error", async () => {
    const saved = { key: process.env.NOVELAI_API_KEY, url: process.env.NOVELAI_BASE_URL }
    try {
      delete process.env.NOVELAI_API_KEY
      expect(() => new NovelAI()).toThrow(ConfigurationError)
      expect(() => new NovelAI()).toThrow(/NOVELAI_API_KEY/)
      process.env.NOVELAI_API_KEY = sim.apiKey
      process.env.NOVELAI_BASE_URL = sim.url
      await using fromEnv = new NovelAI()
      expect(fromEnv.baseUrl).toBe(sim.url)
      expect((await fromEnv.openai.listModels()).length).toBe(2)
    } finally {
      if (saved.key === undefined) delete process.env.NOVELAI_API_KEY
      else process.env.NOVELAI_API_KEY = saved.key
      if (saved.url === undefined) delete process.env.NOVELAI_BASE_URL
      else process.env.NOVELAI_BASE_URL = saved.url
    }
  })

  it("after close(), calls reject with a ClientClosedError that says so", async () => {
    const local = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url })
    expect(await local.openai.listModels()).toHaveLength(2)
    await local.close()
    await expect(local.openai.listModels()).rejects.toThrow(/client was closed/)
    await expect(local.openai.chatCompletionStream(hi).next()).rejects.toBeInstanceOf(ClientClosedError)
  })

  it("refuses bad options in the constructor", () => {
    expect(() => new NovelAI({ apiKey: "pst-x", baseUrl: "http://example.com" })).toThrow(/plain http/)
    expect(() => new NovelAI({ apiKey: "pst-\nx" })).toThrow(/line break/)
  })

  it("a custom fetch is used for every request", async () => {
    const urls: Array<string> = []
    const custom = new NovelAI({
      apiKey: sim.apiKey,
      baseUrl: sim.url,
      fetch: (input, init) => {
        urls.push(String(input instanceof Request ? input.url : input))
        return fetch(input, init)
      }
    })
    await custom.openai.listModels()
    await custom.close()
    expect(urls).toEqual([`${sim.url}/oa/v1/models`])
  })

  it("console.log, JSON and errors never show the key", async () => {
    const secret = "pst-facade-secret-1234"
    const local = new NovelAI({ apiKey: secret, baseUrl: sim.url })
    expect(inspect(local, { depth: 10, showHidden: true })).not.toContain(secret)
    expect(JSON.stringify(local)).not.toContain(secret)
    expect(String(local)).not.toContain(secret)
    const error = await local.openai.listModels().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthenticationError)
    expect(inspect(error, { depth: 10 })).not.toContain(secret)
    await local.close()
  })
})
