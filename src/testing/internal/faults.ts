/**
 * Faults the simulator injects into a request: chosen per request with the `x-simulator-fault`
 * header (`kind` or `kind;key=value;...`, e.g. `reset;after=3`) or queued ahead.
 */

/**
 * A fault injected into one request.
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
  /** Answer with a redirect (`status`, default 307) to `location`. */
  | { readonly kind: "redirect"; readonly status?: number; readonly location: string }
  /** Compress the answer (`gzip`, `deflate` or `br`) whatever the client asked for, as a proxy might. */
  | { readonly kind: "compress"; readonly format?: "gzip" | "deflate" | "br" }
  /**
   * End a stream's body `ms` after its last event (`[DONE]`, the last `final`), as a server does
   * whose end arrives in a packet of its own, or that holds the connection open a while.
   */
  | { readonly kind: "linger"; readonly ms: number }

/** Faults that act inside a stream, after some chunks. */
export type StreamFault = Extract<
  Fault,
  { readonly kind: "reset" | "malformed" | "error-frame" | "cut" | "stall" }
>

const STREAM_KINDS: ReadonlySet<string> = new Set(["reset", "malformed", "error-frame", "cut", "stall"])

export const isStreamFault = (fault: Fault | undefined): fault is StreamFault =>
  fault !== undefined && STREAM_KINDS.has(fault.kind)

/** How long a stream's body stays open after its last event: `linger`'s `ms`, else none. */
export const lingerMs = (fault: Fault | undefined): number => (fault?.kind === "linger" ? fault.ms : 0)

/** After how many chunks a stream fault acts. */
export const faultAfter = (fault: StreamFault): number => fault.after ?? (fault.kind === "stall" ? 1 : 2)

const parseHeader = (value: string | undefined): Fault | undefined => {
  if (value === undefined || value === "") return undefined
  const [kind, ...pairs] = value.split(";").map((s) => s.trim())
  const params: Record<string, number | string> = {}
  for (const pair of pairs) {
    const [k, v] = pair.split("=")
    if (k && v !== undefined) params[k] = Number.isFinite(Number(v)) ? Number(v) : v
  }
  return { kind, ...params } as Fault
}

/** Queued faults, each for the next request (or the next one to its path). */
export const makeFaults = () => {
  const queue: Array<{ readonly fault: Fault; readonly path: string | undefined }> = []
  return {
    enqueue: (fault: Fault, path?: string) => {
      queue.push({ fault, path })
    },
    /** The fault for a request: its header's, else the first queued one for its path. */
    take: (header: string | undefined, path: string): Fault | undefined => {
      const fromHeader = parseHeader(header)
      if (fromHeader !== undefined) return fromHeader
      const i = queue.findIndex((f) => f.path === undefined || f.path === path)
      return i === -1 ? undefined : queue.splice(i, 1)[0]!.fault
    },
    clear: () => {
      queue.length = 0
    }
  }
}

/** What a stream fault needs of the response it acts on. */
export interface StreamFaultTarget {
  readonly res: { readonly socket: { resetAndDestroy: () => unknown } | null; end: () => unknown }
  readonly sleep: (ms: number) => Promise<void>
  /** Writes a frame cut off inside its JSON. */
  readonly malformed: () => Promise<void>
  /** Writes the frame that reports an error inside the stream, with its message. */
  readonly errorFrame: (message: string) => Promise<void>
}

/**
 * A stream fault of a streaming endpoint, acted on at its chunk: whether the stream goes on
 * (after a malformed frame or a stall) or has ended (a reset, a cut, an error frame).
 */
export const actOnStreamFault = async (fault: StreamFault, target: StreamFaultTarget): Promise<boolean> => {
  switch (fault.kind) {
    case "reset":
      target.res.socket?.resetAndDestroy()
      return false
    case "malformed":
      await target.malformed()
      return true
    case "error-frame":
      await target.errorFrame(fault.message ?? "generation failed (simulated)")
      target.res.end()
      return false
    case "cut":
      target.res.end()
      return false
    case "stall":
      await target.sleep(fault.ms)
      return true
  }
}
