/**
 * What the real NovelAI does (as public client code found it; see the README's "What NovelAI really
 * does"), end to end over a real socket: each behaviour against the simulator as NovelAI behaves
 * (its default) and as a well-behaved server would (`quirks: false`). The client must give the same
 * result either way.
 */
import { FetchHttpClient } from "@effect/platform"
import { afterEach, describe, expect, it, vi } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"
import { type Simulator, startSimulator } from "effect-novelai/testing"
import { withSimulator } from "../support.js"

afterEach(() => {
  vi.unstubAllGlobals()
})

const hi = { messages: [{ role: "user" as const, content: "Tell me a story" }] }

const raw = (sim: Simulator, path: string, body: unknown, key = sim.apiKey) =>
  Effect.promise(async () => {
    const response = await fetch(`${sim.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body)
    })
    return { status: response.status, text: await response.text() }
  })

describe.each([
  ["as NovelAI does", true],
  ["well-behaved", false]
] as const)("against the simulator %s", (_, quirks) => {
  it.live("chatCompletion gives the model's reply; collectStream: false gives the server's answer", () =>
    withSimulator({ quirks }, {}, (sim) =>
      Effect.gen(function* () {
        const reply = yield* OpenAI.chatCompletion(hi)
        const streamed = yield* OpenAI.chatCompletionStream(hi).pipe(OpenAI.textDeltas, Stream.mkString)
        expect(reply.choices[0]!.message.content).toBe(streamed)
        expect(streamed.length).toBeGreaterThan(20)
        expect(reply.usage?.completion_tokens).toBeGreaterThan(0)
        // One request, streamed.
        expect(sim.requests[0]!.body).toMatchObject({ stream: true })
        const plain = yield* OpenAI.chatCompletion(hi, { collectStream: false })
        expect(sim.requests[2]!.body).not.toHaveProperty("stream", true)
        // NovelAI's non-streaming chat answers with no text; a well-behaved server with the reply.
        expect(plain.choices[0]!.message.content).toBe(quirks ? "" : streamed)
        // Completions are asked plainly by default, and give the same text as their stream.
        const whole = yield* OpenAI.completion({ prompt: "Once" })
        const text = yield* OpenAI.completionStream({ prompt: "Once" }).pipe(
          OpenAI.textDeltas,
          Stream.mkString
        )
        expect(sim.requests[3]!.body).not.toHaveProperty("stream", true)
        expect(whole.choices[0]!.text).toBe(text)
      })
    )
  )

  it.live("one generation at a time by default, and the lock of a cancelled one waited out", () =>
    withSimulator({ quirks, chunkDelayMs: 10 }, { headers: { "x-simulator-tokens": "20" } }, (sim) =>
      Effect.gen(function* () {
        // Three at once from one client: queued, so the server never refuses one.
        const replies = yield* Effect.all(
          [OpenAI.chatCompletion(hi), OpenAI.completion({ prompt: "x" }), OpenAI.chatCompletion(hi)],
          { concurrency: "unbounded" }
        )
        expect(replies).toHaveLength(3)
        expect(sim.requests.map((r) => r.status)).toEqual([200, 200, 200])
        // A stream given up after three chunks; its generation would run for 200 ms.
        yield* OpenAI.chatCompletionStream(hi).pipe(Stream.take(3), Stream.runDrain)
        if (quirks) {
          // NovelAI keeps the lock: the next call meets a 429 and waits it out.
          expect(sim.activeGenerations()).toBe(1)
        } else {
          yield* Effect.promise(() => vi.waitFor(() => expect(sim.activeGenerations()).toBe(0)))
        }
        const after = yield* OpenAI.chatCompletion(hi)
        expect(after.choices[0]!.message.content.length).toBeGreaterThan(0)
        expect(sim.requests.slice(4).map((r) => r.status)).toEqual(quirks ? [429, 200] : [200])
      })
    )
  )

  it.live("text parts are sent as one string; an image is refused before anything is sent", () =>
    withSimulator({ quirks }, {}, (sim) =>
      Effect.gen(function* () {
        const reply = yield* OpenAI.chatCompletion({
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "Tell me" },
                { type: "text", text: "a story" }
              ]
            }
          ]
        })
        expect(reply.choices[0]!.message.content.length).toBeGreaterThan(0)
        expect(sim.requests[0]!.body).toMatchObject({ messages: [{ content: "Tell me\na story" }] })
        const refused = yield* OpenAI.chatCompletion({
          messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] as never }]
        }).pipe(Effect.flip)
        expect(refused._tag).toBe("InvalidRequestError")
        expect(refused.message).toMatch(/messages\[0\]\.content.*part 0 is a part of type "image_url"/)
        expect(sim.requests).toHaveLength(1)
        // What a client that sends the array gets.
        const answer = yield* raw(sim, "/oa/v1/chat/completions", {
          model: "glm-4-6",
          messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }]
        })
        if (quirks) {
          expect(answer.status).toBe(400)
          expect(answer.text).toMatch(/cannot unmarshal array into Go struct field .* of type string/)
        } else {
          expect(answer.status).toBe(200)
        }
      })
    )
  )

  it.live(
    "the documented parameters go out in snake_case; matched_stop, stop_reason and logprobs come back",
    () =>
      withSimulator({ quirks }, {}, (sim) =>
        Effect.gen(function* () {
          const first = yield* OpenAI.completion({ prompt: "Once", maxTokens: 30 })
          const words = first.choices[0]!.text.split(" ")
          const stop = ` ${words[3]}`
          const completion = yield* OpenAI.completion({
            prompt: "Once",
            maxTokens: 30,
            stop: [stop],
            logprobs: 2,
            logitBias: { "42": -100 },
            bestOf: 1,
            echo: false,
            suffix: "",
            user: "u-1",
            generationPrefix: "Once"
          })
          expect(sim.requests[1]!.body).toMatchObject({
            stop: [stop],
            logprobs: 2,
            logit_bias: { "42": -100 },
            best_of: 1,
            echo: false,
            suffix: "",
            user: "u-1",
            generation_prefix: "Once"
          })
          const choice = completion.choices[0]!
          expect(choice.finish_reason).toBe("stop")
          expect(choice.logprobs).toMatchObject({ tokens: expect.any(Array) })
          if (quirks) expect(choice).toMatchObject({ matched_stop: stop, stop_reason: stop })
          else expect(choice.matched_stop).toBeUndefined()
          // Chat takes n, and a collected stream keeps each choice's fields.
          const chat = yield* OpenAI.chatCompletion({ ...hi, n: 2, maxTokens: 8, logprobs: 1 })
          expect(sim.requests[2]!.body).toMatchObject({ n: 2, logprobs: 1, stream: true })
          expect(chat.choices.map((c) => c.index)).toEqual([0, 1])
          expect(chat.choices[1]!.finish_reason).toBe("length")
          expect(chat.choices[0]!.logprobs).toMatchObject({ content: expect.any(Array) })
          // Out of range: refused before sending.
          const refused = yield* OpenAI.completion({ prompt: "x", logprobs: 21 }).pipe(Effect.flip)
          expect(refused).toMatchObject({ _tag: "InvalidRequestError" })
          expect(sim.requests).toHaveLength(3)
        })
      )
  )

  it.live("thinking: the answer apart from the thinking, streamed or whole, asked for or not", () =>
    withSimulator({ quirks }, {}, (sim) =>
      Effect.gen(function* () {
        const thinking = { ...hi, enableThinking: true, maxTokens: 40 }
        const whole = yield* OpenAI.chatCompletion(thinking)
        expect(whole.choices[0]!.message.reasoning_content).toBe(
          "The user wants a short story. Keep it gentle."
        )
        expect(whole.choices[0]!.message.content).toMatch(/^[A-Z]\w+ /)
        const answer = yield* OpenAI.chatCompletionStream(thinking).pipe(OpenAI.textDeltas, Stream.mkString)
        const reasoning = yield* OpenAI.chatCompletionStream(thinking).pipe(
          OpenAI.reasoningDeltas,
          Stream.mkString
        )
        expect(answer).toBe(whole.choices[0]!.message.content)
        expect(reasoning).toBe(whole.choices[0]!.message.reasoning_content)
        // enableThinking: false is sent as asked.
        yield* OpenAI.chatCompletion({ ...hi, enableThinking: false })
        expect(sim.requests[3]!.body).toMatchObject({ enable_thinking: false })
        // Prompts for which GLM thinks unasked (about one in five): the thinking is split out all the same.
        const unasked = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, seed) => seed),
          (seed) => OpenAI.chatCompletion({ ...hi, seed, enableThinking: false, maxTokens: 20 })
        )
        const thought = unasked.filter((r) => r.choices[0]!.message.reasoning_content !== undefined)
        if (quirks) expect(thought.length).toBeGreaterThan(0)
        else expect(thought).toEqual([])
        for (const reply of unasked) expect(reply.choices[0]!.message.content).not.toContain("think>")
        // A stray </think> in completions, whole or streamed, is dropped.
        const completions = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, seed) => seed),
          (seed) =>
            Effect.zip(
              OpenAI.completion({ prompt: "Once", seed, maxTokens: 6 }),
              OpenAI.completionStream({ prompt: "Once", seed, maxTokens: 6 }).pipe(
                OpenAI.textDeltas,
                Stream.mkString
              )
            )
        )
        for (const [c, streamed] of completions) {
          expect(c.choices[0]!.text).not.toContain("</think>")
          expect(streamed).toBe(c.choices[0]!.text)
        }
        // What the server sent for those.
        const sent = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, seed) => seed),
          (seed) => raw(sim, "/oa/v1/completions", { model: "glm-4-6", prompt: "Once", seed, max_tokens: 6 })
        )
        expect(sent.filter((answer) => answer.text.includes("</think>")).length > 0).toBe(quirks)
      })
    )
  )

  it.live("the model list is the account's; xialong-v1 is for Opus; a free key may not generate", () =>
    withSimulator(
      {
        quirks,
        apiKeys: ["pst-scroll", { key: "pst-opus", tier: "opus" }, { key: "pst-free", tier: "free" }]
      },
      {},
      (sim) =>
        Effect.gen(function* () {
          const as = (key: string) =>
            Effect.provide(
              NovelAIClient.layer({ apiKey: key, baseUrl: sim.url, maxRetries: 0 }).pipe(
                Layer.provide(FetchHttpClient.layer)
              )
            )
          const ids = (key: string) =>
            OpenAI.listModels().pipe(
              Effect.map((models) => models.map((m) => m.id)),
              as(key)
            )
          expect(yield* ids("pst-scroll")).toEqual(["glm-4-5", "glm-4-6"])
          expect(yield* ids("pst-opus")).toEqual(["glm-4-5", "glm-4-6", "xialong-v1"])
          const xialong = { ...hi, model: "xialong-v1", maxTokens: 5 }
          const reply = yield* OpenAI.chatCompletion(xialong).pipe(as("pst-opus"))
          expect(reply.model).toBe("xialong-v1")
          const tier = yield* OpenAI.chatCompletion(xialong).pipe(as("pst-scroll"), Effect.flip)
          expect(tier).toMatchObject({ _tag: "InvalidRequestError", status: 409 })
          expect(tier.message).toMatch(/^The model is not available to this key's subscription tier: /)
          const free = yield* OpenAI.chatCompletion(hi).pipe(as("pst-free"), Effect.flip)
          expect(free).toMatchObject({ _tag: "AuthenticationError", status: 402 })
          expect(free.message).toMatch(/^An active NovelAI subscription is required: /)
          // The default model stays glm-4-6.
          yield* OpenAI.chatCompletion({ ...hi, maxTokens: 3 }).pipe(as("pst-opus"))
          expect(sim.requests.at(-1)!.body).toMatchObject({ model: "glm-4-6" })
        })
    )
  )

  it.live("an error answering a stream carries the server's message, SSE-framed or not", () =>
    withSimulator({ quirks }, { maxRetries: 0, lockWait: 0 }, (sim) =>
      Effect.gen(function* () {
        const framed = yield* raw(sim, "/oa/v1/chat/completions", { ...hi, model: "nope", stream: true })
        expect(framed.status).toBe(404)
        expect(framed.text.startsWith("data: {")).toBe(quirks)
        const missing = yield* OpenAI.chatCompletionStream({ ...hi, model: "nope" }).pipe(
          Stream.runDrain,
          Effect.flip
        )
        expect(missing).toMatchObject({
          _tag: "InvalidRequestError",
          status: 404,
          message: "Model not found: nope"
        })
        sim.enqueueFault({ kind: "rate-limit" })
        const limited = yield* OpenAI.chatCompletionStream(hi).pipe(Stream.runDrain, Effect.flip)
        expect(limited).toMatchObject({ _tag: "RateLimitError", message: "Too many requests (simulated)" })
      })
    )
  )

  it.live("CORS: any origin, and only Authorization and Content-Type; a browser client sends no other", () =>
    Effect.gen(function* () {
      const sim = yield* Effect.acquireRelease(
        Effect.promise(() => startSimulator({ quirks })),
        (sim) => Effect.promise(() => sim.close())
      )
      const preflight = (headers: string) =>
        Effect.promise(() =>
          fetch(`${sim.url}/oa/v1/chat/completions`, {
            method: "OPTIONS",
            headers: {
              origin: "https://app.example",
              "access-control-request-method": "POST",
              "access-control-request-headers": headers
            }
          }).then((r) => ({ status: r.status, origin: r.headers.get("access-control-allow-origin") }))
        )
      expect(yield* preflight("authorization,content-type")).toEqual({ status: 204, origin: "*" })
      expect((yield* preflight("authorization,content-type,user-agent")).status).toBe(quirks ? 403 : 204)

      // A page's fetch of its own, for the headers any fetch sends.
      yield* raw(sim, "/oa/v1/internal/token-count", { model: "glm-4-6", prompt: "x" })
      const baseline = sim.requests.at(-1)!.headers
      // The client built in a (pretend) page, then the same on a server.
      vi.stubGlobal("document", {})
      const inPage = NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url }).pipe(
        Layer.provide(FetchHttpClient.layer)
      )
      yield* OpenAI.tokenCount({ prompt: "x" }).pipe(Effect.provide(inPage))
      const page = sim.requests.at(-1)!.headers
      vi.unstubAllGlobals()
      expect(Object.keys(page).sort()).toEqual(Object.keys(baseline).sort())
      expect(page["user-agent"]).toBe(baseline["user-agent"])
      yield* OpenAI.tokenCount({ prompt: "x" }).pipe(
        Effect.provide(
          NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      expect(sim.requests.at(-1)!.headers["user-agent"]).toMatch(/^effect-novelai\//)
    }).pipe(Effect.scoped)
  )
})
