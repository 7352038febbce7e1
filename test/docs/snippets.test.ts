/**
 * The snippets of the README and the guides in docs/, run as written against the simulator: each
 * test imports the page's own text (see `importSnippet`), so a snippet that stops working, or
 * disappears, fails here. (Every snippet is also type-checked in a user's project by
 * `.ci/check-snippets.mjs`.)
 */
import { FetchHttpClient } from "@effect/platform"
import { expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, LogLevel } from "effect"
import { type NovelAI, NovelAIClient, type NovelAIError } from "effect-novelai"
import { NovelAISimulator, type Simulator, layerSimulator as simulatorLayer } from "effect-novelai/testing"
import { vi } from "vitest"
import { importSnippet } from "../support.js"

/** Runs `body` with NOVELAI_API_KEY and NOVELAI_BASE_URL pointing at `sim`, as a reader's shell would. */
const withEnv = async <A>(sim: { apiKey: string; url: string }, body: () => Promise<A>): Promise<A> => {
  const before = { key: process.env.NOVELAI_API_KEY, url: process.env.NOVELAI_BASE_URL }
  process.env.NOVELAI_API_KEY = sim.apiKey
  process.env.NOVELAI_BASE_URL = sim.url
  try {
    return await body()
  } finally {
    for (const [name, value] of [
      ["NOVELAI_API_KEY", before.key],
      ["NOVELAI_BASE_URL", before.url]
    ] as const) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/** What `body` printed with console.log, console.error and process.stdout.write. */
const printed = async (body: () => Promise<unknown>) => {
  const out = { log: [] as Array<string>, error: [] as Array<string>, stdout: [] as Array<string> }
  const spies = [
    vi.spyOn(console, "log").mockImplementation((...args) => void out.log.push(args.join(" "))),
    vi.spyOn(console, "error").mockImplementation((...args) => void out.error.push(args.join(" "))),
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out.stdout.push(String(chunk))
      return true
    })
  ]
  try {
    await body()
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
  return out
}

const words = (text: string) => text.split(/\s+/).filter((w) => w !== "").length

/** A client on the simulator of the test, without retries unless asked. */
const clientOn = (sim: { apiKey: string; url: string }, options: Partial<NovelAIClient.Options> = {}) =>
  NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 0, ...options }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )

/** The logs `effect` writes, as their messages. */
const capturingLogs = (logs: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ message }) => logs.push(String(message)))
  )

it.live("README: the first call from Promises catches a RateLimitError, then prints the story", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    // The chat meets three 429s (its two retries included; the server says to retry at once), then
    // the stream goes through.
    for (let i = 0; i < 3; i++) sim.enqueueFault({ kind: "rate-limit", retryAfterMs: 1 })
    const out = yield* Effect.promise(() =>
      withEnv(sim, () => printed(() => importSnippet("README.md", "// Promise style")))
    )
    expect(out.error).toEqual(["Rate limit exceeded"])
    expect(words(out.stdout.join(""))).toBeGreaterThan(10)
    expect(sim.requests.map((r) => r.status)).toEqual([429, 429, 429, 200])
  }).pipe(Effect.provide(simulatorLayer()))
)

it.live("README: the catchTags snippet logs the wait a RateLimitError carries", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    const { safe } = yield* Effect.promise(() =>
      importSnippet<{ safe: Effect.Effect<unknown, NovelAIError, NovelAIClient.NovelAIClient> }>(
        "README.md",
        "Effect.catchTags({",
        {
          given: `import { Duration, Effect } from "effect"\nimport { OpenAI } from "effect-novelai"`,
          exports: ["safe"]
        }
      )
    )
    const logs: Array<string> = []
    sim.enqueueFault({ kind: "rate-limit", retryAfterSeconds: 2 })
    yield* safe.pipe(
      Effect.provide(clientOn(sim)),
      Effect.provide(capturingLogs(logs)),
      Logger.withMinimumLogLevel(LogLevel.Info)
    )
    expect(logs).toEqual(["Busy, retry in 2s"])
  }).pipe(Effect.provide(simulatorLayer()))
)

it.live(
  "promises.md: the Effect-style program prints the reply and the story, and logs a RateLimitError",
  () =>
    Effect.gen(function* () {
      const sim = yield* NovelAISimulator
      const { program } = yield* Effect.promise(() =>
        importSnippet<{ program: Effect.Effect<void, never, NovelAIClient.NovelAIClient> }>(
          "docs/promises.md",
          "// Effect style",
          { exports: ["program"] }
        )
      )
      const out = yield* Effect.promise(() =>
        printed(() => Effect.runPromise(program.pipe(Effect.provide(clientOn(sim)))))
      )
      expect(out.log).toHaveLength(1)
      expect(words(out.log[0]!)).toBeGreaterThan(3)
      expect(words(out.stdout.join(""))).toBeGreaterThan(10)

      const logs: Array<string> = []
      sim.enqueueFault({ kind: "rate-limit" })
      yield* program.pipe(Effect.provide(clientOn(sim)), Effect.provide(capturingLogs(logs)))
      expect(logs).toEqual(["Rate limit exceeded"])
    }).pipe(Effect.provide(simulatorLayer()))
)

