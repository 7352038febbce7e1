/**
 * The contenders: the same three operations (a non-streaming chat completion; a streamed one,
 * counted; a whole reply got through a stream, as NovelAI's empty non-streaming chat makes every
 * client do) done by raw fetch, our Effect API on two HttpClients, our Promise facade, and the
 * official `openai` package, all against the same simulator.
 *
 * Our clients are set as a user with a proxy or several accounts would set them: generations not
 * queued (`generationConcurrency: "unbounded"`), and the plain requests sent plainly
 * (`collectStream: false`); the whole reply is `chatCompletion` with its default for chats.
 */
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { NovelAI, NovelAIClient, OpenAI } from "effect-novelai"
import OpenAIPackage from "openai"

export interface Target {
  readonly url: string
  readonly apiKey: string
}

export interface StreamResult {
  readonly chunks: number
  /** ms from the call to the first chunk with content. */
  readonly firstChunkMs: number
}

export interface Contender {
  readonly name: string
  /** A reference row, not a client: measured in the whole-reply phase only, held to no target. */
  readonly reference?: boolean
  /** One non-streaming chat completion; resolves when the result is decoded. */
  readonly chat: () => Promise<unknown>
  /** Consumes a chat stream of `tokens` chunks (forced by the simulator). */
  readonly stream: (tokens: number) => Promise<StreamResult>
  /** A whole chat reply, got by streaming and collecting; resolves to its text. */
  readonly whole: () => Promise<string>
  readonly close: () => Promise<void>
}

const messages = [{ role: "user" as const, content: "Tell me a story" }]
const now = () => performance.now()

/** A minimal SSE split, for raw fetch: frames end with a blank line; data lines carry JSON. */
const rawChunks = async function* (response: Response): AsyncGenerator<any> {
  const decoder = new TextDecoder()
  let buffer = ""
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true })
    let end = buffer.indexOf("\n\n")
    while (end !== -1) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      end = buffer.indexOf("\n\n")
      if (!frame.startsWith("data: ")) continue
      const data = frame.slice(6)
      if (data !== "[DONE]") yield JSON.parse(data)
    }
  }
}

/** Raw fetch's chat request: streamed or not, its reply's size forced when `tokens` is given. */
const rawPost = (target: Target, stream: boolean, tokens?: number) =>
  fetch(`${target.url}/oa/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${target.apiKey}`,
      "content-type": "application/json",
      accept: stream ? "text/event-stream" : "application/json",
      ...(tokens ? { "x-simulator-tokens": String(tokens) } : {})
    },
    body: JSON.stringify({
      model: "glm-4-6",
      messages,
      max_tokens: 16,
      ...(stream ? { stream: true } : {})
    })
  })

export const raw = (target: Target): Contender => {
  const post = (stream: boolean, tokens?: number) => rawPost(target, stream, tokens)
  return {
    name: "raw fetch",
    chat: async () => JSON.parse(await (await post(false)).text()),
    stream: async (tokens) => {
      const started = now()
      let firstChunkMs = -1
      let chunks = 0
      for await (const chunk of rawChunks(await post(true, tokens))) {
        if (chunk.choices[0]?.delta?.content) {
          if (firstChunkMs < 0) firstChunkMs = now() - started
          chunks++
        }
      }
      return { chunks, firstChunkMs }
    },
    whole: async () => {
      let text = ""
      for await (const chunk of rawChunks(await post(true))) text += chunk.choices[0]?.delta?.content ?? ""
      return text
    },
    close: async () => {}
  }
}

const effectContender = (
  name: string,
  target: Target,
  http: Layer.Layer<HttpClient.HttpClient>
): Contender => {
  const settings = { generationConcurrency: "unbounded", collectStream: false } as const
  const runtime = ManagedRuntime.make(
    NovelAIClient.layer({ apiKey: target.apiKey, baseUrl: target.url, ...settings }).pipe(Layer.provide(http))
  )
  const forced = (tokens: number) =>
    ManagedRuntime.make(
      NovelAIClient.layer({
        apiKey: target.apiKey,
        baseUrl: target.url,
        headers: { "x-simulator-tokens": String(tokens) },
        ...settings
      }).pipe(Layer.provide(http))
    )
  const streamRuntimes = new Map<number, ReturnType<typeof forced>>()
  return {
    name,
    chat: () => runtime.runPromise(OpenAI.chatCompletion({ messages, maxTokens: 16 })),
    stream: (tokens) => {
      let streamRuntime = streamRuntimes.get(tokens)
      if (streamRuntime === undefined) {
        streamRuntime = forced(tokens)
        streamRuntimes.set(tokens, streamRuntime)
      }
      const started = now()
      let firstChunkMs = -1
      let chunks = 0
      return streamRuntime.runPromise(
        OpenAI.chatCompletionStream({ messages, maxTokens: 16 }).pipe(
          Stream.runForEach((chunk) =>
            Effect.sync(() => {
              if (chunk.choices[0]?.delta.content) {
                if (firstChunkMs < 0) firstChunkMs = now() - started
                chunks++
              }
            })
          ),
          Effect.map(() => ({ chunks, firstChunkMs }))
        )
      )
    },
    whole: () =>
      runtime.runPromise(
        Effect.map(
          OpenAI.chatCompletion({ messages, maxTokens: 16 }, { collectStream: true }),
          (reply) => reply.choices[0]!.message.content
        )
      ),
    close: async () => {
      await runtime.dispose()
      for (const r of streamRuntimes.values()) await r.dispose()
    }
  }
}

