/**
 * The simulator's HTTP server: it accepts connections, reads and records each request, checks the
 * key, applies the faults that replace an answer, and hands the rest to the routes. A failure of
 * the simulator itself is loud: it is logged, answered with a 500 carrying the stack and
 * `x-should-retry: false` (so a client does not retry it away), and kept in `errors`.
 */

import * as Http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import * as Zlib from "node:zlib"
import { makeWallets } from "./account.js"
import { type Fault, makeFaults } from "./faults.js"
import { makeLocks } from "./lock.js"
import type { Quirks, Tier } from "./quirks.js"
import { sendError, sendJson } from "./reply.js"
import { handle } from "./routes.js"
import { makeTimers } from "./timers.js"

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
  /** Chunks of a streamed answer written so far (the role chunk and the closing ones included). */
  chunks: number
  /** True when the client closed the connection before the response finished. */
  clientClosedEarly: boolean
  /** When the connection closed or the response finished (ms since epoch, `performance.timeOrigin` based). */
  closedAt: number | undefined
  /** The fault applied, if any. */
  fault: Fault | undefined
}

export interface ServerOptions {
  readonly port: number
  readonly apiKeys: ReadonlyMap<string, Tier>
  /** Keys whose Anlas balance does not start at their tier's allowance. */
  readonly anlas: ReadonlyMap<string, number>
  readonly models: ReadonlyArray<string>
  readonly textModels: ReadonlyArray<string>
  readonly quirks: Quirks
  readonly chunkDelayMs: number
  readonly concurrencyLimit: number
  readonly keepAliveTimeoutMs: number
}

const now = () => performance.timeOrigin + performance.now()

const readBody = async (req: Http.IncomingMessage): Promise<{ body: unknown; badJson: boolean }> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks).toString("utf8")
  if (raw === "") return { body: undefined, badJson: false }
  try {
    return { body: JSON.parse(raw), badJson: false }
  } catch {
    return { body: raw, badJson: true }
  }
}

/**
 * Sends whatever `res` is given through a compressor, flushed at each write so that a stream still
 * arrives as it is written, with `content-encoding` set and no `content-length`.
 */
const compress = (res: Http.ServerResponse, format: "gzip" | "deflate" | "br") => {
  const zip =
    format === "br"
      ? Zlib.createBrotliCompress()
      : format === "deflate"
        ? Zlib.createDeflate()
        : Zlib.createGzip()
  const write = res.write.bind(res) as (chunk: Buffer) => boolean
  const end = res.end.bind(res) as () => Http.ServerResponse
  const writeHead = res.writeHead.bind(res)
  zip.on("data", (chunk: Buffer) => write(chunk))
  zip.on("end", () => end())
  res.writeHead = ((status: number, headers?: Record<string, string | number>) => {
    const { "content-length": _, ...rest } = headers ?? {}
    return writeHead(status, { ...rest, "content-encoding": format })
  }) as typeof res.writeHead
  res.write = ((chunk: string | Uint8Array) => {
    zip.write(chunk)
    zip.flush()
    return true
  }) as typeof res.write
  res.end = ((chunk?: string | Uint8Array) => {
    if (chunk !== undefined) zip.write(chunk)
    zip.end()
    return res
  }) as typeof res.end
}

/** The request headers NovelAI's CORS allows. */
const CORS_HEADERS: ReadonlySet<string> = new Set(["authorization", "content-type"])

/**
 * A CORS preflight: NovelAI allows any origin but only the `Authorization` and `Content-Type`
 * request headers, so one asking for another is refused (with `strictCors` off, any is allowed).
 */
const preflight = (req: Http.IncomingMessage, res: Http.ServerResponse, strict: boolean) => {
  const asked = (req.headers["access-control-request-headers"] ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "")
  if (strict && asked.some((name) => !CORS_HEADERS.has(name))) {
    res.writeHead(403, { "content-length": 0 })
    return res.end()
  }
  res.writeHead(204, {
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": strict ? "Authorization, Content-Type" : asked.join(", "),
    "access-control-max-age": "600"
  })
  res.end()
}

type Fail = (status: number, message: string, headers?: Record<string, string>) => void

/** The faults that replace the answer, before any route runs; true when one answered. */
const answerFault = (res: Http.ServerResponse, fault: Fault | undefined, fail: Fail): boolean => {
  switch (fault?.kind) {
    case "server-error":
      fail(fault.status ?? 500, "Internal server error (simulated)")
      return true
    case "rate-limit": {
      const headers: Record<string, string> = {}
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds)
      if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs)
      fail(429, "Too many requests (simulated)", headers)
      return true
    }
    case "redirect":
      res.writeHead(fault.status ?? 307, { location: fault.location, "content-length": 0 })
      res.end()
      return true
    case "error-200":
      sendJson(res, 200, {
        error: { message: "The model failed to respond (simulated)", type: "server_error" }
      })
      return true
    default:
      return false
  }
}

