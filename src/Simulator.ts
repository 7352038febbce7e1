/**
 * A local NovelAI `/oa/v1` simulator: a real HTTP server on loopback that follows the wire
 * behaviour of the real API (bearer auth, models, completions, chat, SSE streaming, token count,
 * 400/404/429 errors, a per-key generation lock) and can inject faults. Use it to run the client,
 * the examples and your own tests with no key and no network.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { ChatCompletionParams } from "./ChatCompletions.js"
import { CompletionParams } from "./Completions.js"
import { describeIssues } from "./internal/decode.js"
import * as NovelAIClient from "./NovelAIClient.js"
import { TokenCountParams } from "./TokenCount.js"

/**
 * A fault injected into one request. Chosen per request with the `x-simulator-fault` header
 * (`kind` or `kind;key=value;...`, e.g. `reset;after=3`) or queued with {@link Simulator.enqueueFault}.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  /** Destroy the socket after `after` chunks (default 2): a connection reset mid-stream. */
  | { readonly kind: "reset"; readonly after?: number }
  /** Send a malformed JSON data frame after `after` chunks. */
  | { readonly kind: "malformed"; readonly after?: number }
  /** Send an `event: error` frame inside the 200 stream after `after` chunks. */
  | { readonly kind: "error-frame"; readonly after?: number; readonly message?: string }
  /** End the response cleanly after `after` chunks, before any finish_reason and `[DONE]`. */
  | { readonly kind: "cut"; readonly after?: number }
  /** Send nothing for `ms` before the response headers. */
  | { readonly kind: "stall-headers"; readonly ms: number }
  /** Send nothing for `ms` after `after` chunks (default 1), then go on. */
  | { readonly kind: "stall"; readonly ms: number; readonly after?: number }
  /** Answer with a 5xx (`status`, default 500) and a `{ statusCode, message }` body. */
  | { readonly kind: "server-error"; readonly status?: number }
  /** Answer 429, with `Retry-After` seconds and/or `retry-after-ms` when given. */
  | { readonly kind: "rate-limit"; readonly retryAfterSeconds?: number; readonly retryAfterMs?: number }
  /** Answer status 200 with an `{ "error": ... }` body. */
  | { readonly kind: "error-200" }
  /** Write the SSE body with CRLF line endings, cut at random byte offsets (seeded by `seed`). */
  | { readonly kind: "random-chunks"; readonly seed?: number }

/**
 * What the simulator saw of one request, and how it ended.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  /** The parsed JSON body, or the raw text when it was not JSON. */
  readonly body: unknown
  readonly receivedAt: number
  /** Which TCP connection carried it: 1 for the first the simulator accepted, and so on. */
  readonly connection: number
  /** The status sent, once headers went out. */
  status: number | undefined
  /** True when the client closed the connection before the response finished. */
  clientClosedEarly: boolean
  /** When the connection closed or the response finished (ms since epoch, `performance.timeOrigin` based). */
  closedAt: number | undefined
  /** The fault applied, if any. */
  fault: Fault | undefined
}

/**
 * Simulator options.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number | undefined
  /** Accepted API keys; default `["pst-simulator"]`. Others get 401. */
  readonly apiKeys?: ReadonlyArray<string> | undefined
  /** Delay between streamed chunks (and per token for non-streaming calls), ms; default 0. */
  readonly chunkDelayMs?: number | undefined
  /** Generations one key may run at once before 429 "concurrent generation is locked"; default 1. */
  readonly concurrencyLimit?: number | undefined
  /** Model ids served; default `["glm-4-5", "glm-4-6"]`. */
  readonly models?: ReadonlyArray<string> | undefined
  /** Idle keep-alive time for connections, ms; default 5000. */
  readonly keepAliveTimeoutMs?: number | undefined
}

/**
 * A running simulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Simulator {
  /** `http://127.0.0.1:<port>`: use it as the client's `baseUrl`. */
  readonly url: string
  /** An accepted API key. */
  readonly apiKey: string
  /** Every request received, in order. */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** Connections currently open. */
  readonly openConnections: () => number
  /** Generations currently holding a key's lock. */
  readonly activeGenerations: () => number
  /** Queues a fault for the next request (optionally only the next one to `path`). */
  readonly enqueueFault: (fault: Fault, path?: string) => void
  /** Forgets recorded requests and queued faults. */
  readonly reset: () => void
  /** Stops listening and closes every connection. */
  readonly close: () => Promise<void>
}

