/**
 * A program composing several calls: pick a model, check the prompt's size, then ask two questions
 * one after the other and print both answers. Typed errors flow through; one handler covers them all.
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"

const ask = (model: string, question: string) =>
  OpenAI.chatCompletion({ model, messages: [{ role: "user", content: question }], maxTokens: 40 }).pipe(
    Effect.map((reply) => reply.choices[0]?.message.content.trim() ?? "")
  )

const program = Effect.gen(function* () {
  const models = yield* OpenAI.listModels()
  const model = models.find((m) => m.id === "glm-4-6")?.id ?? models[0]!.id
  yield* Console.log(`Models: ${models.map((m) => m.id).join(", ")}; using ${model}`)

  const question = "Where does the river in the old story go?"
  const tokens = yield* OpenAI.tokenCount({ prompt: question, model })
  yield* Console.log(`The question is ${tokens} tokens`)

  // NovelAI runs one generation per account at a time: ask in sequence, not in parallel.
  const [first, second] = yield* Effect.all([ask(model, question), ask(model, "And who found the letter?")])
  yield* Console.log(`Answer 1: ${first}`)
  yield* Console.log(`Answer 2: ${second}`)
}).pipe(
  Effect.catchTags({ AuthenticationError: (e) => Console.error(`Check NOVELAI_API_KEY: ${e.message}`) })
)

program.pipe(
  Effect.provide(NovelAIClient.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
  NodeRuntime.runMain
)
