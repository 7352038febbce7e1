/**
 * Memory per open stream, in a fresh process: N chat streams opened at once and held after their
 * first chunk (the simulator stalls each after two chunks), then the heap after a GC, less the heap
 * before, per stream. Prints JSON. The Effect API holds each as an async iterable, as a server
 * relaying chats would.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Layer, ManagedRuntime, Runtime, Stream } from "effect"
import { NovelAI, NovelAIClient, OpenAI } from "effect-novelai"
import OpenAIPackage from "openai"

const [name, n, url, apiKey] = process.argv.slice(2) as [string, string, string, string]
const count = Number(n)
const messages = [{ role: "user" as const, content: "Tell me a story" }]
const stall = { "x-simulator-fault": "stall;ms=600000;after=2" }
const gc = (globalThis as { gc?: () => void }).gc!

type Opened = AsyncIterator<any>

const opener = async (): Promise<{ open: () => Promise<Opened>; close: () => Promise<void> }> => {
  if (name === "effect") {
    const layer = NovelAIClient.layer({
      apiKey,
      baseUrl: url,
      headers: stall,
      generationConcurrency: "unbounded",
      maxRetries: 0
    }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    const managed = ManagedRuntime.make(layer)
    const runtime = await managed.runtime()
    return {
      open: async () =>
        Stream.toAsyncIterableRuntime(OpenAI.chatCompletionStream({ messages, maxTokens: 16 }), runtime)[
          Symbol.asyncIterator
        ](),
      close: () => managed.dispose()
    }
  }
  if (name === "effect-floor") {
    // What Effect's own machinery holds for a stream consumed as an async iterable: a stream of one
    // chunk that never ends, held after it, with no request, socket or client under it.
    const chunk = { choices: [{ delta: { content: "x" } }] }
    return {
      open: async () =>
        Stream.toAsyncIterableRuntime(
          Stream.concat(Stream.succeed(chunk), Stream.never),
          Runtime.defaultRuntime
        )[Symbol.asyncIterator](),
      close: async () => undefined
    }
  }
  if (name === "facade") {
    const client = new NovelAI({
      apiKey,
      baseUrl: url,
      headers: stall,
      generationConcurrency: "unbounded",
      maxRetries: 0
    })
    return {
      open: async () =>
        client.openai.chatCompletionStream({ messages, maxTokens: 16 })[Symbol.asyncIterator](),
      close: () => client.close()
    }
  }
  const client = new OpenAIPackage({ apiKey, baseURL: `${url}/oa/v1`, maxRetries: 0 })
  return {
    open: async () =>
      (
        await client.chat.completions.create(
          { model: "glm-4-6", messages, max_tokens: 16, stream: true },
          { headers: stall }
        )
      )[Symbol.asyncIterator](),
    close: async () => undefined
  }
}

/** Reads until the first chunk with content. */
const first = async (iterator: Opened) => {
  for (;;) {
    const next = await iterator.next()
    if (next.done) throw new Error(`${name}: a stream ended before its first chunk`)
    if (next.value.choices?.[0]?.delta?.content) return
  }
}

const { open, close } = await opener()
// Warm-up: modules loaded, a connection opened and closed.
const warm = await open()
await first(warm)
await warm.return?.()
gc()
gc()
const before = process.memoryUsage().heapUsed
const held: Array<Opened> = []
for (let started = 0; started < count; started += 100) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(100, count - started) }, async () => {
      const iterator = await open()
      await first(iterator)
      return iterator
    })
  )
  held.push(...batch)
}
gc()
gc()
const after = process.memoryUsage().heapUsed
console.log(JSON.stringify({ perStream: (after - before) / count, streams: held.length }))
await Promise.all(held.map((iterator) => iterator.return?.()))
await close()
process.exit(0)
