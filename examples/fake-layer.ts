/**
 * Testing code that uses the client without any server: swap in a fake HttpClient layer that
 * answers from a function and records what was sent. (Use `effect-novelai/testing`'s simulator
 * when you want a real socket.)
 */
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { Console, Effect, Layer } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"

// The code under test: summarise a text in one line.
const summarise = (text: string) =>
  OpenAI.chatCompletion({
    messages: [{ role: "user", content: `Summarise in one line: ${text}` }],
    maxTokens: 30
  }).pipe(Effect.map((reply) => reply.choices[0]!.message.content))

const sent: Array<unknown> = []
const FakeHttp = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make((request) => {
    if (request.body._tag === "Uint8Array") sent.push(JSON.parse(new TextDecoder().decode(request.body.body)))
    const reply = {
      id: "fake",
      object: "chat.completion",
      created: 0,
      model: "glm-4-6",
      choices: [
        { index: 0, message: { role: "assistant", content: "A fox finds a letter." }, finish_reason: "stop" }
      ]
    }
    return Effect.succeed(HttpClientResponse.fromWeb(request, Response.json(reply)))
  })
)
const TestClient = NovelAIClient.layer({ apiKey: "pst-test" }).pipe(Layer.provide(FakeHttp))

const test = Effect.gen(function* () {
  const summary = yield* summarise("Once upon a time, a small fox...")
  if (summary !== "A fox finds a letter.") return yield* Effect.dieMessage(`unexpected summary: ${summary}`)
  const body = sent[0] as { max_tokens: number; model: string }
  if (body.max_tokens !== 30 || body.model !== "glm-4-6")
    return yield* Effect.dieMessage("unexpected request body")
  yield* Console.log(`ok: summary "${summary}", sent max_tokens=${body.max_tokens} model=${body.model}`)
})

Effect.runPromise(test.pipe(Effect.provide(TestClient)))