const SENTENCES = [
  "Once upon a time, a small fox lived at the edge of a quiet forest.",
  "Every evening she climbed the hill to watch the lanterns of the village.",
  "The river carried old songs down from the mountains.",
  "One night a letter arrived, sealed with silver wax.",
  "Nobody in the village could read the strange handwriting.",
  "The fox set out at dawn, following the road toward the sea.",
  "Along the way she met a heron who knew every story of the coast.",
  "Together they crossed the bridge as the morning fog lifted.",
  "At the harbour an old sailor smiled and opened the letter.",
  "It was an invitation to a festival of light beyond the hills.",
  "The wind turned warm, and the bells began to ring.",
  "And so the journey, like all good journeys, began with a single step."
].map((sentence) => sentence.split(" ").map((word) => ` ${word}`))

/** A small deterministic PRNG (FNV-1a seed, xorshift steps). */
const hash = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

const nextRandom = (state: { s: number }) => {
  let x = state.s || 0x9e3779b9
  x ^= x << 13
  x ^= x >>> 17
  x ^= x << 5
  state.s = x >>> 0
  return state.s / 4294967296
}

/** The simulator's own tokenizer: words and punctuation. */
const countTokens = (text: string): number => text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)?.length ?? 0

interface Generation {
  /** The tokens in order (a word with its leading space). */
  readonly tokens: () => Iterator<string>
  readonly length: number
  readonly finishReason: "stop" | "length"
}

const generate = (
  input: string,
  seed: number | undefined,
  maxTokens: number | undefined,
  stop: unknown,
  forced?: number
): Generation => {
  const start = hash(`${input}\u0000${seed ?? 0}`)
  const tokens = function* () {
    const state = { s: start }
    let sentence = Math.floor(nextRandom(state) * SENTENCES.length)
    while (true) {
      yield* SENTENCES[sentence]!
      sentence = (sentence + 1 + Math.floor(nextRandom(state) * 3)) % SENTENCES.length
    }
  }
  const natural = forced ?? 24 + (start % 400)
  const limit = maxTokens ?? 64
  let length = forced ?? Math.min(natural, limit)
  let finishReason: "stop" | "length" = forced !== undefined || natural <= limit ? "stop" : "length"
  const stops = (typeof stop === "string" ? [stop] : Array.isArray(stop) ? stop : []).filter(
    (s): s is string => typeof s === "string" && s !== ""
  )
  if (stops.length > 0 && forced === undefined) {
    let text = ""
    const it = tokens()
    for (let i = 0; i < length; i++) {
      text += it.next().value
      if (stops.some((s) => text.includes(s))) {
        length = i
        finishReason = "stop"
        break
      }
    }
  }
  return { tokens, length, finishReason }
}

const parseFaultHeader = (value: string | undefined): Fault | undefined => {
  if (value === undefined || value === "") return undefined
  const [kind, ...pairs] = value.split(";").map((s) => s.trim())
  const params: Record<string, number> = {}
  for (const pair of pairs) {
    const [k, v] = pair.split("=")
    if (k && v !== undefined && Number.isFinite(Number(v))) params[k] = Number(v)
  }
  return { kind, ...params } as Fault
}

