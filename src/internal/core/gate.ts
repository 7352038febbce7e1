/**
 * The gate every attempt passes before its request is sent: a generation slot (for completions and
 * chats, which NovelAI runs a few at a time per account), a slot among `maxConcurrency`, then the
 * rate limiter. Waiting is interruptible at every step, so a deadline or a cancel ends a wait.
 */
import * as Effect from "effect/Effect"
import * as RateLimiter from "effect/RateLimiter"
import * as Scope from "effect/Scope"

/**
 * The generation slots of one account, which clients of the same key in one process can share (see
 * `NovelAIClient.makeGenerationGate`). `semaphore` undefined: unbounded.
 */
export class GenerationSlots {
  readonly _tag = "effect-novelai/GenerationGate"
  readonly semaphore: Effect.Semaphore | undefined
  constructor(readonly concurrency: number | "unbounded") {
    this.semaphore = concurrency === "unbounded" ? undefined : Effect.unsafeMakeSemaphore(concurrency)
  }
}

export const isGenerationSlots = (u: unknown): u is GenerationSlots => u instanceof GenerationSlots

export interface GateOptions {
  /** Requests in flight at once, of any kind; undefined: unbounded. */
  readonly maxConcurrency: number | undefined
  /** Generations in flight at once, shared or the client's own. */
  readonly generations: GenerationSlots
  readonly rateLimit: RateLimiter.RateLimiter.Options | undefined
}

export interface Gate {
  /** Runs `effect` once admitted, holding its slots until it ends. */
  readonly call: <A, E>(effect: Effect.Effect<A, E>, generation: boolean) => Effect.Effect<A, E>
  /** Waits until admitted; the slots are held until `scope` closes (a stream holds them until it ends). */
  readonly enter: (generation: boolean, scope: Scope.Scope) => Effect.Effect<void>
}

const open: Gate = { call: (effect) => effect, enter: () => Effect.void }

export const make = (options: GateOptions): Effect.Effect<Gate, never, Scope.Scope> =>
  Effect.gen(function* () {
    const generations = options.generations.semaphore
    if (
      options.maxConcurrency === undefined &&
      generations === undefined &&
      options.rateLimit === undefined
    ) {
      return open
    }
    const slots =
      options.maxConcurrency === undefined ? undefined : yield* Effect.makeSemaphore(options.maxConcurrency)
    const limiter = options.rateLimit === undefined ? undefined : yield* RateLimiter.make(options.rateLimit)

    // A generation waits for its generation slot before taking a general one, so that it never holds
    // a general slot while it waits.
    const forGeneration = [generations, slots].filter((s) => s !== undefined)
    const forOther = [slots].filter((s) => s !== undefined)
    const semaphores = (generation: boolean) => (generation ? forGeneration : forOther)

    return {
      call: (effect, generation) => {
        let admitted = limiter === undefined ? effect : limiter(effect)
        const taken = semaphores(generation)
        for (let i = taken.length - 1; i >= 0; i--) admitted = taken[i]!.withPermits(1)(admitted)
        return admitted
      },
      enter: (generation, scope) =>
        Effect.zipRight(
          Effect.forEach(
            semaphores(generation),
            (semaphore) =>
              Effect.uninterruptibleMask((restore) =>
                Effect.zipRight(restore(semaphore.take(1)), Scope.addFinalizer(scope, semaphore.release(1)))
              ),
            { discard: true }
          ),
          limiter === undefined ? Effect.void : limiter(Effect.void)
        )
    }
  })