it.live("client.md: layerConfig reads the app's own configuration names", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    const { NovelAILive, nightly } = yield* Effect.promise(() =>
      importSnippet<{
        NovelAILive: Layer.Layer<NovelAIClient.NovelAIClient, unknown>
        nightly: Effect.Effect<number, NovelAIError, NovelAIClient.NovelAIClient>
      }>("docs/client.md", "STORYBOT_NOVELAI_KEY", {
        given: [
          `import { NodeHttpClient } from "@effect/platform-node"`,
          `import { Config, Layer } from "effect"`,
          `import { NovelAIClient, OpenAI } from "effect-novelai"`,
          `const storyPipeline = OpenAI.tokenCount({ prompt: "Hello" })`
        ].join("\n"),
        exports: ["NovelAILive", "nightly"]
      })
    )
    // The key under the app's name only; STORYBOT_TIMEOUT unset, so its default applies.
    const config = Layer.setConfigProvider(
      ConfigProvider.fromMap(
        new Map([
          ["STORYBOT_NOVELAI_KEY", sim.apiKey],
          ["NOVELAI_BASE_URL", sim.url]
        ])
      )
    )
    expect(yield* nightly.pipe(Effect.provide(NovelAILive.pipe(Layer.provide(config))))).toBe(1)
  }).pipe(Effect.provide(simulatorLayer()))
)

it.live(
  "reliability.md: the options and per-call overrides work as written, and no call meets the lock",
  () =>
    Effect.gen(function* () {
      const sim = yield* NovelAISimulator
      const { NovelAILive, quick, reply } = yield* Effect.promise(() =>
        importSnippet<{
          NovelAILive: Layer.Layer<NovelAIClient.NovelAIClient>
          quick: Effect.Effect<number, NovelAIError, NovelAIClient.NovelAIClient>
          reply: Effect.Effect<unknown, NovelAIError, NovelAIClient.NovelAIClient>
        }>("docs/reliability.md", "const quick = ", {
          given: [
            `import { NodeHttpClient } from "@effect/platform-node"`,
            `import { Layer, Schedule } from "effect"`,
            `import { NovelAIClient, OpenAI, Retry } from "effect-novelai"`,
            `const messages = [{ role: "user" as const, content: "Hello" }]`
          ].join("\n"),
          exports: ["NovelAILive", "quick", "reply"]
        })
      )
      const config = Layer.setConfigProvider(
        ConfigProvider.fromMap(
          new Map([
            ["NOVELAI_API_KEY", sim.apiKey],
            ["NOVELAI_BASE_URL", sim.url]
          ])
        )
      )
      const [count, replies] = yield* Effect.all([
        quick,
        Effect.all([reply, reply, reply], { concurrency: 3 })
      ]).pipe(Effect.provide(NovelAILive.pipe(Layer.provide(config))))
      expect(count).toBe(1)
      expect(replies).toHaveLength(3)
      // Three generations at once on one client: queued by its generation gate, never locked.
      expect(sim.requests.filter((r) => r.status === 429)).toEqual([])
    }).pipe(Effect.provide(simulatorLayer()))
)

it.live("reliability.md: one gate shared by the facade and a layer keeps their generations apart", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    const shared = yield* Effect.promise(() =>
      withEnv(sim, () =>
        importSnippet<{
          promises: NovelAI
          NovelAIShared: Layer.Layer<NovelAIClient.NovelAIClient>
        }>("docs/reliability.md", "makeGenerationGate()", {
          given: [
            `import { NodeHttpClient } from "@effect/platform-node"`,
            `import { Layer } from "effect"`,
            `import { NovelAI, NovelAIClient } from "effect-novelai"`
          ].join("\n"),
          exports: ["gate", "promises", "NovelAIShared"]
        })
      )
    )
    // Long enough replies (20 ms a chunk) that the two calls overlap.
    const messages = [{ role: "user" as const, content: "Hello" }]
    const fromLayer = Effect.gen(function* () {
      const client = yield* NovelAIClient.NovelAIClient
      return yield* client.openai.chatCompletion({ messages, maxTokens: 10 }, { maxRetries: 0, lockWait: 0 })
    })
    yield* Effect.promise(() =>
      withEnv(sim, () =>
        Promise.all([
          shared.promises.openai.chatCompletion({ messages, maxTokens: 10 }, { maxRetries: 0, lockWait: 0 }),
          Effect.runPromise(fromLayer.pipe(Effect.provide(shared.NovelAIShared)))
        ])
      )
    )
    yield* Effect.promise(() => shared.promises.close())
    // The simulator, as NovelAI, runs one generation per key: two clients without the shared gate
    // would have met its 429.
    expect(sim.requests.map((r) => r.status)).toEqual([200, 200])
  }).pipe(Effect.provide(simulatorLayer({ chunkDelayMs: 20 })))
)

