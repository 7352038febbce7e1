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
