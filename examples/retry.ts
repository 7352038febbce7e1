/**
 * Retrying with your own Schedule. NovelAI runs one generation per account at once and answers 429
 * ("concurrent generation is locked") to the rest. A client queues its own generations, so the
 * lock meets it only when something else uses the account at the same time: another program, or,
 * as here, a client told not to queue (`generationConcurrency: "unbounded"`). A call can bring its
 * own retry policy in place of the default one.
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Ref, Schedule } from "effect"
import { NovelAIClient, OpenAI, Retry } from "effect-novelai"

// Retry only what is worth retrying, with exponential backoff and jitter, a bounded number of
// times; count the retries as they happen.
const policy = (retries: Ref.Ref<number>) =>
  Schedule.exponential("100 millis").pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(8)),
    Schedule.whileInput(Retry.isRetryable),
    Schedule.tapInput(() => Ref.update(retries, (n) => n + 1))
  )

const program = Effect.gen(function* () {
  const retries = yield* Ref.make(0)
  // A per-call `retrySchedule` replaces the client's default policy for that call.
  const ask = (i: number) =>
    OpenAI.chatCompletion(
      { messages: [{ role: "user", content: `Line ${i} of a poem` }], maxTokens: 15 },
      { retrySchedule: policy(retries) }
    )
  // Three at once: all but one meet the generation lock at first, and get through on retry.
  const replies = yield* Effect.all([ask(1), ask(2), ask(3)], { concurrency: "unbounded" })
  yield* Console.log(
    `${replies.length} replies after ${yield* Ref.get(retries)} rate-limited attempts retried`
  )
  for (const reply of replies) yield* Console.log(`- ${reply.choices[0]!.message.content.trim()}`)
})

program.pipe(
  Effect.provide(
    NovelAIClient.layerConfig({ generationConcurrency: "unbounded" }).pipe(
      Layer.provide(NodeHttpClient.layerUndici)
    )
  ),
  NodeRuntime.runMain
)
