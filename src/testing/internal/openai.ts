/**
 * The simulator's `/oa/v1` endpoints, after authentication and the faults that replace an answer:
 * models, token count, completions and chat, whole or streamed. Parameters are checked with the client's
 * own request schemas, so the simulator refuses what NovelAI refuses; what NovelAI does that a
 * well-behaved server would not is done as the quirks say (see `quirks.ts`).
 */

import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { ChatCompletionParams } from "../../ChatCompletions.js"
import { CompletionParams } from "../../Completions.js"
import { describeIssues } from "../../internal/core/decode.js"
import { TokenCountParams } from "../../TokenCount.js"
import type { Exchange, Routes } from "./exchange.js"
import { actOnStreamFault, faultAfter, isStreamFault, lingerMs } from "./faults.js"
import { findSchema, jsonReply } from "./json.js"
import { hold } from "./lock.js"
import { OPUS_ONLY } from "./quirks.js"
import { sendJson } from "./reply.js"
import { openEventStream } from "./sse.js"
import { countTokens, type Generation, generate, hash, type Lead, leaksThinking } from "./text.js"

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

/** GLM's end-of-text token id, NovelAI's `matched_stop` when the model stopped by itself. */
const EOS_TOKEN = 151336

const isTextPart = (part: unknown): part is { type: "text"; text: string } =>
  typeof part === "object" &&
  part !== null &&
  (part as { type?: unknown }).type === "text" &&
  typeof (part as { text?: unknown }).text === "string"

/**
 * Array content, as NovelAI answers it (refused, in Go's words) or as a well-behaved server would
 * (text parts joined). The body to go on with, or undefined when an error was sent.
 */
const contentParts = (routes: Routes, ex: Exchange): unknown => {
  const body = ex.body as { messages?: unknown }
  if (!Array.isArray(body?.messages)) return ex.body
  if (!body.messages.some((m) => Array.isArray((m as { content?: unknown })?.content))) return ex.body
  if (routes.quirks.stringContentOnly) {
    ex.fail(
      400,
      "json: cannot unmarshal array into Go struct field ChatCompletionMessage.messages.content of type string"
    )
    return undefined
  }
  const messages: Array<unknown> = []
  for (const [i, message] of body.messages.entries()) {
    const content = (message as { content?: unknown })?.content
    if (!Array.isArray(content)) {
      messages.push(message)
      continue
    }
    const at = content.findIndex((part) => !isTextPart(part))
    if (at !== -1) {
      ex.fail(400, `messages.${i}.content.${at}: only text parts are supported`)
      return undefined
    }
    messages.push({ ...(message as object), content: content.map((part) => part.text).join("\n") })
  }
  return { ...body, messages }
}

export const handleOpenAI = async (routes: Routes, ex: Exchange): Promise<void> => {
  const { res } = ex
  if (ex.method === "GET" && ex.path === "/oa/v1/models") {
    const models = routes.models.filter((id) => ex.tier === "opus" || !OPUS_ONLY.has(id))
    return sendJson(res, 200, {
      object: "list",
      data: models.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "novelai" }))
    })
  }
  const route = ROUTES[ex.path]
  if (route === undefined || ex.method !== "POST") return ex.fail(404, `Cannot ${ex.method} ${ex.path}`)
  if (ex.badJson) return ex.fail(400, "Invalid JSON body")
  const body = route === "chat" ? contentParts(routes, ex) : ex.body
  if (body === undefined && ex.body !== undefined) return
  const decoded = Schema.decodeUnknownEither(SCHEMAS[route] as Schema.Schema<any, any>)(body, {
    errors: "first"
  })
  if (Either.isLeft(decoded)) {
    const [issue] = describeIssues(decoded.left, 1)
    return ex.fail(400, `${issue?.field || "body"}: ${issue?.message ?? "invalid"}`)
  }
  const params = decoded.right as Record<string, any>
  if (typeof params.model !== "string") return ex.fail(400, "model: is required")
  if (route === "tokens") {
    const n = countTokens(params.prompt)
    return sendJson(res, 200, { length: n, encoded: Array.from({ length: n }, (_, i) => i + 1) })
  }
  if (!routes.models.includes(params.model)) return ex.fail(404, `Model not found: ${params.model}`)
  if (ex.tier === "free") return ex.fail(402, "An active subscription is required to access this endpoint")
  if (OPUS_ONLY.has(params.model) && ex.tier !== "opus") {
    return ex.fail(409, `The model ${params.model} is not available with your subscription tier`)
  }
  if (!routes.locks.acquire(ex.key)) return ex.fail(429, "concurrent generation is locked")
  return generation(routes, ex, route, params)
}

/** One token of a reply as sent: answer text, thinking apart, or nothing (a tag sent apart). */
interface Piece {
  readonly token: string
  readonly content?: string
  readonly reasoning?: string
}

