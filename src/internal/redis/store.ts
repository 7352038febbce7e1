/**
 * The gate's connection to Redis: runs its scripts, each under a deadline, and listens for the
 * channel that says a slot may be free. A failure is a `GenerationGateError` that names Redis but
 * never the URL (it may carry a password).
 */
import * as Effect from "effect/Effect"
import { Redis } from "ioredis"
import { GenerationGateError } from "../../Errors.js"
import { makeScrub } from "../core/scrub.js"
import type { Resolved } from "./options.js"
import type { Script } from "./scripts.js"

export interface Store {
  /** Runs `script` (by its SHA, loading it when Redis does not know it). */
  readonly run: (
    script: Script,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string | number>
  ) => Effect.Effect<unknown, GenerationGateError>
  /**
   * Listens on `channels` from now on (on a connection of its own, made at the first call), calling
   * `onMessage` with the channel. Best effort: while it is down, waiters rely on their polls.
   */
  readonly listen: (channels: ReadonlyArray<string>, onMessage: (channel: string) => void) => void
  /** Closes the connections the store made; a client it was given stays open. */
  readonly close: () => Promise<void>
}

/**
 * What Redis or ioredis said, short and scrubbed of the password: ioredis's errors name the host
 * and port at most, but a command's error carries the command's arguments (`AUTH`'s is the
 * password), so the cause kept is a plain error with the message alone.
 */
const describe = (cause: unknown, scrub: (text: string) => string): Error => {
  const message = scrub(cause instanceof Error ? cause.message : String(cause))
  const error = new Error(message.length > 200 ? `${message.slice(0, 200)}...` : message)
  if (cause instanceof Error) error.name = cause.name
  return error
}

export const gateError = (message: string, cause?: unknown): GenerationGateError =>
  new GenerationGateError(cause === undefined ? { message } : { message, cause })

export const makeStore = (options: Resolved): Store => {
  const owned = options.connection._tag === "url"
  const client =
    options.connection._tag === "client"
      ? options.connection.client
      : new Redis(options.connection.url, {
          // Connects at the first command, so making a gate does no I/O.
          lazyConnect: true,
          // A command waits for a connection at most one reconnection, then fails: the gate's
          // deadline (operationTimeout) bounds it anyway.
          maxRetriesPerRequest: 1,
          connectTimeout: options.operationMillis,
          retryStrategy: (times) => Math.min(times * 50, 500)
        })
  // Without a listener, ioredis prints every connection error; the gate reports them as
  // GenerationGateError where a call meets them.
  // ioredis keeps the password decoded from the URL, or as given to a client of the caller's.
  const scrub = makeScrub(client.options.password ?? "")
  const quiet = () => {}
  if (owned) client.on("error", quiet)
  let subscriber: Redis | undefined
  const listening = new Set<string>()
  let closed = false

  const evaluate = async (
    script: Script,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string | number>
  ) => {
    try {
      return await client.evalsha(script.sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("NOSCRIPT")) {
        return await client.eval(script.source, keys.length, ...keys, ...args)
      }
      throw error
    }
  }

  const timeoutError = gateError(
    `the Redis generation gate got no answer from Redis within ${options.operationMillis} ms (is it reachable?); nothing was sent`
  )

  return {
    // A timer of its own rather than Effect.timeout, which forks a fiber per command: this is on
    // every generation's path.
    run: (script, keys, args) =>
      Effect.async<unknown, GenerationGateError>((resume) => {
        let settled = false
        const settle = (effect: Effect.Effect<unknown, GenerationGateError>) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resume(effect)
        }
        const timer = setTimeout(() => settle(Effect.fail(timeoutError)), options.operationMillis)
        evaluate(script, keys, args).then(
          (reply) => settle(Effect.succeed(reply)),
          (cause: unknown) =>
            settle(
              Effect.fail(
                ((said) =>
                  gateError(
                    `the Redis generation gate could not reach Redis (${said.message}); nothing was sent`,
                    said
                  ))(describe(cause, scrub))
              )
            )
        )
        return Effect.sync(() => {
          settled = true
          clearTimeout(timer)
        })
      }),
    listen: (channels, onMessage) => {
      if (closed) return
      const fresh = channels.filter((channel) => !listening.has(channel))
      if (fresh.length === 0) return
      for (const channel of fresh) listening.add(channel)
      if (subscriber === undefined) {
        subscriber = client.duplicate({ lazyConnect: true, maxRetriesPerRequest: null })
        subscriber.on("error", quiet)
        subscriber.on("message", (channel: string) => onMessage(channel))
      }
      // ioredis resubscribes by itself after a reconnection.
      subscriber.subscribe(...fresh).catch(() => {
        for (const channel of fresh) listening.delete(channel)
      })
    },
    close: async () => {
      if (closed) return
      closed = true
      subscriber?.disconnect()
      if (owned) client.disconnect()
    }
  }
}
