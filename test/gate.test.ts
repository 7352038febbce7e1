/**
 * The gate every attempt passes: the rate limiter and the concurrency slots, on the TestClock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import { OpenAI } from "effect-novelai"
import { json, makeTestClient } from "./support.js"

const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))

describe("the gate", () => {
  it.effect("a rate limit spaces requests out: a burst of `limit`, then one per interval / limit", () =>
    Effect.gen(function* () {
      const sentAt: Array<number> = []
      const { layer } = makeTestClient(() => json({ length: 1 }), {
        rateLimit: { limit: 2, interval: "200 millis" }
      })
      const fiber = yield* Effect.all(
        Array.from({ length: 6 }, () =>
          Effect.zipRight(
            OpenAI.tokenCount({ prompt: "x" }),
            Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => sentAt.push(now)))
          )
        ),
        { concurrency: "unbounded" }
      ).pipe(Effect.provide(layer), Effect.fork)
      for (let i = 0; i < 10; i++) {
        yield* settle
        yield* TestClock.adjust("50 millis")
      }
      yield* Fiber.join(fiber)
      // A token bucket of 2 per 200 ms: two at once, then one every 100 ms.
      expect(sentAt).toEqual([0, 0, 100, 200, 300, 400])
    })
  )
})
