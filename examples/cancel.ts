/**
 * Cancelling a stream, two ways: a timeout on the stream, and interrupting the fiber that consumes
 * it. Either way the HTTP request is aborted at once; nothing keeps generating on our side.
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Deferred, Duration, Effect, Fiber, Layer, Schedule, Stream } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"

const story = OpenAI.chatCompletionStream({
  messages: [{ role: "user", content: "Write a long story" }],
  maxTokens: 2000
}).pipe(OpenAI.textDeltas)

const program = Effect.gen(function* () {
  // 1. A timeout: keep whatever arrived in the first 500 ms.
  const partial = yield* story.pipe(Stream.interruptAfter(Duration.millis(500)), Stream.mkString)
  yield* Console.log(`Timeout: kept ${partial.split(" ").length} words, then stopped the stream`)

  // 2. Fiber interruption: stop a running consumer from outside. The generation abandoned above
  //    still holds the account's lock for a while (NovelAI answers 429 meanwhile), so retry that;
  //    a 429 comes before any chunk, so retrying cannot repeat text.
  const waitForLock = Schedule.spaced("250 millis").pipe(
    Schedule.intersect(Schedule.recurs(60)),
    Schedule.whileInput((error: { readonly _tag: string }) => error._tag === "RateLimitError")
  )
  const started = yield* Deferred.make<void>()
  const printer = yield* story.pipe(
    Stream.retry(waitForLock),
    Stream.runForEach((text) =>
      Effect.zipRight(
        Deferred.succeed(started, undefined),
        Effect.sync(() => process.stdout.write(text))
      )
    ),
    Effect.fork
  )
  yield* Deferred.await(started)
  yield* Effect.sleep("300 millis")
  yield* Fiber.interrupt(printer)
  yield* Console.log("\nInterrupted: the generation was cancelled")
})

program.pipe(
  Effect.provide(NovelAIClient.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
  NodeRuntime.runMain
)
