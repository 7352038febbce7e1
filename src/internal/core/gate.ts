/**
 * The gate every attempt passes before its request is sent: a generation slot (for the endpoints
 * that generate, which NovelAI runs one at a time per account), a slot among `maxConcurrency`, then
 * the rate limiter. Waiting is interruptible at every step, so a deadline or a cancel ends a wait.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as RateLimiter from "effect/RateLimiter"
import * as Scope from "effect/Scope"
import type { GenerationGateError } from "../../Errors.js"

/** The kinds of generation NovelAI locks separately per account: text and images. */
export type GenerationSlot = "text" | "image"

/** How a generation that held a slot ended: a shared gate may keep the slot a while after a cancel. */
export type GenerationOutcome = "done" | "failed" | "interrupted"

/** A slot held: give it back once, when the generation ends. */
export interface GenerationLease {
  readonly release: (outcome: GenerationOutcome) => Effect.Effect<void>
}

/**
 * The generation slots of one account. The client calls `acquire` before each generation is sent
 * and the lease's `release` when it ends; `acquire` waits while others hold the slot, and is
 * interruptible while it waits (a deadline or a cancel ends the wait, holding nothing). Clients of
 * one key share one gate: `makeGenerationGate()` in one process, a Redis gate across processes.
 * The client never closes a gate it was given: its owner does, with `close`.
 */
export interface GenerationGate {
  readonly _tag: "effect-novelai/GenerationGate"
  /** Generations of each slot in flight at once, as far as the gate tells. */
  readonly concurrency: number | "unbounded"
  readonly acquire: (slot: GenerationSlot) => Effect.Effect<GenerationLease, GenerationGateError>
  /** Ends what the gate holds (a connection, timers). Generations waiting on it fail. */
  readonly close: () => Promise<void>
}

const TAG = "effect-novelai/GenerationGate"

export const isGenerationGate = (u: unknown): u is GenerationGate =>
  typeof u === "object" &&
  u !== null &&
  (u as { _tag?: unknown })._tag === TAG &&
  typeof (u as { acquire?: unknown }).acquire === "function" &&
  typeof (u as { close?: unknown }).close === "function"

const noLease: GenerationLease = { release: () => Effect.void }
const openLease: Effect.Effect<GenerationLease> = Effect.succeed(noLease)

/**
 * The in-process gate: a semaphore per slot. An uncontended `acquire` takes a permit and returns a
 * lease made once per slot, so it costs one semaphore step.
 */
export const makeLocalGate = (concurrency: number | "unbounded"): GenerationGate => {
  const slot = (): Effect.Effect<GenerationLease> => {
    if (concurrency === "unbounded") return openLease
    const semaphore = Effect.unsafeMakeSemaphore(concurrency)
    const lease: GenerationLease = { release: () => semaphore.release(1) }
    return Effect.as(semaphore.take(1), lease)
  }
  const slots: Record<GenerationSlot, Effect.Effect<GenerationLease>> = { text: slot(), image: slot() }
  return {
    _tag: TAG,
    concurrency,
    acquire: (which) => slots[which],
    close: () => Promise.resolve()
  }
}

const outcomeOf = (exit: Exit.Exit<unknown, unknown>): GenerationOutcome =>
  Exit.isSuccess(exit) ? "done" : Exit.isInterrupted(exit) ? "interrupted" : "failed"

export interface GateOptions {
  /** Requests in flight at once, of any kind; undefined: unbounded. */
  readonly maxConcurrency: number | undefined
  /** The account's generation slots, shared or the client's own. */
  readonly generations: GenerationGate
  readonly rateLimit: RateLimiter.RateLimiter.Options | undefined
}

export interface Gate {
  /** Runs `effect` once admitted, holding its slots until it ends. `slot` undefined: not a generation. */
  readonly call: <A, E>(
    effect: Effect.Effect<A, E>,
    slot: GenerationSlot | undefined
  ) => Effect.Effect<A, E | GenerationGateError>
  /**
   * Waits until admitted; the slots are held until `scope` closes (a stream holds them until it
   * ends). `cut`, asked when it closes: whether the stream stopped before its end while the server
   * may still be generating (the consumer stopped early, it failed midway), which the lease is told
   * as `"interrupted"` even when the scope closes successfully.
   */
  readonly enter: (
    slot: GenerationSlot | undefined,
    scope: Scope.Scope,
    cut?: () => boolean
  ) => Effect.Effect<void, GenerationGateError>
}

export const make = (options: GateOptions): Effect.Effect<Gate, never, Scope.Scope> =>
  Effect.gen(function* () {
    const generations = options.generations
    const slots =
      options.maxConcurrency === undefined ? undefined : yield* Effect.makeSemaphore(options.maxConcurrency)
    const limiter = options.rateLimit === undefined ? undefined : yield* RateLimiter.make(options.rateLimit)
    const ungated = generations.concurrency === "unbounded" && slots === undefined && limiter === undefined

    // A generation waits for its generation slot before taking a general one, so that it never holds
    // a general slot while it waits.
    const general = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
      const limited = limiter === undefined ? effect : limiter(effect)
      return slots === undefined ? limited : slots.withPermits(1)(limited)
    }
    const enterGeneral = (scope: Scope.Scope): Effect.Effect<void> => {
      const limited = limiter === undefined ? Effect.void : limiter(Effect.void)
      if (slots === undefined) return limited
      return Effect.zipRight(
        Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(restore(slots.take(1)), Scope.addFinalizer(scope, slots.release(1)))
        ),
        limited
      )
    }

    return {
      call: (effect, slot) => {
        if (ungated) return effect
        if (slot === undefined) return general(effect)
        return Effect.acquireUseRelease(
          generations.acquire(slot),
          () => general(effect),
          (lease, exit) => lease.release(outcomeOf(exit))
        )
      },
      enter: (slot, scope, cut) => {
        if (ungated) return Effect.void
        if (slot === undefined) return enterGeneral(scope)
        return Effect.zipRight(
          Effect.uninterruptibleMask((restore) =>
            Effect.flatMap(restore(generations.acquire(slot)), (lease) =>
              Scope.addFinalizerExit(scope, (exit) =>
                lease.release(cut?.() === true ? "interrupted" : outcomeOf(exit))
              )
            )
          ),
          enterGeneral(scope)
        )
      }
    }
  })
