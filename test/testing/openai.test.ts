/**
 * The simulator checked by a client nobody here wrote: the official `openai` package, pointed at
 * `<url>/oa/v1`. Well-behaved, the simulator must give it what it expects from every endpoint; as
 * NovelAI does (the default), it must see NovelAI's quirks, as the README shows beside this client.
 */

import { NovelAI } from "effect-novelai"
import { type Simulator, startSimulator } from "effect-novelai/testing"
import OpenAI from "openai"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

let sim: Simulator
let openai: OpenAI
let novelai: Simulator
let openaiOnNovelAI: OpenAI

beforeAll(async () => {
  sim = await startSimulator({ concurrencyLimit: 4, quirks: false })
  openai = new OpenAI({ apiKey: sim.apiKey, baseURL: `${sim.url}/oa/v1`, maxRetries: 0 })
  novelai = await startSimulator()
  openaiOnNovelAI = new OpenAI({ apiKey: novelai.apiKey, baseURL: `${novelai.url}/oa/v1`, maxRetries: 0 })
})
afterAll(() => Promise.all([sim.close(), novelai.close()]))

describe("the openai package and this client, side by side, against the simulator as NovelAI does", () => {
  const messages = [{ role: "user" as const, content: "Tell me a story" }]

  it("a non-streaming chat: the openai package gets no reply, this client gets the model's", async () => {
    const theirs = await openaiOnNovelAI.chat.completions.create({ model: "glm-4-6", messages })
    expect(theirs.object).toBe("chat.completion.chunk")
    expect(theirs.choices[0]!.message).toBeUndefined()
    const client = new NovelAI({ apiKey: novelai.apiKey, baseUrl: novelai.url })
    const ours = await client.openai.chatCompletion({ messages })
    await client.close()
    expect(ours.object).toBe("chat.completion")
    expect(ours.choices[0]!.message.content.length).toBeGreaterThan(20)
  })

  it("array content: the openai package's request is refused (its error without NovelAI's message), this client's is sent as a string", async () => {
    const content = [{ type: "text" as const, text: "Tell me a story" }]
    await expect(
      openaiOnNovelAI.chat.completions.create({ model: "glm-4-6", messages: [{ role: "user", content }] })
    ).rejects.toMatchObject({ status: 400, message: "400 status code (no body)" })
    const client = new NovelAI({ apiKey: novelai.apiKey, baseUrl: novelai.url })
    const ours = await client.openai.chatCompletion({ messages: [{ role: "user", content }] })
    await client.close()
    expect(ours.choices[0]!.message.content.length).toBeGreaterThan(0)
  })

  it("thinking: the openai package streams the tags inside the answer, this client splits them out", async () => {
    let theirs = ""
    // NovelAI's parameter, unknown to the openai package's types.
    const params = { model: "glm-4-6", messages, stream: true as const, enable_thinking: true }
    for await (const chunk of await openaiOnNovelAI.chat.completions.create(params)) {
      theirs += chunk.choices[0]?.delta?.content ?? ""
    }
    expect(theirs).toMatch(/^<think>.*<\/think>\n\S/)
    const client = new NovelAI({ apiKey: novelai.apiKey, baseUrl: novelai.url })
    let ours = ""
    for await (const chunk of client.openai.chatCompletionStream({ messages, enableThinking: true })) {
      ours += chunk.choices[0]?.delta.content ?? ""
    }
    await client.close()
    expect(ours).toBe(theirs.replace(/^<think>.*<\/think>\n/, ""))
  })
})

describe("the openai package against the simulator, well-behaved", () => {
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
