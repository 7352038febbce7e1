/**
 * `@effect/ai`'s `generateObject` with NovelAI: a typed value from a Schema. NovelAI has no JSON
 * mode, so the provider tells the model the JSON Schema and makes the reply start with "{"; a reply
 * that does not decode fails with `MalformedOutput`, which is retried here.
 */
import { LanguageModel } from "@effect/ai"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Schema } from "effect"
import { NovelAIClient } from "effect-novelai"
import { NovelAILanguageModel } from "effect-novelai/ai"
import { layerSimulatorWithClient } from "effect-novelai/testing"

const Character = Schema.Struct({
  name: Schema.String,
  species: Schema.String,
  age: Schema.Number,
  traits: Schema.Array(Schema.String)
}).annotations({ identifier: "Character", description: "A character for a fable" })

const program = Effect.gen(function* () {
  const { value } = yield* LanguageModel.generateObject({
    prompt: "Invent the hero of a fable set in a forest.",
    schema: Character
  }).pipe(Effect.retry({ times: 2, while: (error) => error._tag === "MalformedOutput" }))
  yield* Console.log(`${value.name}, a ${value.species} of ${value.age}: ${value.traits.join(", ")}`)
})

const Client = (process.env.NOVELAI_API_KEY ? NovelAIClient.layerConfig() : layerSimulatorWithClient()).pipe(
  Layer.provide(NodeHttpClient.layerUndici)
)

program.pipe(
  Effect.provide(NovelAILanguageModel.model("glm-4-6", { maxTokens: 300 })),
  Effect.provide(Client),
  NodeRuntime.runMain
)