export const startServer = async (options: ServerOptions) => {
  const requests: Array<RecordedRequest> = []
  const errors: Array<Error> = []
  // Who waits for which request to close (see `closed`), checked as requests arrive and close.
  const waiting = new Set<{ readonly index: number; readonly resolve: (request: RecordedRequest) => void }>()
  const wake = () => {
    for (const waiter of waiting) {
      const request = requests[waiter.index]
      if (request?.closedAt !== undefined) {
        waiting.delete(waiter)
        waiter.resolve(request)
      }
    }
  }
  const faults = makeFaults()
  const timers = makeTimers()
  const locks = makeLocks(options.concurrencyLimit, timers)
  const wallets = makeWallets(options.anlas)
  const sockets = new Set<Socket>()
  const connectionOf = new WeakMap<Socket, number>()
  let accepted = 0
  let ids = 0
  let created = 1_700_000_000
  const routes = {
    models: options.models,
    textModels: options.textModels,
    quirks: options.quirks,
    chunkDelayMs: options.chunkDelayMs,
    locks,
    timers,
    wallets,
    nextId: () => ++ids,
    nextCreated: () => created++
  }

  const serve = async (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    req.socket.setTimeout(0)
    const { body, badJson } = await readBody(req)
    const method = req.method ?? "GET"
    const path = (req.url ?? "/").split("?")[0]!
    const record: RecordedRequest = {
      method,
      path,
      headers: { ...req.headers },
      body,
      receivedAt: now(),
      connection: connectionOf.get(req.socket) ?? 0,
      status: undefined,
      chunks: 0,
      clientClosedEarly: false,
      closedAt: undefined,
      fault: undefined
    }
    requests.push(record)
    res.on("close", () => {
      record.closedAt = now()
      record.clientClosedEarly = !res.writableFinished
      // A client that went away mid-answer gets its connection closed, as a server behind a proxy
      // does (a client that half-closes its socket would otherwise keep it open indefinitely).
      if (record.clientClosedEarly) req.socket.destroy()
      wake()
    })
    const writeHead = res.writeHead.bind(res)
    res.writeHead = ((status: number, ...rest: Array<any>) => {
      record.status = status
      return writeHead(status, ...rest)
    }) as typeof res.writeHead

    res.setHeader("access-control-allow-origin", "*")
    if (method === "OPTIONS") return preflight(req, res, options.quirks.strictCors)
    // NovelAI frames the error answer to a streaming request as SSE.
    const sse = options.quirks.sseErrorBodies && (body as { stream?: unknown } | undefined)?.stream === true
    const fail: Fail = (status, message, headers) => sendError(res, status, message, headers, sse)

    const auth = req.headers.authorization
    const key = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined
    const tier = key === undefined ? undefined : options.apiKeys.get(key)
    if (key === undefined || tier === undefined)
      return fail(401, "Unauthorized: missing or invalid access key")
    const fault = faults.take(req.headers["x-simulator-fault"] as string | undefined, path)
    record.fault = fault
    if (fault?.kind === "compress") compress(res, fault.format ?? "gzip")
    if (fault?.kind === "stall-headers") await timers.sleep(fault.ms)
    if (res.destroyed || answerFault(res, fault, fail)) return
    await handle(routes, { req, res, method, path, body, badJson, key, tier, fault, record, fail })
  }

  const server = Http.createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error))
      errors.push(failure)
      console.error(
        "The NovelAI simulator failed while answering a request (a bug in the simulator):",
        failure
      )
      if (res.headersSent) return res.destroy()
      sendJson(
        res,
        500,
        { statusCode: 500, message: `simulator bug: ${failure.stack ?? failure.message}` },
        { "x-should-retry": "false" }
      )
    })
  })
  server.keepAliveTimeout = options.keepAliveTimeoutMs
  server.on("connection", (socket) => {
    sockets.add(socket)
    connectionOf.set(socket, ++accepted)
    socket.on("close", () => sockets.delete(socket))
    // A connection that never sends a request is closed after the same idle time as one that did
    // (some clients open one ahead of need, e.g. after an aborted request).
    socket.setTimeout(options.keepAliveTimeoutMs, () => socket.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    errors,
    openConnections: () => sockets.size,
    closed: (index: number) =>
      new Promise<RecordedRequest>((resolve) => {
        waiting.add({ index, resolve })
        wake()
      }),
    activeGenerations: locks.active,
    anlas: (key: string) => {
      const tier = options.apiKeys.get(key)
      return tier === undefined ? undefined : wallets.balance(key, tier)
    },
    enqueueFault: faults.enqueue,
    reset: () => {
      requests.length = 0
      faults.clear()
    },
    close: async () => {
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
