import { ConfigurationError, InvalidRequestError, NovelAI } from "effect-novelai"
import { type Simulator, startSimulator } from "effect-novelai/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({ chunkDelayMs: 0 })
})
afterAll(() => sim.close())

const refusal = async (make: () => NovelAI): Promise<unknown> => {
  try {
    const client = make()
    try {
      await client.openai.listModels()
    } finally {
      await client.close()
    }
  } catch (e) {
    return e
  }
  return undefined
}

describe("client options", () => {
  it("an unknown option name is refused, with the name it was probably meant to be", async () => {
    const error = await refusal(
      () => new NovelAI({ apiKey: "pst-x", baseUrl: sim.url, maxRetry: 2 } as never)
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(String((error as Error).message)).toMatch(/maxRetry.*maxRetries/s)
  })

  it("options that are not an object, a fetch that is not a function are refused", async () => {
    expect(await refusal(() => new NovelAI(null as never))).toBeInstanceOf(ConfigurationError)
    expect(await refusal(() => new NovelAI({ apiKey: "pst-x", fetch: 5 } as never))).toBeInstanceOf(
      ConfigurationError
    )
  })

  it("a default chat model of another family is refused", async () => {
    const error = await refusal(
      () => new NovelAI({ apiKey: "pst-x", baseUrl: sim.url, defaultModel: "kayra-v1" })
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(String((error as Error).message)).toContain("kayra-v1")
  })

  it("the SDK's textBase and imageBase are aliases of baseUrl and imageBaseUrl", async () => {
    const client = new NovelAI({ apiKey: sim.apiKey, textBase: sim.url, maxRetries: 0 } as never)
    try {
      expect((await client.openai.listModels()).length).toBeGreaterThan(0)
    } finally {
      await client.close()
    }
    const error = await refusal(
      () => new NovelAI({ apiKey: "pst-x", baseUrl: sim.url, textBase: "http://127.0.0.1:1" } as never)
    )
    expect(error).toBeInstanceOf(ConfigurationError)
  })

  it("an unknown call option is refused before anything is sent", async () => {
    const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0 })
    try {
      const before = sim.requests.length
      const error = await client.openai.listModels({ timout: 1000 } as never).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidRequestError)
      expect(String((error as Error).message)).toContain("timout")
      expect(sim.requests.length).toBe(before)
    } finally {
      await client.close()
    }
  })
})
