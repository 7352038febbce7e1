/** What every family's routes are given: the server's settings and state, and one request. */
import type * as Http from "node:http"
import type { Wallets } from "./account.js"
import type { Fault } from "./faults.js"
import type { Locks } from "./lock.js"
import type { Quirks, Tier } from "./quirks.js"
import type { Timers } from "./timers.js"

/** What the routes share: the server's settings and state. */
export interface Routes {
  readonly models: ReadonlyArray<string>
  /** The native API's models. */
  readonly textModels: ReadonlyArray<string>
  readonly chunkDelayMs: number
  readonly locks: Locks
  readonly timers: Timers
  readonly quirks: Quirks
  /** Each key's Anlas, charged by the image calls. */
  readonly wallets: Wallets
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
  readonly tier: Tier
  readonly fault: Fault | undefined
  /** Where the streamed chunks are counted. */
  readonly record: { chunks: number }
  /** Answers an error in NovelAI's shape (SSE-framed for a streaming request, when the quirk is on). */
  readonly fail: (status: number, message: string, headers?: Record<string, string>) => void
}
