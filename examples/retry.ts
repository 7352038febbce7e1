/**
 * Retrying with a Schedule: NovelAI runs one generation per account at once and answers 429
 * ("concurrent generation is locked") to the rest. Retry only RateLimitError, with exponential
 * backoff and jitter, a bounded number of times.
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Ref, Schedule } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"

const policy = Schedule.exponential("100 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(8)),
  Schedule.whileInput((error: { readonly _tag: string }) => error._tag === "RateLimitError")
)

const program = Effect.gen(function* () {
  const retries = yield* Ref.make(0)
  const ask = (i: number) =>
    OpenAI.chatCompletion({
      messages: [{ role: "user", content: `Line ${i} of a poem` }],
      maxTokens: 15
    }).pipe(
      Effect.tapErrorTag("RateLimitError", () => Ref.update(retries, (n) => n + 1)),
      Effect.retry(policy)
    )
  // Three at once: all but one meet the generation lock at first, and get through on retry.
  const replies = yield* Effect.all([ask(1), ask(2), ask(3)], { concurrency: "unbounded" })
  yield* Console.log(
    `${replies.length} replies after ${yield* Ref.get(retries)} rate-limited attempts retried`
  )
  for (const reply of replies) yield* Console.log(`- ${reply.choices[0]!.message.content.trim()}`)
})

program.pipe(
  Effect.provide(NovelAIClient.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
  NodeRuntime.runMain
)
