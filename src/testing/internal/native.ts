/**
 * The simulator's native text API: `POST /ai/generate` (`{ output }`) and `/ai/generate-stream`
 * (`event: newToken` frames, the last token `final: true`), with NovelAI's tier caps on
 * `max_length` and on the context as 400s, a GLM model refused with 403, and the key's generation
 * lock shared with `/oa/v1`. Parameters are checked with the client's own schema; Erato's stop
 * sequences (token ids) are read back to text with Llama 3's tokenizer, loaded only when a request
 * has such stop sequences, and end the text after them.
 */

import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { loadLlama3 } from "#llama3"
import { describeIssues } from "../../internal/core/decode.js"
import { TextGenerateParams } from "../../TextGeneration.js"
import type { Exchange, Routes } from "./exchange.js"
import { actOnStreamFault, faultAfter, isStreamFault, lingerMs } from "./faults.js"
import { hold } from "./lock.js"
import type { Tier } from "./quirks.js"
import { sendJson } from "./reply.js"
import { openEventStream } from "./sse.js"
import { countTokens, generate, hash } from "./text.js"

/** `max_length` NovelAI allows by tier. */
const MAX_LENGTH: Readonly<Record<Tier, number>> = { free: 150, tablet: 150, scroll: 150, opus: 250 }
/** Context tokens NovelAI allows by tier. */
const CONTEXT: Readonly<Record<Tier, number>> = { free: 4096, tablet: 4096, scroll: 8192, opus: 8192 }

type Decoder = { readonly decode: (ids: ReadonlyArray<number>) => string }
let llama3: Promise<Decoder | undefined> | undefined

/**
 * Llama 3's decoder, loaded on the first request that needs it, when the optional package is there
 * (else token-id stop sequences are not honoured).
 */
const erato = (): Promise<Decoder | undefined> => {
  llama3 ??= Promise.resolve(loadLlama3?.())
    .then((module) => (module as { default?: Decoder } | undefined)?.default)
    .catch(() => undefined)
  return llama3
}

const tokenId = (token: string) => hash(token) % 128_000

/** Bytes per token id on the wire without `use_string`: Llama 3's ids need 4, nerdstash's 2. */
const idWidth = (model: string): 2 | 4 => (model.startsWith("llama-3") ? 4 : 2)

/** The token ids of a base64 input, or null when it is not whole ids of that width. */
const tokenIdsOf = (input: string, width: 2 | 4): ReadonlyArray<number> | null => {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input)) return null
  const bytes = Buffer.from(input, "base64")
  if (bytes.length % width !== 0) return null
  return Array.from({ length: bytes.length / width }, (_, i) =>
    width === 4 ? bytes.readUInt32LE(i * width) : bytes.readUInt16LE(i * width)
  )
}

/** Tokens as base64 of their (simulated) ids. */
const base64Of = (tokens: ReadonlyArray<string>, width: 2 | 4): string => {
  const bytes = Buffer.alloc(tokens.length * width)
  tokens.forEach((token, i) => {
    if (width === 4) bytes.writeUInt32LE(tokenId(token), i * width)
    else bytes.writeUInt16LE(tokenId(token) % 65_536, i * width)
  })
  return bytes.toString("base64")
}
const logprobOf = (token: string) => -(hash(`lp${token}`) % 4000) / 1000

/** NovelAI's logprobs of one token: the chosen one, and the most likely before and after sampling. */
const logprobs = (token: string, n: number) => {
  const entry = (t: string) => [[tokenId(t)], [logprobOf(t), logprobOf(t)]]
  const alternatives = Array.from({ length: n }, (_, i) => entry(`${token}${i}`))
  return { chosen: [entry(token)], before: alternatives, after: alternatives }
}