it.live("openai.md: every call of the endpoint tour answers as its comment says", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    type Call = Effect.Effect<any, NovelAIError, NovelAIClient.NovelAIClient>
    const tour = yield* Effect.promise(() =>
      importSnippet<Record<string, Call>>("docs/openai.md", "OpenAI.listModels()", {
        exports: ["models", "completion", "chat", "printStory", "wholeCompletion", "wholeChat", "count"]
      })
    )
    const run = <A>(call: Effect.Effect<A, NovelAIError, NovelAIClient.NovelAIClient>) =>
      Effect.runPromise(call.pipe(Effect.provide(clientOn(sim))))
    const models = yield* Effect.promise(() => run(tour.models!))
    expect(models.map((m: { id: string }) => m.id)).toContain("glm-4-6")
    const completion = yield* Effect.promise(() => run(tour.completion!))
    expect(words(completion.choices[0].text)).toBeGreaterThan(3)
    const chat = yield* Effect.promise(() => run(tour.chat!))
    expect(words(chat.choices[0].message.content)).toBeGreaterThan(3)
    const story = yield* Effect.promise(() => printed(() => run(tour.printStory!)))
    expect(words(story.stdout.join(""))).toBeGreaterThan(3)
    const wholeCompletion = yield* Effect.promise(() => run(tour.wholeCompletion!))
    expect(wholeCompletion.object).toBe("text_completion")
    const wholeChat = yield* Effect.promise(() => run(tour.wholeChat!))
    expect(wholeChat.object).toBe("chat.completion")
    expect(yield* Effect.promise(() => run(tour.count!))).toBeGreaterThan(0)
  }).pipe(Effect.provide(simulatorLayer()))
)

it.live("openai.md: with thinking on, textDeltas gives the answer without the thinking", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    const { answer } = yield* Effect.promise(() =>
      importSnippet<{ answer: Effect.Effect<string, NovelAIError, NovelAIClient.NovelAIClient> }>(
        "docs/openai.md",
        "enableThinking: true",
        {
          given: `import { Stream } from "effect"\nimport { OpenAI } from "effect-novelai"`,
          exports: ["answer"]
        }
      )
    )
    const text = yield* answer.pipe(Effect.provide(clientOn(sim)))
    expect(words(text)).toBeGreaterThan(3)
    expect(text).not.toMatch(/<\/?think>/)
    // The simulator, as GLM, did think inline: the request asked for it.
    expect(sim.requests.at(-1)?.body).toMatchObject({ enable_thinking: true })
  }).pipe(Effect.provide(simulatorLayer()))
)

it.live("native.md: Erato continues the story, streams, and counts Hello world as 2 tokens", () =>
  Effect.gen(function* () {
    const sim = yield* NovelAISimulator
    type Call = Effect.Effect<any, NovelAIError, NovelAIClient.NovelAIClient>
    const tour = yield* Effect.promise(() =>
      importSnippet<Record<string, Call>>("docs/native.md", "Text.generate({", {
        exports: ["next", "printed", "tokens"]
      })
    )
    const run = <A>(call: Effect.Effect<A, NovelAIError, NovelAIClient.NovelAIClient>) =>
      Effect.runPromise(call.pipe(Effect.provide(clientOn(sim))))
    const next = yield* Effect.promise(() => run(tour.next!))
    expect(words(next.output)).toBeGreaterThan(3)
    const streamed = yield* Effect.promise(() => printed(() => run(tour.printed!)))
    expect(words(streamed.stdout.join(""))).toBeGreaterThan(3)
    expect(yield* Effect.promise(() => run(tour.tokens!))).toBe(2)
  }).pipe(Effect.provide(simulatorLayer()))
)

// simulator.md: the test written with the simulator's layer is itself a test; importing the page's
// snippet registers it here.
await importSnippet("docs/simulator.md", 'it.live("retries the locked generation"')

it("simulator.md: the plain start function starts a simulator and closes it", async () => {
  const { sim } = await importSnippet<{ sim: Simulator }>("docs/simulator.md", "await startSimulator(", {
    exports: ["sim"]
  })
  expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  expect(sim.openConnections()).toBe(0)
  // It is closed: a request to it is refused.
  await expect(fetch(`${sim.url}/oa/v1/models`)).rejects.toThrow()
})
