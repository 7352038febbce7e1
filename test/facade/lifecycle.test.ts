/**
 * The Promise facade's signals and its close, as a Promise caller meets them: an abort rejects with
 * the signal's reason as fetch does, once; one signal may serve many calls; closing a client gives
 * back the generation slots of its open streams, even those of a gate it shares.
 */

import { NovelAI, NovelAIClient } from "effect-novelai"
import { type Simulator, startSimulator } from "effect-novelai/testing"
import { afterEach, describe, expect, it } from "vitest"

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }

const closing: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close()
})

const simulator = async (): Promise<Simulator> => {
  const sim = await startSimulator({
    chunkDelayMs: 5,
    concurrencyLimit: 20,
    quirks: { lockOutlivesCancel: false }
  })
  closing.push(() => sim.close())
  return sim
}

const clientOn = (sim: Simulator, options: Record<string, unknown> = {}) => {
  const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0, ...options })
  closing.push(() => client.close())
  return client
}

describe("an abort, as fetch has it", () => {
  it("abort(reason) rejects a call and a stream with that reason", async () => {
    const sim = await simulator()
    const client = clientOn(sim)
    const reason = new Error("the user left")
    const calling = new AbortController()
    const pending = client.openai.listModels({ signal: calling.signal })
    calling.abort(reason)
    await expect(pending).rejects.toBe(reason)

    const streaming = new AbortController()
    const iterator = client.openai.chatCompletionStream({ ...hi, maxTokens: 200 }, streaming.signal)
    await iterator.next()
    streaming.abort(reason)
    await expect(iterator.next()).rejects.toBe(reason)
    // Thrown once: the iteration is over.
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  it("an abort while a stream waits to open rejects once, and the slot it waited for stays free", async () => {
    const sim = await simulator()
    const client = clientOn(sim)
    // The first stream holds the account's one generation slot; the second waits behind it.
    const holder = client.openai.chatCompletionStream({ ...hi, maxTokens: 20 })
    await holder.next()
    const controller = new AbortController()
    const reason = new Error("the user left")
    const waiting = client.openai.chatCompletionStream({ ...hi, maxTokens: 20 }, controller.signal)
    const first = waiting.next()
    controller.abort(reason)
    await expect(first).rejects.toBe(reason)
    expect(await waiting.next()).toEqual({ done: true, value: undefined })
    for await (const _ of holder) {
      // Read to its end: the slot goes back.
    }
    const after = client.openai.chatCompletionStream({ ...hi, maxTokens: 5 })
    expect((await after.next()).done).toBe(false)
    await after.return?.()
  })

  it("after an abort no further chunk is handed over, even one already received", async () => {
    // No delay: the chunks arrive together and the second read hands over two at once.
    const sim = await startSimulator({ chunkDelayMs: 0 })
    closing.push(() => sim.close())
    const client = clientOn(sim)
    const controller = new AbortController()
    const iterator = client.openai.chatCompletionStream({ ...hi, maxTokens: 50 }, controller.signal)
    await iterator.next()
    await iterator.next()
    controller.abort()
    await expect(iterator.next()).rejects.toMatchObject({ name: "AbortError" })
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  it("abort() with no reason is a DOMException named AbortError; an aborted signal rejects at once", async () => {
    const sim = await simulator()
    const client = clientOn(sim)
    const error = await client.openai.listModels({ signal: AbortSignal.abort() }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DOMException)
    expect((error as DOMException).name).toBe("AbortError")
    expect(sim.requests).toHaveLength(0)
  })

  it("one signal shared by 30 calls and streams: no MaxListenersExceededWarning, one abort ends them all", async () => {
    const sim = await simulator()
    const client = clientOn(sim, { generationConcurrency: "unbounded" })
    const warnings: Array<Error> = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on("warning", onWarning)
    try {
      const shared = new AbortController()
      const done = await Promise.all(
        Array.from({ length: 30 }, () => client.openai.listModels({ signal: shared.signal }))
      )
      expect(done).toHaveLength(30)
      const iterators = Array.from({ length: 12 }, () =>
        client.openai.chatCompletionStream({ ...hi, maxTokens: 500 }, shared.signal)
      )
      const firsts = await Promise.all(iterators.map((iterator) => iterator.next()))
      expect(firsts.every((first) => first.done === false)).toBe(true)
      shared.abort()
      for (const iterator of iterators) {
        await expect(iterator.next()).rejects.toMatchObject({ name: "AbortError" })
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((warning) => warning.name === "MaxListenersExceededWarning")).toEqual([])
    } finally {
      process.off("warning", onWarning)
    }
  })
})

describe("closing a client", () => {
  it("gives back the slot of a shared gate held by one of its open streams", async () => {
    const sim = await simulator()
    const gate = NovelAIClient.makeGenerationGate()
    closing.push(() => gate.close())
    const first = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url, generationGate: gate })
    const iterator = first.openai.chatCompletionStream({ ...hi, maxTokens: 500 })
    await iterator.next()
    await first.close()
    const second = clientOn(sim, { generationGate: gate })
    // Behind the closed client's stream, this would wait for a slot until its timeout (phase queue).
    const reply = await second.openai.chatCompletion(hi, { timeout: 5000 })
    expect(reply.choices[0]!.message.content).not.toBe("")
    expect(sim.requests[0]!.clientClosedEarly).toBe(true)
    await expect(iterator.next()).rejects.toMatchObject({ _tag: "ClientClosedError" })
  })
})
