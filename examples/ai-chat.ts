/**
 * `@effect/ai` with NovelAI: a `Chat` that keeps its history over three turns, each streamed as it
 * is written. With NOVELAI_API_KEY set it talks to NovelAI (or NOVELAI_BASE_URL); without it, to
 * the bundled simulator. Swapping in another provider's model is the one line marked below.
 */
import { Chat } from "@effect/ai"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import { NovelAIClient } from "effect-novelai"
import { NovelAILanguageModel } from "effect-novelai/ai"
import { layerSimulatorWithClient } from "effect-novelai/testing"

const program = Effect.gen(function* () {
  const chat = yield* Chat.fromPrompt([{ role: "system", content: "You are a storyteller. Keep it short." }])
  for (const turn of ["Begin a story about a fox.", "What happens next?", "How does it end?"]) {
    yield* Console.log(`> ${turn}`)
    yield* chat
      .streamText({ prompt: turn })
      .pipe(
        Stream.runForEach((part) =>
          part.type === "text-delta" ? Effect.sync(() => process.stdout.write(part.delta)) : Effect.void
        )
      )
    yield* Console.log("\n")
  }
  const history = yield* chat.history
  yield* Console.log(`The chat holds ${history.content.length} messages.`)
})

// The model: the one line that differs from another provider's (`OpenAiLanguageModel.model("gpt-4o")`).
const Glm = NovelAILanguageModel.model("glm-4-6", { maxTokens: 60, temperature: 0.8 })

const Client = (
  process.env.NOVELAI_API_KEY ? NovelAIClient.layerConfig() : layerSimulatorWithClient({ chunkDelayMs: 5 })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

program.pipe(Effect.provide(Glm), Effect.provide(Client), NodeRuntime.runMain)