/**
 * Raw fetch's own chunks consumed as an Effect `Stream` (`Stream.fromAsyncIterable`, then
 * `Stream.runForEach`, as the Effect API's stream is consumed here): what running any Effect stream
 * of a reply costs, whoever makes it, with nothing of ours in it. A reference row for the
 * whole-reply phase only (and its time to first chunk): it sends what raw fetch sends.
 */
export const rawAsEffectStream = (target: Target): Contender => {
  const base = raw(target)
  const chunks = (tokens: number) =>
    Stream.fromAsyncIterable(
      (async function* () {
        yield* rawChunks(await rawPost(target, true, tokens))
      })(),
      (error) => error
    )
  return {
    name: "raw fetch's chunks as an Effect Stream (reference)",
    reference: true,
    chat: base.chat,
    stream: (tokens) => {
      const started = now()
      let firstChunkMs = -1
      let count = 0
      return Effect.runPromise(
        Stream.runForEach(chunks(tokens), (chunk) =>
          Effect.sync(() => {
            if (chunk.choices[0]?.delta?.content) {
              if (firstChunkMs < 0) firstChunkMs = now() - started
              count++
            }
          })
        ).pipe(Effect.map(() => ({ chunks: count, firstChunkMs })))
      )
    },
    whole: () => {
      let text = ""
      return Effect.runPromise(
        Stream.runForEach(chunks(0), (chunk) =>
          Effect.sync(() => {
            text += chunk.choices[0]?.delta?.content ?? ""
          })
        ).pipe(Effect.map(() => text))
      )
    },
    close: base.close
  }
}

export const effectNode = (target: Target) =>
  effectContender("Effect API (Node undici)", target, NodeHttpClient.layerUndici)
export const effectFetch = (target: Target) =>
  effectContender("Effect API (Fetch)", target, FetchHttpClient.layer)

export const facade = (target: Target): Contender => {
  const clients = new Map<number, NovelAI>()
  const clientFor = (tokens: number) => {
    let client = clients.get(tokens)
    if (client === undefined) {
      client = new NovelAI({
        apiKey: target.apiKey,
        baseUrl: target.url,
        generationConcurrency: "unbounded",
        collectStream: false,
        ...(tokens > 0 ? { headers: { "x-simulator-tokens": String(tokens) } } : {})
      })
      clients.set(tokens, client)
    }
    return client
  }
  return {
    name: "Promise facade",
    chat: () => clientFor(0).openai.chatCompletion({ messages, maxTokens: 16 }),
    stream: async (tokens) => {
      const started = now()
      let firstChunkMs = -1
      let chunks = 0
      for await (const chunk of clientFor(tokens).openai.chatCompletionStream({ messages, maxTokens: 16 })) {
        if (chunk.choices[0]?.delta?.content) {
          if (firstChunkMs < 0) firstChunkMs = now() - started
          chunks++
        }
      }
      return { chunks, firstChunkMs }
    },
    whole: async () =>
      (await clientFor(0).openai.chatCompletion({ messages, maxTokens: 16 }, { collectStream: true }))
        .choices[0]!.message.content,
    close: async () => {
      for (const client of clients.values()) await client.close()
    }
  }
}

export const openaiPackage = (target: Target): Contender => {
  const client = new OpenAIPackage({ apiKey: target.apiKey, baseURL: `${target.url}/oa/v1`, maxRetries: 0 })
  return {
    name: "openai package",
    chat: () => client.chat.completions.create({ model: "glm-4-6", messages, max_tokens: 16 }),
    stream: async (tokens) => {
      const started = now()
      let firstChunkMs = -1
      let chunks = 0
      const stream = await client.chat.completions.create(
        { model: "glm-4-6", messages, max_tokens: 16, stream: true },
        { headers: { "x-simulator-tokens": String(tokens) } }
      )
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) {
          if (firstChunkMs < 0) firstChunkMs = now() - started
          chunks++
        }
      }
      return { chunks, firstChunkMs }
    },
    // The cheapest way the package offers: its stream, the deltas joined by hand.
    whole: async () => {
      let text = ""
      for await (const chunk of await client.chat.completions.create({
        model: "glm-4-6",
        messages,
        max_tokens: 16,
        stream: true
      })) {
        text += chunk.choices[0]?.delta?.content ?? ""
      }
      return text
    },
    close: async () => {}
  }
}

export const all = [raw, effectNode, effectFetch, facade, openaiPackage]
