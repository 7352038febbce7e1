/**
 * Limiting the client side instead of retrying: a Semaphore keeps one generation in flight (what
 * NovelAI allows per account), and a RateLimiter caps requests per second. Ten calls made at once
 * all succeed, with no 429.
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, RateLimiter } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"

const program = Effect.scoped(
  Effect.gen(function* () {
    const oneAtATime = yield* Effect.makeSemaphore(1)
    const perSecond = yield* RateLimiter.make({ limit: 20, interval: "1 second" })
    const limited = <A, E, R>(effect: Effect.Effect<A, E, R>) => perSecond(oneAtATime.withPermits(1)(effect))

    const replies = yield* Effect.all(
      Array.from({ length: 10 }, (_, i) =>
        limited(
          OpenAI.chatCompletion({
            messages: [{ role: "user", content: `Story ${i}` }],
            maxTokens: 8,
            seed: i
          })
        )
      ),
      { concurrency: "unbounded" }
    )
    yield* Console.log(`${replies.length} of 10 calls succeeded, none rate limited`)
  })
)

program.pipe(
  Effect.provide(NovelAIClient.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
  NodeRuntime.runMain
)
