/**
 * No 429 at all: a client runs one generation at a time (what NovelAI allows per account) and
 * queues the rest, and a `rateLimit` caps requests per interval. Two clients of the same key, here
 * an Effect layer and the Promise facade, share one queue through a generation gate.
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { NovelAI, NovelAIClient, OpenAI } from "effect-novelai"

const gate = NovelAIClient.makeGenerationGate()
const facade = new NovelAI({ generationGate: gate })

const program = Effect.gen(function* () {
  // Ten at once from the Effect client, and five from the facade, at the same time.
  const [replies, fromFacade] = yield* Effect.all(
    [
      Effect.all(
        Array.from({ length: 10 }, (_, i) =>
          OpenAI.chatCompletion({
            messages: [{ role: "user", content: `Story ${i}` }],
            maxTokens: 8,
            seed: i
          })
        ),
        { concurrency: "unbounded" }
      ),
      Effect.promise(() =>
        Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            facade.openai.completion({ prompt: `Poem ${i}`, maxTokens: 8 }, { maxRetries: 0 })
          )
        )
      )
    ],
    { concurrency: "unbounded" }
  )
  yield* Console.log(`${replies.length + fromFacade.length} of 15 calls succeeded, none rate limited`)
}).pipe(Effect.ensuring(Effect.promise(() => facade.close())))

program.pipe(
  Effect.provide(
    NovelAIClient.layerConfig({
      generationGate: gate,
      rateLimit: { limit: 20, interval: "1 second" },
      maxRetries: 0
    }).pipe(Layer.provide(NodeHttpClient.layerUndici))
  ),
  NodeRuntime.runMain
)
