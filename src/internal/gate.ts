/**
 * The gate every attempt passes before its request is sent: a generation slot (for completions and
 * chats, which NovelAI runs a few at a time per account), a slot among `maxConcurrency`, then the
 * rate limiter. Waiting is interruptible at every step, so a deadline or a cancel ends a wait.
 */
import * as Effect from "effect/Effect"
import * as RateLimiter from "effect/RateLimiter"
import * as Scope from "effect/Scope"

export interface GateOptions {
  /** Requests in flight at once, of any kind; undefined: unbounded. */
  readonly maxConcurrency: number | undefined
  /** Generations in flight at once; undefined: unbounded. */
  readonly generationConcurrency: number | undefined
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
    if (
      options.maxConcurrency === undefined &&
      options.generationConcurrency === undefined &&
      options.rateLimit === undefined
    ) {
      return open
    }
    const slots =
      options.maxConcurrency === undefined ? undefined : yield* Effect.makeSemaphore(options.maxConcurrency)
    const generations =
      options.generationConcurrency === undefined
        ? undefined
        : yield* Effect.makeSemaphore(options.generationConcurrency)
    const limiter = options.rateLimit === undefined ? undefined : yield* RateLimiter.make(options.rateLimit)

    // A generation waits for its generation slot before taking a general one, so that it never holds
    // a general slot while it waits.
    const semaphores = (generation: boolean) =>
      [generation ? generations : undefined, slots].filter((s) => s !== undefined)

    return {
      call: (effect, generation) => {
        let admitted = limiter === undefined ? effect : limiter(effect)
        for (const semaphore of semaphores(generation).reverse())
          admitted = semaphore.withPermits(1)(admitted)
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
