import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { OpenAI, ResponseDecodeError } from "effect-novelai"
import { json, makeTestClient } from "../support.js"

/** A non-streaming chat (collectStream: false): how each shape of a whole answer is decoded. */
const chat = (body: unknown) =>
  OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }] }).pipe(
    Effect.provide(makeTestClient(() => json(body), { collectStream: false }).layer)
  )

describe("tolerant response decoding", () => {
  it.effect("chat.completion with extra fields and no usage", () =>
    Effect.gen(function* () {
      const result = yield* chat({
        id: "x",
        object: "chat.completion",
        created: 1,
        model: "glm-4-6",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: "Hi!" },
            finish_reason: "stop",
            token_ids: [1, 2],
            matched_stop: 151336
          }
        ],
        metadata: { weight_version: "default" },
        prompt_token_ids: null
      })
      // The fields clients read are surfaced (matched_stop); the others are dropped.
      expect(result.choices).toEqual([
        {
          index: 0,
          message: { role: "assistant", content: "Hi!" },
          finish_reason: "stop",
          matched_stop: 151336
        }
      ])
      expect(result.usage).toBeUndefined()
      expect(Object.keys(result)).not.toContain("metadata")
    })
  )

  it.effect("chunk-shaped non-streaming chat (delta.content or text) is normalised", () =>
    Effect.gen(function* () {
      const delta = yield* chat({
        id: "y",
        object: "chat.completion.chunk",
        created: 2,
        model: "glm-4-6",
        choices: [{ index: 0, delta: { content: "from delta" }, finish_reason: null }]
      })
      expect(delta.object).toBe("chat.completion")
      expect(delta.choices[0]!.message).toEqual({ role: "assistant", content: "from delta" })
      expect(delta.choices[0]!.finish_reason).toBeNull()
      const text = yield* chat({ object: "chat.completion.chunk", choices: [{ text: "from text" }] })
      expect(text.choices[0]!.message.content).toBe("from text")
      expect(text.choices[0]!.index).toBe(0)
    })
  )

  it.effect("reasoning as reasoning_content or inline <think> lands in reasoning_content", () =>
    Effect.gen(function* () {
      const field = yield* chat({
        choices: [{ message: { role: "assistant", content: "Answer", reasoning_content: "Because" } }]
      })
      expect(field.choices[0]!.message).toEqual({
        role: "assistant",
        content: "Answer",
        reasoning_content: "Because"
      })
      const inline = yield* chat({
        choices: [{ message: { content: "<think>Let me see</think>\n\nAnswer" } }]
      })
      expect(inline.choices[0]!.message).toEqual({
        role: "assistant",
        content: "Answer",
        reasoning_content: "Let me see"
      })
    })
  )

  it.effect("usage with missing counts is completed", () =>
    Effect.gen(function* () {
      const result = yield* chat({
        choices: [{ message: { content: "a" } }],
        usage: { prompt_tokens: 3, completion_tokens: 4 }
      })
      expect(result.usage).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })
    })
  )

  it.effect("model lists as { data } or a bare array", () =>
    Effect.gen(function* () {
      for (const body of [
        { object: "list", data: [{ id: "glm-4-6", owned_by: "novelai" }] },
        [{ id: "glm-4-6", owned_by: "novelai" }]
      ]) {
        const models = yield* OpenAI.listModels().pipe(Effect.provide(makeTestClient(() => json(body)).layer))
        expect(models).toHaveLength(1)
        expect(models[0]!.id).toBe("glm-4-6")
        expect(models[0]!.owned_by).toBe("novelai")
      }
    })
  )

  it.effect("every token-count shape gives the number", () =>
    Effect.gen(function* () {
      const shapes: ReadonlyArray<[unknown, number]> = [
        [{ length: 4, encoded: [1, 2, 3, 4] }, 4],
        [{ token_count: 7 }, 7],
        [{ count: 11 }, 11],
        [{ tokens: 13 }, 13],
        [{ tokens: [5, 6] }, 2],
        [17, 17]
      ]
      for (const [body, expected] of shapes) {
        const count = yield* OpenAI.tokenCount({ prompt: "x" }).pipe(
          Effect.provide(makeTestClient(() => json(body)).layer)
        )
        expect(count).toBe(expected)
      }
    })
  )

  it.effect("completion with delta-shaped choices and missing fields", () =>
    Effect.gen(function* () {
      const result = yield* OpenAI.completion({ prompt: "x" }).pipe(
        Effect.provide(
          makeTestClient(() => json({ choices: [{ text: "abc", finish_reason: "length", logprobs: null }] }))
            .layer
        )
      )
      expect(result).toMatchObject({
        object: "text_completion",
        choices: [{ text: "abc", index: 0, finish_reason: "length" }]
      })
    })
  )

  const wrong: ReadonlyArray<[string, Effect.Effect<unknown, unknown, never>, RegExp]> = [
    ["chat without choices", chat({ id: "x", object: "chat.completion" }), /chatCompletion: .*choices/],
    [
      "chat with numeric content",
      chat({ choices: [{ message: { content: 5 } }] }),
      /chatCompletion: .*content/
    ],
    [
      "model list of strings",
      OpenAI.listModels().pipe(Effect.provide(makeTestClient(() => json({ data: ["glm-4-6"] })).layer)),
      /listModels/
    ],
    [
      "token count with no count",
      OpenAI.tokenCount({ prompt: "x" }).pipe(Effect.provide(makeTestClient(() => json({ foo: 1 })).layer)),
      /tokenCount/
    ],
    [
      "a body that is not JSON",
      OpenAI.completion({ prompt: "x" }).pipe(
        Effect.provide(makeTestClient(() => json("<html>gateway</html>")).layer)
      ),
      /completion: the response was not JSON \(content-type application\/json\): "<html>gateway<\/html>"/
    ]
  ]
  for (const [name, effect, message] of wrong) {
    it.effect(`a wrong shape is a ResponseDecodeError: ${name}`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(effect)
        expect(error).toBeInstanceOf(ResponseDecodeError)
        expect((error as ResponseDecodeError).message).toMatch(message)
      })
    )
  }
})
