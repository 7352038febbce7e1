/**
 * The simulator checked by a client nobody here wrote: the official `openai` package, pointed at
 * `<url>/oa/v1`, must get what it expects from every endpoint.
 */

import { type Simulator, startSimulator } from "effect-novelai/testing"
import OpenAI from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

let sim: Simulator
let openai: OpenAI

beforeAll(async () => {
  sim = await startSimulator({ concurrencyLimit: 4 })
  openai = new OpenAI({ apiKey: sim.apiKey, baseURL: `${sim.url}/oa/v1`, maxRetries: 0 })
})
afterAll(() => sim.close())

describe("the openai package against the simulator", () => {
  it("lists models", async () => {
    const page = await openai.models.list()
    expect(page.data.map((m) => [m.id, m.object, m.owned_by])).toEqual([
      ["glm-4-5", "model", "novelai"],
      ["glm-4-6", "model", "novelai"]
    ])
  })

  it("creates a completion and a chat completion", async () => {
    const completion = await openai.completions.create({
      model: "glm-4-6",
      prompt: "Once upon a time",
      max_tokens: 7
    })
    expect(completion.object).toBe("text_completion")
    expect(completion.choices[0]!.finish_reason).toBe("length")
    expect(completion.usage?.completion_tokens).toBe(7)
    const chat = await openai.chat.completions.create({
      model: "glm-4-6",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 9
    })
    expect(chat.object).toBe("chat.completion")
    expect(chat.choices[0]!.message.role).toBe("assistant")
    expect(chat.choices[0]!.message.content?.trim().split(" ").length).toBeGreaterThan(3)
  })

  it("streams both, ending on [DONE], with the same text as the non-streaming calls", async () => {
    const chat = await openai.chat.completions.create({
      model: "glm-4-6",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 15
    })
    let streamed = ""
    let finish: string | null = null
    for await (const chunk of await openai.chat.completions.create({
      model: "glm-4-6",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 15,
      stream: true
    })) {
      expect(chunk.object).toBe("chat.completion.chunk")
      streamed += chunk.choices[0]?.delta?.content ?? ""
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(streamed).toBe(chat.choices[0]!.message.content)
    expect(finish).toBe("length")

    let text = ""
    for await (const chunk of await openai.completions.create({
      model: "glm-4-6",
      prompt: "The fox",
      max_tokens: 6,
      stream: true
    })) {
      text += chunk.choices[0]?.text ?? ""
    }
    const whole = await openai.completions.create({ model: "glm-4-6", prompt: "The fox", max_tokens: 6 })
    expect(text).toBe(whole.choices[0]!.text)
  })

  it("maps the simulator's errors to the openai package's error classes", async () => {
    const bad = new OpenAI({ apiKey: "pst-wrong", baseURL: `${sim.url}/oa/v1`, maxRetries: 0 })
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
    await expect(
      openai.chat.completions.create({
        model: "glm-4-6",
        messages: [{ role: "user", content: "x" }],
        temperature: 3
      })
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError)
    await expect(
      openai.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] })
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })
})