/** Waits until the response can take more, or is closed; leaves no listener behind. */
const drained = (res: Http.ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done)
      res.off("close", done)
      resolve()
    }
    res.on("drain", done)
    res.on("close", done)
  })

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Starts a simulator on 127.0.0.1.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { startSimulator } from "effect-novelai/testing"
 *
 * const sim = await startSimulator()
 * // new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url }) ...
 * await sim.close()
 * ```
 */
export const startSimulator = async (options: SimulatorOptions = {}): Promise<Simulator> => {
  const apiKeys = new Set(options.apiKeys ?? ["pst-simulator"])
  const models = options.models ?? ["glm-4-5", "glm-4-6"]
  const chunkDelay = options.chunkDelayMs ?? 0
  const limit = options.concurrencyLimit ?? 1
  const requests: Array<RecordedRequest> = []
  const faults: Array<{ fault: Fault; path: string | undefined }> = []
  const sockets = new Set<Socket>()
  const connectionOf = new WeakMap<Socket, number>()
  const locks = new Map<string, number>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let created = 1_700_000_000
  let accepted = 0
  let counter = 0

  const releaseLater = (key: string, ms: number) => {
    if (ms <= 0) return release(key)
    const timer = setTimeout(() => {
      timers.delete(timer)
      release(key)
    }, ms)
    timers.add(timer)
  }
  const release = (key: string) => {
    const n = (locks.get(key) ?? 1) - 1
    if (n <= 0) locks.delete(key)
    else locks.set(key, n)
  }

  const send = (
    res: Http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {}
  ) => {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      ...headers
    })
    res.end(text)
  }
  const fail = (
    res: Http.ServerResponse,
    status: number,
    message: string,
    headers?: Record<string, string>
  ) => send(res, status, { statusCode: status, message }, headers)

  const takeFault = (req: Http.IncomingMessage, path: string): Fault | undefined => {
    const header = parseFaultHeader(req.headers["x-simulator-fault"] as string | undefined)
    if (header !== undefined) return header
    const i = faults.findIndex((f) => f.path === undefined || f.path === path)
    return i === -1 ? undefined : faults.splice(i, 1)[0]!.fault
  }

  const handle = async (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const chunks: Array<Buffer> = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks).toString("utf8")
    let body: unknown = raw === "" ? undefined : raw
    let badJson = false
    if (raw !== "") {
      try {
        body = JSON.parse(raw)
      } catch {
        badJson = true
      }
    }
    const path = (req.url ?? "/").split("?")[0]!
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      headers: { ...req.headers },
      body,
      receivedAt: performance.timeOrigin + performance.now(),
      connection: connectionOf.get(req.socket) ?? 0,
      status: undefined,
      clientClosedEarly: false,
      closedAt: undefined,
      fault: undefined
    }
    requests.push(record)
    res.on("close", () => {
      record.closedAt = performance.timeOrigin + performance.now()
      record.clientClosedEarly = !res.writableFinished
    })
    const writeHead = res.writeHead.bind(res)
    res.writeHead = ((status: number, ...rest: Array<any>) => {
      record.status = status
      return writeHead(status, ...rest)
    }) as typeof res.writeHead

    const auth = req.headers.authorization
    const key = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined
    if (key === undefined || !apiKeys.has(key))
      return fail(res, 401, "Unauthorized: missing or invalid access key")

    const fault = takeFault(req, path)
    record.fault = fault
    if (fault?.kind === "stall-headers") await sleep(fault.ms)
    if (res.destroyed) return
    if (fault?.kind === "server-error")
      return fail(res, fault.status ?? 500, "Internal server error (simulated)")
    if (fault?.kind === "rate-limit") {
      const headers: Record<string, string> = {}
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds)
      if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs)
      return fail(res, 429, "Too many requests (simulated)", headers)
    }
    if (fault?.kind === "error-200") {
      return send(res, 200, {
        error: { message: "The model failed to respond (simulated)", type: "server_error" }
      })
    }

    if (req.method === "GET" && path === "/oa/v1/models") {
      return send(res, 200, {
        object: "list",
        data: models.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "novelai" }))
      })
    }
    const route =
      path === "/oa/v1/completions"
        ? "completion"
        : path === "/oa/v1/chat/completions"
          ? "chat"
          : path === "/oa/v1/internal/token-count"
            ? "tokens"
            : undefined
    if (route === undefined || req.method !== "POST") return fail(res, 404, `Cannot ${req.method} ${path}`)
    if (badJson) return fail(res, 400, "Invalid JSON body")
    const schema =
      route === "chat" ? ChatCompletionParams : route === "completion" ? CompletionParams : TokenCountParams
    const decoded = Schema.decodeUnknownEither(schema as Schema.Schema<any, any>)(body, { errors: "first" })
    if (Either.isLeft(decoded)) {
      const [issue] = describeIssues(decoded.left, 1)
      return fail(res, 400, `${issue?.field || "body"}: ${issue?.message ?? "invalid"}`)
    }
    const params = decoded.right as Record<string, any>
    if (typeof params.model !== "string") return fail(res, 400, "model: is required")
    if (route === "tokens") {
      const n = countTokens(params.prompt)
      return send(res, 200, { length: n, encoded: Array.from({ length: n }, (_, i) => i + 1) })
    }
    if (!models.includes(params.model)) return fail(res, 404, `Model not found: ${params.model}`)

    const active = locks.get(key) ?? 0
    if (active >= limit) return fail(res, 429, "concurrent generation is locked")
    locks.set(key, active + 1)

    const input =
      route === "chat"
        ? (params.messages as Array<{ content: string }>).map((m) => m.content).join("\n")
        : (params.prompt as string)
    const forcedHeader = Number(req.headers["x-simulator-tokens"])
    const forced = Number.isInteger(forcedHeader) && forcedHeader > 0 ? forcedHeader : undefined
    const n = route === "completion" ? (params.n ?? 1) : 1
    const generations = Array.from({ length: n }, (_, i) =>
      generate(input, (params.seed ?? 0) + i, params.maxTokens, params.stop, forced)
    )
    const promptTokens = countTokens(input)
    const id = `${route === "chat" ? "chatcmpl" : "cmpl"}-sim-${++counter}`
    const stamp = created++
    const usage = (completion: number) => ({
      prompt_tokens: promptTokens,
      completion_tokens: completion,
      total_tokens: promptTokens + completion
    })
    const totalTokens = generations.reduce((sum, g) => sum + g.length, 0)
    const generationMs = Math.max(...generations.map((g) => g.length)) * chunkDelay

    if ((body as { stream?: unknown }).stream !== true) {
      if (generationMs > 0) await sleep(generationMs)
      release(key)
      if (res.destroyed) return
      const texts = generations.map((g) => {
        const it = g.tokens()
        return Array.from({ length: g.length }, () => it.next().value).join("")
      })
      return send(
        res,
        200,
        route === "chat"
          ? {
              id,
              object: "chat.completion",
              created: stamp,
              model: params.model,
              choices: [
                {
                  index: 0,
                  message: { role: "assistant", content: texts[0] },
                  finish_reason: generations[0]!.finishReason
                }
              ],
              usage: usage(totalTokens)
            }
          : {
              id,
              object: "text_completion",
              created: stamp,
              model: params.model,
              choices: texts.map((text, index) => ({
                text,
                index,
                finish_reason: generations[index]!.finishReason,
                logprobs: null
              })),
              usage: usage(totalTokens)
            }
      )
    }

    // Streaming: chunks are produced lazily and written with backpressure.
    const started = performance.now()
    const crlf = fault?.kind === "random-chunks"
    const eol = crlf ? "\r\n" : "\n"
    const random = { s: (fault?.kind === "random-chunks" ? (fault.seed ?? 1) : 1) >>> 0 }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive"
    })
    res.socket?.setNoDelay(true)
    const write = async (text: string) => {
      if (res.destroyed) return
      if (!crlf) {
        if (!res.write(text)) await drained(res)
        return
      }
      // Random byte cuts, yielding between them so they reach the socket as separate writes.
      const bytes = Buffer.from(text, "utf8")
      for (let at = 0; at < bytes.length && !res.destroyed; ) {
        const size = 1 + Math.floor(nextRandom(random) * 15)
        res.write(bytes.subarray(at, at + size))
        at += size
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    }
    const frame = (data: unknown) =>
      `data: ${typeof data === "string" ? data : JSON.stringify(data)}${eol}${eol}`
    const chunkOf = (index: number, text: string, finish: string | null, withUsage?: number) =>
      route === "chat"
        ? {
            id,
            object: "chat.completion.chunk",
            created: stamp,
            model: params.model,
            choices: [{ index, delta: text === "" ? {} : { content: text }, finish_reason: finish }],
            ...(withUsage !== undefined ? { usage: usage(withUsage) } : {})
          }
        : {
            id,
            object: "text_completion",
            created: stamp,
            model: params.model,
            choices: [{ index, text, finish_reason: finish, logprobs: null }],
            ...(withUsage !== undefined ? { usage: usage(withUsage) } : {})
          }
    const after =
      fault !== undefined && "after" in fault && fault.after !== undefined
        ? fault.after
        : fault?.kind === "stall"
          ? 1
          : 2
    let sent = 0
    let finished = false
    try {
      if (route === "chat") {
        await write(
          frame({
            id,
            object: "chat.completion.chunk",
            created: stamp,
            model: params.model,
            choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]
          })
        )
      }
      const longest = Math.max(...generations.map((g) => g.length))
      const iterators = generations.map((g) => g.tokens())
      for (let i = 0; i < longest && !res.destroyed; i++) {
        for (let c = 0; c < generations.length; c++) {
          const g = generations[c]!
          if (i >= g.length) continue
          if (fault !== undefined && sent === after) {
            if (fault.kind === "reset") {
              res.socket?.resetAndDestroy()
              return
            }
            if (fault.kind === "malformed")
              await write(`data: {"id":"${id}","choices":[{"delta":{"content":${eol}${eol}`)
            if (fault.kind === "error-frame") {
              await write(
                `event: error${eol}data: ${JSON.stringify({ message: fault.message ?? "generation failed (simulated)" })}${eol}${eol}`
              )
              res.end()
              return
            }
            if (fault.kind === "cut") {
              res.end()
              return
            }
            if (fault.kind === "stall") await sleep(fault.ms)
          }
          await write(frame(chunkOf(c, iterators[c]!.next().value as string, null)))
          sent++
        }
        if (chunkDelay > 0) await sleep(chunkDelay)
      }
      for (let c = 0; c < generations.length; c++) {
        await write(
          frame(
            chunkOf(
              c,
              "",
              generations[c]!.finishReason,
              c === generations.length - 1 ? totalTokens : undefined
            )
          )
        )
      }
      await write(frame("[DONE]"))
      finished = !res.destroyed
      res.end()
    } finally {
      // An abandoned generation keeps its lock until it would have finished, as NovelAI's does.
      const elapsed = performance.now() - started
      releaseLater(key, finished ? 0 : Math.max(0, generationMs - elapsed))
    }
  }

  const server = Http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) fail(res, 500, "simulator failure")
      else res.destroy()
    })
  })
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5000
  server.on("connection", (socket) => {
    sockets.add(socket)
    connectionOf.set(socket, ++accepted)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey: [...apiKeys][0] ?? "pst-simulator",
    requests,
    openConnections: () => sockets.size,
    activeGenerations: () => [...locks.values()].reduce((a, b) => a + b, 0),
    enqueueFault: (fault, path) => {
      faults.push({ fault, path })
    },
    reset: () => {
      requests.length = 0
      faults.length = 0
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      await Promise.all(
        [...sockets].map(
          (socket) =>
            new Promise<void>((resolve) => {
              socket.once("close", () => resolve())
              socket.destroy()
            })
        )
      )
      await closed
    }
  }
}

/**
 * The simulator as an Effect service, for tests written with layers.
 *
 * @since 0.1.0
 * @category tags
 */
export class NovelAISimulator extends Context.Tag("effect-novelai/NovelAISimulator")<
  NovelAISimulator,
  Simulator
>() {}

/**
 * Starts a simulator for the layer's scope and closes it (and every connection) when the scope ends.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: SimulatorOptions): Layer.Layer<NovelAISimulator> =>
  Layer.scoped(
    NovelAISimulator,
    Effect.acquireRelease(
      Effect.promise(() => startSimulator(options)),
      (sim) => Effect.promise(() => sim.close())
    )
  )

/**
 * A simulator plus a {@link NovelAIClient.NovelAIClient} pointed at it, on the `HttpClient` you provide.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { layerClient } from "effect-novelai/testing"
 *
 * const TestLive = layerClient({ chunkDelayMs: 5 }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 */
export const layerClient = (
  options?: SimulatorOptions & Omit<NovelAIClient.Options, "apiKey" | "baseUrl">
): Layer.Layer<NovelAISimulator | NovelAIClient.NovelAIClient, never, HttpClient.HttpClient> =>
  Layer.scoped(
    NovelAIClient.NovelAIClient,
    Effect.flatMap(NovelAISimulator, (sim) =>
      Effect.orDie(NovelAIClient.make({ ...options, apiKey: sim.apiKey, baseUrl: sim.url }))
    )
  ).pipe(Layer.provideMerge(layer(options)))
