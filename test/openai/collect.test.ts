/**
 * A collected chat is the stream it collects: the same text and thinking as the stream gives and
 * as a plain reply carries, and a stream that generated nothing is an error, not an empty reply.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { OpenAI } from "effect-novelai"
import { chatChunk, json, makeTestClient, sse } from "../support.js"

const hi = { messages: [{ role: "user" as const, content: "Hi" }] }

describe("a collected chat equals the stream", () => {
  // The answer itself starts by naming the tag: split twice, it was taken for more thinking.
  const reply = "<think>plan</think>\n\n<think> is GLM's tag for thinking."
  const stream = () =>
    sse(
      `${chatChunk("<think>plan</think>\n\n<think> is GLM")}${chatChunk("'s tag for thinking.", "stop")}data: [DONE]\n\n`
    )

  it.effect("an answer that mentions <think> keeps its text, collected, streamed and plain", () =>
    Effect.gen(function* () {
      const collected = yield* OpenAI.chatCompletion(hi).pipe(Effect.provide(makeTestClient(stream).layer))
      const streamed = yield* OpenAI.chatCompletionStream(hi).pipe(
        OpenAI.textDeltas,
        Stream.mkString,
        Effect.provide(makeTestClient(stream).layer)
      )
      const plain = yield* OpenAI.chatCompletion(hi, { collectStream: false }).pipe(
        Effect.provide(
          makeTestClient(() =>
            json({
              id: "c",
              object: "chat.completion",
              created: 1,
              model: "glm-4-6",
              choices: [{ index: 0, message: { role: "assistant", content: reply }, finish_reason: "stop" }]
            })
          ).layer
        )
      )
      expect(collected.choices[0]!.message.content).toBe("<think> is GLM's tag for thinking.")
      expect(collected.choices[0]!.message.reasoning_content).toBe("plan")
      expect(streamed).toBe(collected.choices[0]!.message.content)
      expect(plain.choices[0]!.message.content).toBe(collected.choices[0]!.message.content)
      expect(plain.choices[0]!.message.reasoning_content).toBe("plan")
    })
  )
})

describe("a stream of only [DONE]", () => {
  const empty = () => sse("data: [DONE]\n\n")

  it.effect("collected: a StreamTruncatedError with no chunk, not an empty completion", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        OpenAI.chatCompletion(hi).pipe(Effect.provide(makeTestClient(empty).layer))
      )
      expect(error).toMatchObject({ _tag: "StreamTruncatedError", chunksReceived: 0 })
      expect(error.message).toMatch(/before its first chunk; nothing was generated/)
    })
  )

  it.effect("streamed: the same error, and no chunk", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Stream.runCollect(OpenAI.completionStream({ prompt: "a" })).pipe(
          Effect.provide(makeTestClient(empty).layer)
        )
      )
      expect(error).toMatchObject({ _tag: "StreamTruncatedError", chunksReceived: 0 })
    })
  )
})
