/**
 * The simulator's endpoints, after authentication and the faults that replace an answer: models,
 * token count, completions and chat, whole or streamed. Parameters are checked with the client's
 * own request schemas, so the simulator refuses what NovelAI refuses.
 */
import type * as Http from "node:http"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { ChatCompletionParams } from "../../ChatCompletions.js"
import { CompletionParams } from "../../Completions.js"
import { describeIssues } from "../../internal/decode.js"
import { TokenCountParams } from "../../TokenCount.js"
import { type Fault, faultAfter, isStreamFault } from "./faults.js"
import type { Locks } from "./lock.js"
import { sendError, sendJson } from "./reply.js"
import { makeSseWriter } from "./sse.js"
import { countTokens, type Generation, generate, textOf } from "./text.js"
import type { Timers } from "./timers.js"

/** What the routes share: the server's settings and state. */
export interface Routes {
  readonly models: ReadonlyArray<string>
  readonly chunkDelayMs: number
  readonly locks: Locks
  readonly timers: Timers
  /** A new response id number, and a new `created` stamp. */
  readonly nextId: () => number
  readonly nextCreated: () => number
}

/** One request, read and authenticated. */
export interface Exchange {
  readonly req: Http.IncomingMessage
  readonly res: Http.ServerResponse
  readonly method: string
  readonly path: string
  /** The parsed JSON body, or the raw text when it was not JSON. */
  readonly body: unknown
  readonly badJson: boolean
  readonly key: string
  readonly fault: Fault | undefined
  /** Where the streamed chunks are counted. */
  readonly record: { chunks: number }
}

type Route = "completion" | "chat" | "tokens"

const ROUTES: Readonly<Record<string, Route>> = {
  "/oa/v1/completions": "completion",
  "/oa/v1/chat/completions": "chat",
  "/oa/v1/internal/token-count": "tokens"
}

const SCHEMAS = {
  chat: ChatCompletionParams,
  completion: CompletionParams,
  tokens: TokenCountParams
} as const

export const handle = async (routes: Routes, ex: Exchange): Promise<void> => {
  const { res } = ex
  if (ex.method === "GET" && ex.path === "/oa/v1/models") {
    return sendJson(res, 200, {
      object: "list",
      data: routes.models.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "novelai" }))
    })
  }
  const route = ROUTES[ex.path]
  if (route === undefined || ex.method !== "POST")
    return sendError(res, 404, `Cannot ${ex.method} ${ex.path}`)
  if (ex.badJson) return sendError(res, 400, "Invalid JSON body")
  const decoded = Schema.decodeUnknownEither(SCHEMAS[route] as Schema.Schema<any, any>)(ex.body, {
    errors: "first"
  })
  if (Either.isLeft(decoded)) {
    const [issue] = describeIssues(decoded.left, 1)
    return sendError(res, 400, `${issue?.field || "body"}: ${issue?.message ?? "invalid"}`)
  }
  const params = decoded.right as Record<string, any>
  if (typeof params.model !== "string") return sendError(res, 400, "model: is required")
  if (route === "tokens") {
    const n = countTokens(params.prompt)
    return sendJson(res, 200, { length: n, encoded: Array.from({ length: n }, (_, i) => i + 1) })
  }
  if (!routes.models.includes(params.model)) return sendError(res, 404, `Model not found: ${params.model}`)
  if (!routes.locks.acquire(ex.key)) return sendError(res, 429, "concurrent generation is locked")
  return generation(routes, ex, route, params)
}

/** A completion or chat, whole or streamed, holding the key's lock while it runs. */
const generation = async (
  routes: Routes,
  ex: Exchange,
  route: "completion" | "chat",
  params: Record<string, any>
) => {
  const { req, res, fault } = ex
  const input =
    route === "chat"
      ? (params.messages as Array<{ content: string }>).map((m) => m.content).join("\n")
      : (params.prompt as string)
  const forcedHeader = Number(req.headers["x-simulator-tokens"])
  const forced = Number.isInteger(forcedHeader) && forcedHeader > 0 ? forcedHeader : undefined
  const n = route === "completion" ? (params.n ?? 1) : 1
  const generations: ReadonlyArray<Generation> = Array.from({ length: n }, (_, i) =>
    generate(input, (params.seed ?? 0) + i, params.maxTokens, params.stop, forced)
  )
  const promptTokens = countTokens(input)
  const id = `${route === "chat" ? "chatcmpl" : "cmpl"}-sim-${routes.nextId()}`
  const created = routes.nextCreated()
  const totalTokens = generations.reduce((sum, g) => sum + g.length, 0)
  const longest = Math.max(...generations.map((g) => g.length))
  const generationMs = longest * routes.chunkDelayMs
  const usage = (completion: number) => ({
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion
  })
  const head = { id, created, model: params.model as string }

  if ((ex.body as { stream?: unknown }).stream !== true) {
    if (generationMs > 0) await routes.timers.sleep(generationMs)
    routes.locks.release(ex.key)
    if (res.destroyed) return
    const texts = generations.map(textOf)
    return sendJson(
      res,
      200,
      route === "chat"
        ? {
            ...head,
            object: "chat.completion",
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
            ...head,
            object: "text_completion",
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
  const sse = makeSseWriter(
    res,
    fault?.kind === "random-chunks" ? { seed: fault.seed ?? 1 } : undefined,
    ex.record
  )
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
  res.socket?.setNoDelay(true)
  const chunk = (index: number, text: string, finish: string | null, withUsage?: number) => ({
    ...head,
    ...(route === "chat"
      ? {
          object: "chat.completion.chunk",
          choices: [{ index, delta: text === "" ? {} : { content: text }, finish_reason: finish }]
        }
      : { object: "text_completion", choices: [{ index, text, finish_reason: finish, logprobs: null }] }),
    ...(withUsage !== undefined ? { usage: usage(withUsage) } : {})
  })
  const streamFault = isStreamFault(fault) ? fault : undefined
  const after = streamFault === undefined ? -1 : faultAfter(streamFault)
  let sent = 0
  let finished = false
  try {
    if (route === "chat") {
      await sse.data({
        ...head,
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]
      })
    }
    const iterators = generations.map((g) => g.tokens())
    for (let i = 0; i < longest && !res.destroyed; i++) {
      for (let c = 0; c < generations.length; c++) {
        if (i >= generations[c]!.length) continue
        if (streamFault !== undefined && sent === after) {
          switch (streamFault.kind) {
            case "reset":
              res.socket?.resetAndDestroy()
              return
            case "malformed":
              await sse.raw(`data: {"id":"${id}","choices":[{"delta":{"content":${sse.eol}${sse.eol}`)
              break
            case "error-frame":
              await sse.event("error", { message: streamFault.message ?? "generation failed (simulated)" })
              res.end()
              return
            case "cut":
              res.end()
              return
            case "stall":
              await routes.timers.sleep(streamFault.ms)
          }
        }
        await sse.data(chunk(c, iterators[c]!.next().value as string, null))
        sent++
      }
      if (routes.chunkDelayMs > 0) await routes.timers.sleep(routes.chunkDelayMs)
    }
    for (let c = 0; c < generations.length; c++) {
      const last = c === generations.length - 1
      await sse.data(chunk(c, "", generations[c]!.finishReason, last ? totalTokens : undefined))
    }
    await sse.data("[DONE]")
    finished = !res.destroyed
    res.end()
  } finally {
    // An abandoned generation keeps its lock until it would have finished, as NovelAI's does.
    const elapsed = performance.now() - started
    routes.locks.release(ex.key, finished ? 0 : Math.max(0, generationMs - elapsed))
  }
}