/**
 * A generation's tokens as they are sent: inline, every token in the content (thinking tags and
 * all, as GLM writes them); or with the thinking apart in `reasoning_content`, its tags dropped and
 * the answer's leading space with them.
 */
const piecesOf = function* (
  generation: Generation,
  inline: boolean,
  chat: boolean
): Generator<Piece | undefined> {
  const it = generation.tokens()
  for (let i = 0; i < generation.length; i++) {
    const token = it.next().value as string
    if (inline || i >= generation.thinkingTokens) {
      // A chat's answer starts without a space (a completion continues its prompt, space and all);
      // after inline thinking, on a new line, as GLM writes it.
      const first = i === generation.thinkingTokens && (chat || (!inline && i > 0))
      const after = inline && i > 0 ? "\n" : ""
      yield { token, content: first ? after + token.trimStart() : token }
    } else if (token === "<think>" || token === "</think>") {
      yield undefined
    } else {
      yield { token, reasoning: token }
    }
  }
}

const tokenId = (token: string) => hash(token) % 150_000
const logprobOf = (token: string) => -(hash(`lp${token}`) % 4000) / 1000

/** A completion or chat, whole or streamed, holding the key's lock while it runs. */
const generation = async (
  routes: Routes,
  ex: Exchange,
  route: "completion" | "chat",
  params: Record<string, any>
) => {
  const { req, res, fault } = ex
  const { quirks } = routes
  const lock = hold(routes.locks, ex.key, res, quirks.lockOutlivesCancel)
  const release = lock.release
  const input =
    route === "chat"
      ? (params.messages as Array<{ content: string }>).map((m) => m.content).join("\n")
      : (params.prompt as string)
  const forcedHeader = Number(req.headers["x-simulator-tokens"])
  const forced = Number.isInteger(forcedHeader) && forcedHeader > 0 ? forcedHeader : undefined
  const n = params.n ?? 1
  const thinkingAsked = route === "chat" && params.enableThinking === true
  const generations: ReadonlyArray<Generation> = Array.from({ length: n }, (_, i) => {
    const seed = (params.seed ?? 0) + i
    const leaks = quirks.inlineThinking && leaksThinking(input, seed)
    const lead: Lead =
      route === "chat" ? (thinkingAsked || leaks ? "thinking" : undefined) : leaks ? "stray-close" : undefined
    const schema = route === "chat" ? findSchema(input) : undefined
    const prefix = params.generationPrefix as string | undefined
    const text = schema === undefined ? undefined : jsonReply(schema, input, seed, prefix)
    return generate({
      input,
      seed,
      maxTokens: params.maxTokens,
      stop: params.stop,
      forced,
      lead,
      text,
      prefix
    })
  })
  const inline = quirks.inlineThinking
  const promptTokens = countTokens(input)
  const id = `${route === "chat" ? "chatcmpl" : "cmpl"}-sim-${routes.nextId()}`
  const created = routes.nextCreated()
  const totalTokens = generations.reduce((sum, g) => sum + g.length, 0)
  const longest = generations.reduce((most, g) => Math.max(most, g.length), 0)
  lock.duration = longest * routes.chunkDelayMs
  const usage = (completion: number) => ({
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion
  })
  const head = {
    id,
    created,
    model: params.model as string,
    ...(quirks.extraFields ? { metadata: { weight_version: "default" } } : {})
  }
  const withLogprobs = typeof params.logprobs === "number"
  /** The fields a choice ends with: NovelAI's stop fields when the quirk is on. */
  const ending = (g: Generation) => {
    if (!quirks.extraFields) return {}
    const matched = g.finishReason === "length" ? null : (g.matchedStop ?? EOS_TOKEN)
    return { matched_stop: matched, stop_reason: matched }
  }
  const logprobs = (tokens: ReadonlyArray<string>, offset: number) =>
    route === "chat"
      ? {
          content: tokens.map((token) => ({
            token,
            logprob: logprobOf(token),
            bytes: null,
            top_logprobs: []
          }))
        }
      : {
          tokens,
          token_logprobs: tokens.map(logprobOf),
          top_logprobs: tokens.map((token) => ({ [token]: logprobOf(token) })),
          text_offset: tokens.map((_, i) => offset + tokens.slice(0, i).join("").length)
        }

  if ((ex.body as { stream?: unknown }).stream !== true) {
    if (lock.duration > 0) await routes.timers.sleep(lock.duration)
    release(true)
    if (res.destroyed) return
    const replies = generations.map((g) => {
      const pieces = [...piecesOf(g, inline, route === "chat")].filter((p): p is Piece => p !== undefined)
      const content = pieces.map((p) => p.content ?? "").join("")
      const reasoning = pieces.map((p) => p.reasoning ?? "").join("")
      const tokens = pieces.map((p) => p.token)
      return { content, reasoning, tokens }
    })
    const extras = (index: number) => ({
      ...(withLogprobs ? { logprobs: logprobs(replies[index]!.tokens, 0) } : { logprobs: null }),
      ...(quirks.extraFields ? { token_ids: replies[index]!.tokens.map(tokenId) } : {}),
      ...ending(generations[index]!)
    })
    if (route === "chat" && quirks.emptyNonStreamingChat) {
      // What three independent clients report of NovelAI: a chunk's shape, and no text.
      return sendJson(res, 200, {
        ...head,
        object: "chat.completion.chunk",
        choices: replies.map((_, index) => ({
          index,
          text: "",
          token_ids: replies[index]!.tokens.map(tokenId),
          finish_reason: generations[index]!.finishReason
        })),
        usage: usage(totalTokens)
      })
    }
    return sendJson(
      res,
      200,
      route === "chat"
        ? {
            ...head,
            object: "chat.completion",
            choices: replies.map((reply, index) => ({
              index,
              message: {
                role: "assistant",
                content: reply.content,
                ...(generations[index]!.thinkingTokens > 0 && !inline
                  ? { reasoning_content: reply.reasoning }
                  : {})
              },
              finish_reason: generations[index]!.finishReason,
              ...extras(index)
            })),
            usage: usage(totalTokens)
          }
        : {
            ...head,
            object: "text_completion",
            choices: replies.map((reply, index) => ({
              text: reply.content,
              index,
              finish_reason: generations[index]!.finishReason,
              ...extras(index)
            })),
            usage: usage(totalTokens)
          }
    )
  }

  // Streaming: chunks are produced lazily and written with backpressure.
  const sse = openEventStream(res, fault, ex.record)
  const offsets = generations.map(() => 0)
  const chunk = (index: number, piece: Piece) => {
    const tokenFields = {
      ...(withLogprobs ? { logprobs: logprobs([piece.token], offsets[index]!) } : { logprobs: null }),
      ...(quirks.extraFields ? { token_ids: [tokenId(piece.token)] } : {})
    }
    offsets[index]! += piece.token.length
    return {
      ...head,
      ...(route === "chat"
        ? {
            object: "chat.completion.chunk",
            choices: [
              {
                index,
                delta:
                  piece.reasoning !== undefined
                    ? { reasoning_content: piece.reasoning }
                    : { content: piece.content },
                finish_reason: null,
                ...tokenFields
              }
            ]
          }
        : {
            object: "text_completion",
            choices: [{ index, text: piece.content, finish_reason: null, ...tokenFields }]
          })
    }
  }
  const last = (index: number, withUsage: boolean) => {
    const g = generations[index]!
    return {
      ...head,
      ...(route === "chat"
        ? {
            object: "chat.completion.chunk",
            choices: [{ index, delta: {}, finish_reason: g.finishReason, ...ending(g) }]
          }
        : {
            object: "text_completion",
            choices: [{ index, text: "", finish_reason: g.finishReason, logprobs: null, ...ending(g) }]
          }),
      ...(withUsage ? { usage: usage(totalTokens) } : {})
    }
  }
  const streamFault = isStreamFault(fault) ? fault : undefined
  const after = streamFault === undefined ? -1 : faultAfter(streamFault)
  let sent = 0
  let finished = false
  try {
    if (route === "chat") {
      for (let c = 0; c < generations.length; c++) {
        await sse.data({
          ...head,
          object: "chat.completion.chunk",
          choices: [{ index: c, delta: { role: "assistant", content: "" }, finish_reason: null }]
        })
      }
    }
    const iterators = generations.map((g) => piecesOf(g, inline, route === "chat"))
    for (let i = 0; i < longest && !res.destroyed; i++) {
      for (let c = 0; c < generations.length; c++) {
        if (i >= generations[c]!.length) continue
        if (streamFault !== undefined && sent === after) {
          const goOn = await actOnStreamFault(streamFault, {
            res,
            sleep: routes.timers.sleep,
            malformed: () =>
              sse.raw(`data: {"id":"${id}","choices":[{"delta":{"content":${sse.eol}${sse.eol}`),
            errorFrame: (message) => sse.event("error", { message })
          })
          if (!goOn) return
        }
        const piece = iterators[c]!.next().value as Piece | undefined
        if (piece !== undefined) await sse.data(chunk(c, piece))
        sent++
      }
      if (routes.chunkDelayMs > 0) await routes.timers.sleep(routes.chunkDelayMs)
    }
    for (let c = 0; c < generations.length; c++) {
      await sse.data(last(c, c === generations.length - 1))
    }
    await sse.data("[DONE]")
    finished = !res.destroyed
    if (lingerMs(fault) > 0) {
      // The generation is over: its lock is free while the body lingers.
      release(finished)
      await routes.timers.sleep(lingerMs(fault))
    }
    res.end()
  } finally {
    release(finished)
  }
}
