/**
 * A `GenerationGate` shared through Redis. Each acquire first takes a permit of the process's own
 * gate (so a process queues its own generations locally and puts at most `concurrency` tickets per
 * slot in Redis), then a ticket in the slot's Redis queue, taken in arrival order (see
 * `scripts.ts`). A held slot is a lease renewed while the generation runs; it is left when the
 * generation ends, or kept `holdMillis` more when it was cancelled (NovelAI keeps its lock a
 * while). When Redis cannot be reached, the acquire fails, or with `whenUnreachable: "local"` goes
 * on with the process's own permit alone.
 */
import { randomUUID } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import type { GenerationGateError } from "../../Errors.js"
import type { GenerationGate, GenerationLease, GenerationOutcome, GenerationSlot } from "../core/gate.js"
import type { Resolved } from "./options.js"
import { type SlotKeys, scripts, slotKeys } from "./scripts.js"
import { gateError, makeStore, type Store } from "./store.js"

const TAG = "effect-novelai/GenerationGate"

/** A waiter in this process: woken when its slot's channel says a slot may be free. */
interface Waiter {
  woken: boolean
  resume: (() => void) | undefined
}

const SLOTS: ReadonlyArray<GenerationSlot> = ["text", "image"]

export const make = (options: Resolved, store: Store = makeStore(options)): GenerationGate => {
  const { concurrency, leaseMillis, holdMillis } = options
  const keys: Record<GenerationSlot, SlotKeys> = {
    text: slotKeys(options.prefix, "text"),
    image: slotKeys(options.prefix, "image")
  }
  const keyList = (k: SlotKeys) => [k.queue, k.alive, k.held, k.seq]
  // Renewals and polls every third of a lease: a lease survives two lost renewals.
  const beat = Math.max(100, Math.floor(leaseMillis / 3))
  // Keys outlive anything they may hold; an idle account's keys then expire.
  const ttl = 2 * Math.max(leaseMillis, holdMillis) + 60_000
  const locals: Record<GenerationSlot, Effect.Semaphore> = {
    text: Effect.unsafeMakeSemaphore(concurrency),
    image: Effect.unsafeMakeSemaphore(concurrency)
  }
  const waiters: Record<GenerationSlot, Set<Waiter>> = { text: new Set(), image: new Set() }
  // The tickets in the queues now, so that closing the gate takes them out.
  const queued = new Map<string, GenerationSlot>()
  const slotOfChannel = new Map(SLOTS.map((slot) => [keys[slot].channel, slot]))
  // The renewals run in the gate's scope: closing the gate ends them.
  const scope = Effect.runSync(Scope.make())
  let closed = false
  let degraded = false

  const closedError = () => gateError("the Redis generation gate was closed; nothing was sent")

  const wake = (slot: GenerationSlot) => {
    for (const waiter of waiters[slot]) {
      waiter.woken = true
      waiter.resume?.()
    }
  }

  const onMessage = (channel: string) => {
    const slot = slotOfChannel.get(channel)
    if (slot !== undefined) wake(slot)
  }

  /** Sleeps up to `ms`, or until the waiter is woken (at once if it was since it last looked). */
  const pause = (waiter: Waiter, ms: number): Effect.Effect<void> =>
    Effect.async<void>((resume) => {
      if (waiter.woken || closed) return resume(Effect.void)
      const done = () => {
        clearTimeout(timer)
        waiter.resume = undefined
        resume(Effect.void)
      }
      const timer = setTimeout(done, ms)
      waiter.resume = done
      return Effect.sync(() => {
        clearTimeout(timer)
        waiter.resume = undefined
      })
    })

  const leave = (slot: GenerationSlot, ticket: string, hold: number) =>
    store.run(scripts.leave, keyList(keys[slot]), [ticket, hold, keys[slot].channel])

  /** Waits in the slot's queue until `ticket` holds a slot. */
  const enter = (slot: GenerationSlot, ticket: string): Effect.Effect<void, GenerationGateError> => {
    const waiter: Waiter = { woken: false, resume: undefined }
    const args = [ticket, concurrency, leaseMillis, leaseMillis, ttl]
    const look: Effect.Effect<void, GenerationGateError> = Effect.suspend(() => {
      if (closed) return Effect.fail(closedError())
      waiter.woken = false
      return Effect.flatMap(store.run(scripts.enter, keyList(keys[slot]), args), (reply) => {
        const [held, untilFree] = reply as [number, number?]
        if (held === 1) return Effect.void
        store.listen([keys[slot].channel], onMessage)
        // Look again when told, when the first lease ends, or at the next beat (a waiter that
        // stops looking leaves the queue after a lease).
        const ms = untilFree !== undefined && untilFree >= 0 ? Math.min(beat, untilFree + 2) : beat
        return Effect.zipRight(pause(waiter, ms), look)
      })
    })
    return Effect.suspend(() => {
      waiters[slot].add(waiter)
      queued.set(ticket, slot)
      return Effect.ensuring(
        look,
        Effect.sync(() => {
          waiters[slot].delete(waiter)
          queued.delete(ticket)
        })
      )
    })
  }

  /** Renews the lease of `ticket` every beat, until interrupted. */
  const renew = (slot: GenerationSlot, ticket: string): Effect.Effect<void> => {
    const args = [ticket, concurrency, leaseMillis, ttl]
    const once = Effect.matchEffect(store.run(scripts.renew, keyList(keys[slot]), args), {
      onFailure: (error) =>
        Effect.logWarning(`RedisGenerationGate: a lease could not be renewed: ${error.message}`),
      onSuccess: (reply) =>
        reply === 0
          ? Effect.logWarning(
              "RedisGenerationGate: a lease ended before its generation did (was this process paused longer than the lease?), and others hold every slot"
            )
          : Effect.void
    })
    return Effect.forever(Effect.zipRight(Effect.sleep(beat), once))
  }

  const localLease = (slot: GenerationSlot): GenerationLease => {
    let released = false
    return {
      release: () =>
        Effect.suspend(() => {
          if (released) return Effect.void
          released = true
          return locals[slot].release(1)
        })
    }
  }

  const remoteLease = (
    slot: GenerationSlot,
    ticket: string,
    renewal: Fiber.RuntimeFiber<void>
  ): GenerationLease => {
    let released = false
    return {
      release: (outcome: GenerationOutcome) =>
        Effect.suspend(() => {
          if (released) return Effect.void
          released = true
          const hold = outcome === "interrupted" ? holdMillis : 0
          // Given back in the background: a generation that has its result is not held up by a
          // slow Redis (nor failed by its deadline). The fiber starts at once, so its command is
          // on the connection before the permit below lets this process's next ticket ask: Redis
          // frees the slot before it sees the next ask.
          const giveBack = leave(slot, ticket, hold).pipe(
            Effect.catchAll((error) =>
              Effect.logWarning(
                `RedisGenerationGate: a slot could not be given back (${error.message}); it frees itself when its lease ends`
              )
            )
          )
          return Fiber.interrupt(renewal).pipe(
            // Closed: its connection is gone; the slot ends with its lease.
            Effect.zipRight(
              closed
                ? Effect.void
                : Effect.flatMap(Effect.runtime<never>(), (runtime) =>
                    Effect.sync(() => Runtime.runFork(runtime)(giveBack, { scope, immediate: true }))
                  )
            ),
            Effect.ensuring(locals[slot].release(1))
          )
        })
    }
  }

  /** Redis failed: the error, or with the local fallback the process's permit alone. */
  const unreachable = (slot: GenerationSlot, error: GenerationGateError) => {
    if (options.whenUnreachable === "fail" || closed) {
      return Effect.zipRight(locals[slot].release(1), Effect.fail(error))
    }
    const warn = degraded
      ? Effect.void
      : Effect.logWarning(
          `RedisGenerationGate: ${error.message}; generations are gated in this process only until Redis answers again`
        )
    degraded = true
    return Effect.as(warn, localLease(slot))
  }

  const acquire = (slot: GenerationSlot): Effect.Effect<GenerationLease, GenerationGateError> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        if (closed) return Effect.fail(closedError())
        return Effect.zipRight(
          restore(locals[slot].take(1)),
          Effect.suspend(() => {
            // Closed while this waited for the process's own permit (closing wakes them all).
            if (closed) return Effect.zipRight(locals[slot].release(1), Effect.fail(closedError()))
            const ticket = randomUUID()
            return Effect.matchCauseEffect(restore(enter(slot, ticket)), {
              onSuccess: () => {
                degraded = false
                return Effect.map(
                  Effect.forkIn(Effect.interruptible(renew(slot, ticket)), scope),
                  (renewal) => remoteLease(slot, ticket, renewal)
                )
              },
              onFailure: (cause) => {
                // Whatever Redis did with the ticket (it may hold a slot by now), give it up, in
                // the background: a deadline that ended the wait is not held up by it. Redis runs
                // it after the ticket's last command, which went on the same connection.
                const giveUp = closed
                  ? Effect.void
                  : Effect.forkIn(Effect.ignore(leave(slot, ticket, 0)), scope)
                const failure = cause._tag === "Fail" ? cause.error : undefined
                if (failure !== undefined && !closed) {
                  return Effect.zipRight(giveUp, unreachable(slot, failure))
                }
                return Effect.zipRight(
                  Effect.zipRight(giveUp, locals[slot].release(1)),
                  Effect.failCause(cause)
                )
              }
            })
          })
        )
      })
    )

  return {
    _tag: TAG,
    concurrency,
    acquire,
    close: async () => {
      if (closed) return
      closed = true
      // The waiters fail; their tickets leave the queues before the connection ends.
      const leaving = [...queued].map(([ticket, slot]) => Effect.ignore(leave(slot, ticket, 0)))
      for (const slot of SLOTS) wake(slot)
      // The waiters for this process's own permits wake, and fail as closed.
      for (const slot of SLOTS) Effect.runSync(locals[slot].resize(Number.MAX_SAFE_INTEGER))
      await Effect.runPromise(Effect.all(leaving, { concurrency: "unbounded", discard: true }))
      // Leases held now stop being renewed and end with their lease: a generation still running
      // keeps its slot that long.
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await store.close()
    }
  }
}
