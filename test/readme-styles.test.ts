/** The README's side-by-side Promise and Effect snippets, run against the simulator. */
import { FetchHttpClient } from "@effect/platform"
import { expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Logger, LogLevel, Stream } from "effect"
import { NovelAI, NovelAIClient, OpenAI, RateLimitError } from "effect-novelai"
import { NovelAISimulator, layerSimulator as simulatorLayer } from "effect-novelai/testing"

it.live("Promise style", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    const out: Array<string> = []
    const errors: Array<string> = []
    yield* Effect.promise(async () => {
      const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0 })
      sim.enqueueFault({ kind: "rate-limit" })
      try {
        const reply = await client.openai.chatCompletion({ messages: [{ role: "user", content: "Hello!" }] })
        out.push(reply.choices[0]!.message.content)
      } catch (error) {
        if (error instanceof RateLimitError) errors.push("Rate limit exceeded")
      }
      for await (const chunk of client.openai.chatCompletionStream({
        messages: [{ role: "user", content: "Tell me a story" }]
      })) {
        out.push(chunk.choices[0]?.delta?.content ?? "")
      }
      await client.close()
    })
    expect(errors).toEqual(["Rate limit exceeded"])
    expect(out.join("").split(" ").length).toBeGreaterThan(10)
  }).pipe(Effect.provide(simulatorLayer()))
)

it.live("Effect style, and the catchTags snippet", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    const out: Array<string> = []
    const logs: Array<string> = []
    const program = Effect.gen(function* () {
      const reply = yield* OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hello!" }] })
      out.push(reply.choices[0]!.message.content)
      yield* OpenAI.chatCompletionStream({ messages: [{ role: "user", content: "Tell me a story" }] }).pipe(
        OpenAI.textDeltas,
        Stream.runForEach((text) => Effect.sync(() => out.push(text)))
      )
    }).pipe(Effect.catchTag("RateLimitError", () => Effect.logError("Rate limit exceeded")))

    const safe = OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }).pipe(
      Effect.catchTags({
        AuthenticationError: (e) => Effect.logError(`Check NOVELAI_API_KEY: ${e.message}`),
        RateLimitError: (e) =>
          Effect.logWarning(`Busy, retry in ${e.retryAfter ? Duration.format(e.retryAfter) : "a moment"}`)
      })
    )
    const live = NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0 }).pipe(
      Layer.provide(FetchHttpClient.layer)
    )
    const capture = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ message }) => logs.push(String(message)))
    )
    yield* program.pipe(Effect.provide(live))
    sim.enqueueFault({ kind: "rate-limit", retryAfterSeconds: 2 })
    yield* safe.pipe(Effect.provide(live), Effect.provide(capture), Logger.withMinimumLogLevel(LogLevel.Info))
    expect(out.join("").split(" ").length).toBeGreaterThan(10)
    expect(logs).toEqual(["Busy, retry in 2s"])
  }).pipe(Effect.provide(simulatorLayer()))
)
