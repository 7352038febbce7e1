/**
 * NovelAI's per-account generation lock: a key runs at most `limit` generations at once; one more
 * gets 429 "concurrent generation is locked". An abandoned generation keeps its lock until it would
 * have finished.
 */
import type { Timers } from "./timers.js"

export interface Locks {
  /** Takes a slot for `key`, or answers false when it has none free. */
  readonly acquire: (key: string) => boolean
  /** Frees the slot `acquire` took, after `ms` (a generation that would still be running). */
  readonly release: (key: string, ms?: number) => void
  /** Generations holding a slot, over all keys. */
  readonly active: () => number
}

export const makeLocks = (limit: number, timers: Timers): Locks => {
  const held = new Map<string, number>()
  const free = (key: string) => {
    const n = (held.get(key) ?? 1) - 1
    if (n <= 0) held.delete(key)
    else held.set(key, n)
  }
  return {
    acquire: (key) => {
      const active = held.get(key) ?? 0
      if (active >= limit) return false
      held.set(key, active + 1)
      return true
    },
    release: (key, ms = 0) => (ms > 0 ? timers.later(ms, () => free(key)) : free(key)),
    active: () => [...held.values()].reduce((a, b) => a + b, 0)
  }
}

/** A lock taken for one generation: its length once known, and its release. */
export interface Held {
  /** How long the generation runs, ms: how long an abandoned one keeps the lock. */
  duration: number
  /** Frees the lock once: at once when the generation finished, else when it would have. */
  readonly release: (finished: boolean) => void
}

/**
 * The lock `key` took for the generation answering `res`, freed once whatever happens from here: when
 * the generation ends, or when its client goes away (`outlivesCancel`: NovelAI keeps it until the
 * generation would have finished), a crash included (the server's 500 closes the response).
 */
export const hold = (
  locks: Locks,
  key: string,
  res: { once(event: "close", listener: () => void): unknown; readonly writableFinished: boolean },
  outlivesCancel: boolean
): Held => {
  const started = performance.now()
  let released = false
  const held: Held = {
    duration: 0,
    release: (finished) => {
      if (released) return
      released = true
      const left = finished || !outlivesCancel ? 0 : held.duration - (performance.now() - started)
      locks.release(key, Math.max(0, left))
    }
  }
  res.once("close", () => held.release(res.writableFinished))
  return held
}