export const handleNative = async (routes: Routes, ex: Exchange, stream: boolean): Promise<void> => {
  const { res } = ex
  if (ex.method !== "POST") return ex.fail(404, `Cannot ${ex.method} ${ex.path}`)
  if (ex.badJson) return ex.fail(400, "Invalid JSON body")
  const body = ex.body as
    | { input?: unknown; model?: unknown; prefix?: unknown; parameters?: unknown }
    | undefined
  const parameters = body?.parameters
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) {
    return ex.fail(400, "parameters: must be an object")
  }
  // Text in and out unless `use_string: false` (text.novelai.net's default is text): then both are
  // base64 of little-endian token ids, 4 bytes each for Llama 3 models, 2 for nerdstash ones.
  const useString = (parameters as { use_string?: unknown }).use_string
  if (useString !== undefined && typeof useString !== "boolean") {
    return ex.fail(400, "parameters.use_string: must be a boolean")
  }
  const decoded = Schema.decodeUnknownEither(TextGenerateParams)(
    { ...parameters, input: body?.input, model: body?.model, prefix: body?.prefix },
    { errors: "first" }
  )
  if (Either.isLeft(decoded)) {
    const [issue] = describeIssues(decoded.left, 1)
    return ex.fail(400, `${issue?.field || "body"}: ${issue?.message ?? "invalid"}`)
  }
  const params = decoded.right
  const model = params.model
  if (typeof model !== "string") return ex.fail(400, "model: is required")
  if (routes.models.includes(model))
    return ex.fail(403, `The model ${model} is not available on this endpoint`)
  if (!routes.textModels.includes(model)) return ex.fail(404, `Model not found: ${model}`)
  if (ex.tier === "free") return ex.fail(402, "An active subscription is required to access this endpoint")
  const ids = useString === false ? tokenIdsOf(params.input, idWidth(model)) : undefined
  if (ids === null) {
    return ex.fail(400, `input: must be base64 of ${idWidth(model)}-byte token ids when use_string is false`)
  }
  const input = ids === undefined ? params.input : ids.join(" ")
  const maxLength = params.maxLength ?? 40
  if (maxLength > MAX_LENGTH[ex.tier]) {
    return ex.fail(400, `max_length: must be at most ${MAX_LENGTH[ex.tier]} for your subscription tier`)
  }
  const contextTokens = ids?.length ?? countTokens(input)
  if (contextTokens > CONTEXT[ex.tier]) {
    return ex.fail(
      400,
      `input: the context is ${contextTokens} tokens, more than the ${CONTEXT[ex.tier]} your subscription tier allows`
    )
  }
  if (!routes.locks.acquire(ex.key)) return ex.fail(429, "concurrent generation is locked")
  // Freed once whatever happens from here, a failed tokenizer load included.
  const lock = hold(routes.locks, ex.key, res, routes.quirks.lockOutlivesCancel)
  const release = lock.release

  // The text: the simulator's story, cut after the first stop sequence (once `min_length` tokens are out).
  const forcedHeader = Number(ex.req.headers["x-simulator-tokens"])
  const forced = Number.isInteger(forcedHeader) && forcedHeader > 0 ? forcedHeader : undefined
  const generation = generate({ input, seed: 0, maxTokens: maxLength, stop: undefined, forced })
  // Only token-id stop sequences need Erato's tokenizer: 3 MB that take seconds to load and block the
  // process meanwhile (a client sharing it would time out), so only a request that has them loads it.
  const decoder =
    model === "llama-3-erato-v1" && (params.stopSequences ?? []).some((s) => typeof s !== "string")
      ? await erato()
      : undefined
  const stops = (params.stopSequences ?? [])
    .map((s) => (typeof s === "string" ? s : decoder?.decode(s)))
    .filter((s): s is string => s !== undefined && s !== "")
  const tokens: Array<string> = []
  const it = generation.tokens()
  let text = ""
  for (let i = 0; i < generation.length; i++) {
    const token = it.next().value as string
    tokens.push(token)
    text += token
    if (i + 1 >= (params.minLength ?? 1) && stops.some((s) => text.includes(s))) break
  }
  const numLogprobs = params.numLogprobs

  lock.duration = tokens.length * routes.chunkDelayMs

  if (!stream) {
    if (lock.duration > 0) await routes.timers.sleep(lock.duration)
    release(true)
    if (res.destroyed) return
    return sendJson(res, 200, {
      output: ids === undefined ? tokens.join("") : base64Of(tokens, idWidth(model)),
      ...(numLogprobs !== undefined ? { logprobs: tokens.map((t) => logprobs(t, numLogprobs)) } : {})
    })
  }

  const fault = ex.fault
  const sse = openEventStream(res, fault, ex.record)
  const streamFault = isStreamFault(fault) ? fault : undefined
  const after = streamFault === undefined ? -1 : faultAfter(streamFault)
  let finished = false
  try {
    for (let ptr = 0; ptr < tokens.length && !res.destroyed; ptr++) {
      if (streamFault !== undefined && ptr === after) {
        const goOn = await actOnStreamFault(streamFault, {
          res,
          sleep: routes.timers.sleep,
          malformed: () => sse.raw(`event: newToken${sse.eol}data: {"token":${sse.eol}${sse.eol}`),
          errorFrame: (message) => sse.event("newToken", { error: message })
        })
        if (!goOn) return
      }
      const token = tokens[ptr]!
      ex.record.chunks++
      await sse.event("newToken", {
        token: ids === undefined ? token : base64Of([token], idWidth(model)),
        ptr,
        final: ptr === tokens.length - 1,
        ...(numLogprobs !== undefined ? { logprobs: logprobs(token, numLogprobs) } : {})
      })
      if (routes.chunkDelayMs > 0 && ptr < tokens.length - 1) await routes.timers.sleep(routes.chunkDelayMs)
    }
    finished = !res.destroyed
    if (lingerMs(ex.fault) > 0) {
      // The generation is over: its lock is free while the body lingers.
      release(finished)
      await routes.timers.sleep(lingerMs(ex.fault))
    }
    res.end()
  } finally {
    release(finished)
  }
}
