/**
 * The main job (`npm start`): streams a chat completion to stdout, token by token.
 *
 * With NOVELAI_API_KEY set it talks to the real API (or NOVELAI_BASE_URL); without it, it starts the
 * bundled simulator on loopback and runs the very same program against it.
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"
import { layerSimulatorWithClient, NovelAISimulator } from "effect-novelai/testing"

const program = Effect.gen(function* () {
  const client = yield* NovelAIClient.NovelAIClient
  yield* Console.log(`Model ${client.defaultModel} at ${client.baseUrl}:\n`)
  yield* OpenAI.chatCompletionStream({
    messages: [
      { role: "system", content: "You are a storyteller." },
      { role: "user", content: "Tell me a short story about a fox and a lantern." }
    ],
    maxTokens: 80
  }).pipe(
    OpenAI.textDeltas,
    Stream.runForEach((text) => Effect.sync(() => process.stdout.write(text)))
  )
  yield* Console.log("\n")
})

const online = Layer.merge(
  NovelAIClient.layerConfig(),
  Layer.effectDiscard(Console.log("NOVELAI_API_KEY is set: talking to the NovelAI API."))
)

const offline = Layer.effectDiscard(
  Effect.flatMap(NovelAISimulator, (sim) =>
    Console.log(`No NOVELAI_API_KEY set: running offline against the local simulator at ${sim.url}.`)
  )
).pipe(Layer.provideMerge(layerSimulatorWithClient({ chunkDelayMs: 20 })))

const ClientLive = (process.env.NOVELAI_API_KEY ? online : offline).pipe(
  Layer.provide(NodeHttpClient.layerUndici)
)

program.pipe(Effect.provide(ClientLive), NodeRuntime.runMain)
