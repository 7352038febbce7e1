/**
 * GLM's inline thinking (`<think>…</think>` in the content) is split out of the answer the same way
 * whether a reply comes whole or in chunks cut anywhere; a stray `</think>` is dropped.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { OpenAI } from "effect-novelai"
import fc from "fast-check"
import { splitThinking, ThinkingSplitter } from "../../src/internal/openai/thinking.js"
import { chatChunk, json, makeTestClient, sse } from "../support.js"

/** Pushes `pieces` through a splitter, as a stream's deltas: the answer and the thinking it gave. */
const streamed = (pieces: ReadonlyArray<string>) => {
  const splitter = new ThinkingSplitter()
  let content = ""
  let reasoning = ""
  for (const piece of [...pieces.map((p) => splitter.push(p)), splitter.end()]) {
    content += piece.content
    reasoning += piece.reasoning
  }
  return { content, reasoning }
}

/** `text` cut at the given offsets. */
const cut = (text: string, at: ReadonlyArray<number>) => {
  const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b)
  const pieces: Array<string> = []
  let from = 0
  for (const point of points) {
    pieces.push(text.slice(from, point))
    from = point
  }
  pieces.push(text.slice(from))
  return pieces
}

describe("the thinking splitter", () => {
  it("splits across the chunk boundaries GLM's tokens fall on", () => {
    expect(streamed(["<thi", "nk>plan", " more</th", "ink>Hello"])).toEqual({
      content: "Hello",
      reasoning: "plan more"
    })
    expect(streamed(["\n<think>", "a</think>", "\n\n", "Hi", " there"])).toEqual({
      content: "Hi there",
      reasoning: "a"
    })
  })

  it("leaves an answer with no thinking alone, a lone '<' and a tag mid-answer included", () => {
    expect(streamed(["1 <", " 2", " and <b>", "</b>"])).toEqual({
      content: "1 < 2 and <b></b>",
      reasoning: ""
    })
    expect(streamed(["Say <think>", " later"])).toEqual({ content: "Say <think> later", reasoning: "" })
  })

  it("drops a stray </think> and keeps the text around it", () => {
    expect(streamed(["The end.</th", "ink> Or not."])).toEqual({ content: "The end. Or not.", reasoning: "" })
  })

  it("keeps thinking that never closes as thinking (a reply cut by maxTokens)", () => {
    expect(streamed(["<think>still", " going", "</thi"])).toEqual({
      content: "",
      reasoning: "still going</thi"
    })
  })

  it("gives, however a reply is cut into chunks, what the whole reply's split gives", () => {
    const fragment = fc.constantFrom(
      "<think>",
      "</think>",
      "<",
      "</th",
      "<thi",
      "ink>",
      ">",
      " ",
      "\n",
      "plan",
      "Hello",
      " world"
    )
    fc.assert(
      fc.property(
        fc.array(fragment, { maxLength: 14 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (parts, at) => {
          const text = parts.join("")
          const whole = splitThinking(text, undefined)
          const pieces = streamed(cut(text, at))
          expect(pieces.content).toBe(whole.content)
          expect(pieces.reasoning).toBe(whole.reasoning_content ?? "")
        }
      ),
      { seed: 20261126, numRuns: 2000 }
    )
  })
})

const question = { messages: [{ role: "user" as const, content: "Why?" }], enableThinking: true }
const chunks = ["", "<thi", "nk>The user", " asks why.</th", "ink>\n\nBecause", " it is."]
const body = () => sse(`${chunks.map((c) => chatChunk(c)).join("")}${chatChunk("", "stop")}data: [DONE]\n\n`)

describe("thinking through the client", () => {
  it.effect(
    "a chat stream carries the answer in delta.content and the thinking in delta.reasoning_content",
    () =>
      Effect.gen(function* () {
        const answer = yield* OpenAI.chatCompletionStream(question).pipe(OpenAI.textDeltas, Stream.mkString)
        const thinking = yield* OpenAI.chatCompletionStream(question).pipe(
          OpenAI.reasoningDeltas,
          Stream.mkString
        )
        expect(answer).toBe("Because it is.")
        expect(thinking).toBe("The user asks why.")
        const all = yield* Stream.runCollect(OpenAI.chatCompletionStream(question))
        const contents = Chunk.toReadonlyArray(all).map((c) => c.choices[0]?.delta.content ?? "")
        expect(contents.join("")).not.toMatch(/<\/?t?h?i?n?k?>|<thi|<\/th/)
      }).pipe(Effect.provide(makeTestClient(body).layer))
  )

  it.effect("the collected stream equals the non-streaming reply with the same content", () =>
    Effect.gen(function* () {
      const collected = yield* OpenAI.chatCompletion(question)
      const whole = yield* OpenAI.chatCompletion(question, { collectStream: false }).pipe(
        Effect.provide(
          makeTestClient(() =>
            json({
              id: "c",
              object: "chat.completion",
              created: 1,
              model: "glm-4-6",
              choices: [
                {
                  index: 0,
                  message: { role: "assistant", content: chunks.join("") },
                  finish_reason: "stop"
                }
              ]
            })
          ).layer
        )
      )
      expect(collected.choices[0]!.message).toEqual(whole.choices[0]!.message)
      expect(whole.choices[0]!.message).toEqual({
        role: "assistant",
        content: "Because it is.",
        reasoning_content: "The user asks why."
      })
    }).pipe(Effect.provide(makeTestClient(body).layer))
  )

  it.effect("a stray </think> is dropped from completions, whole and streamed", () =>
    Effect.gen(function* () {
      const completionChunk = (text: string, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: "c", object: "text_completion", created: 1, model: "glm-4-6", choices: [{ index: 0, text, finish_reason: finish }] })}\n\n`
      const streamedText = yield* OpenAI.completionStream({ prompt: "Once" }).pipe(
        OpenAI.textDeltas,
        Stream.mkString,
        Effect.provide(
          makeTestClient(() =>
            sse(
              `${["</th", "ink> upon", " a time"].map((t) => completionChunk(t)).join("")}${completionChunk("", "stop")}data: [DONE]\n\n`
            )
          ).layer
        )
      )
      const whole = yield* OpenAI.completion({ prompt: "Once" }).pipe(
        Effect.provide(
          makeTestClient(() =>
            json({
              id: "c",
              object: "text_completion",
              created: 1,
              model: "glm-4-6",
              choices: [{ index: 0, text: "</think> upon a time", finish_reason: "stop" }]
            })
          ).layer
        )
      )
      expect(streamedText).toBe(" upon a time")
      expect(whole.choices[0]!.text).toBe(" upon a time")
    })
  )
})
