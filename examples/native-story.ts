/**
 * Continue a story with NovelAI's own storytelling model, Llama 3 Erato, on the native API: the
 * continuation streams as it is written and stops at the end of the sentence (a stop sequence given
 * as text, tokenized for Erato before sending).
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import { NovelAIClient, Text } from "effect-novelai"

const story = "The lighthouse keeper had not seen a ship in forty days. On the forty-first morning,"

const program = Effect.gen(function* () {
  const tokens = yield* Text.tokenCount({ input: story, model: "llama-3-erato-v1" })
  yield* Console.log(`${story} [${tokens} tokens]`)
  let written = 0
  yield* Text.generateStream({
    input: story,
    model: "llama-3-erato-v1",
    maxLength: 80,
    temperature: 1.05,
    minP: 0.05,
    repetitionPenalty: 1.1,
    order: ["temperature", "minP"],
    stopSequences: ["."]
  }).pipe(
    Stream.tap(() => Effect.sync(() => written++)),
    Text.textDeltas,
    Stream.runForEach((text) => Effect.sync(() => process.stdout.write(text)))
  )
  yield* Console.log(`\n(${written} tokens, to the end of the sentence)`)
})

program.pipe(
  Effect.provide(NovelAIClient.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
  NodeRuntime.runMain
)
