import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Stream } from "effect"
import { OpenAI } from "effect-novelai"
import { makeTestClient, sse } from "../support.js"

const chat = (content: string, finish: string | null = null, extra = "") =>
  `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"glm-4-6","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":${JSON.stringify(finish)}}]${extra}}`

interface Fixture {
  readonly name: string
  readonly body: string
  /** Text deltas expected, in order. */
  readonly deltas: ReadonlyArray<string>
  /** The error tag the stream ends with, if any. */
  readonly error?: string
  readonly message?: RegExp
}

const fixtures: ReadonlyArray<Fixture> = [
  {
    name: "LF line endings",
    body: `data: ${chat("Hello")}\n\ndata: ${chat(" world", "stop")}\n\ndata: [DONE]\n\n`,
    deltas: ["Hello", " world"]
  },
  {
    name: "CRLF line endings",
    body: `data: ${chat("Hello")}\r\n\r\ndata: ${chat(" world", "stop")}\r\n\r\ndata: [DONE]\r\n\r\n`,
    deltas: ["Hello", " world"]
  },
  {
    name: "CR line endings",
    body: `data: ${chat("Hello")}\r\rdata: ${chat(" world", "stop")}\r\rdata: [DONE]\r\r`,
    deltas: ["Hello", " world"]
  },
  {
    name: "comments, retry: and id: fields",
    body: `: keep-alive\n\nretry: 3000\n\nid: 1\ndata: ${chat("a")}\n\n: ping\nid: 2\nretry: 10\ndata: ${chat("b", "stop")}\n\ndata: [DONE]\n\n`,
    deltas: ["a", "b"]
  },
  {
    name: "multi-byte UTF-8 (accents, CJK, emoji)",
    body: `data: ${chat("héllo ")}\n\ndata: ${chat("世界 ")}\n\ndata: ${chat("🦊🌙", "stop")}\n\ndata: [DONE]\n\n`,
    deltas: ["héllo ", "世界 ", "🦊🌙"]
  },
  {
    name: "a data field split over two lines",
    body: `data: {"choices":[{"index":0,\ndata: "delta":{"content":"joined"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`,
    deltas: ["joined"]
  },
  {
    name: "[DONE] ends the stream at once, whatever follows",
    body: `data: ${chat("only", "stop")}\n\ndata: [DONE]\n\ndata: {not json\n\nevent: error\ndata: {"message":"late"}\n\n`,
    deltas: ["only"]
  },
  {
    name: "[DONE] without the closing blank line at the end of input",
    body: `data: ${chat("x", "stop")}\n\ndata: [DONE]`,
    deltas: ["x"]
  },
  {
    name: "a usage-only chunk with no choices",
    body: `data: ${chat("x", "stop")}\n\ndata: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\ndata: [DONE]\n\n`,
    deltas: ["x"]
  },
  {
    name: "finish_reason but no [DONE] is complete",
    body: `data: ${chat("a")}\n\ndata: ${chat("b", "length")}\n\n`,
    deltas: ["a", "b"]
  },
  {
    name: "event: error frame",
    body: `data: ${chat("a")}\n\nevent: error\ndata: {"message":"generation failed"}\n\n`,
    deltas: ["a"],
    error: "ServerError",
    message: /generation failed/
  },
  {
    name: "error payload with statusCode/message",
    body: `data: ${chat("a")}\n\ndata: {"statusCode":500,"message":"internal failure"}\n\n`,
    deltas: ["a"],
    error: "ServerError",
    message: /internal failure/
  },
  {
    name: "error payload with error.code 429",
    body: `data: {"error":{"message":"concurrent generation is locked","code":429}}\n\n`,
    deltas: [],
    error: "RateLimitError",
    message: /concurrent generation is locked/
  },
  {
    name: "error payload with a plain error string",
    body: `data: ${chat("a")}\n\ndata: {"error":"upstream closed"}\n\n`,
    deltas: ["a"],
    error: "ServerError",
    message: /upstream closed/
  },
  {
    name: "connection ends before [DONE] and before any finish_reason",
    body: `data: ${chat("a")}\n\ndata: ${chat("b")}\n\n`,
    deltas: ["a", "b"],
    error: "StreamTruncatedError",
    message: /ended before \[DONE\].*incomplete \(2 chunks received\)/
  },
  {
    name: "a whole last event without its blank line, then the end of input",
    body: `data: ${chat("a")}\n\ndata: ${chat("b")}`,
    deltas: ["a", "b"],
    error: "StreamTruncatedError",
    message: /incomplete \(2 chunks received\)$/
  },
  {
    name: "[DONE] without its blank line and no finish_reason: complete",
    body: `data: ${chat("a")}\n\ndata: [DONE]`,
    deltas: ["a"]
  },
  {
    name: "input cut off inside the JSON of the last event: truncated, not malformed",
    body: `data: ${chat("a")}\n\ndata: {"choices":[{"index":0,"delta":{"con`,
    deltas: ["a"],
    error: "StreamTruncatedError",
    message: /incomplete \(1 chunk received\)$/
  },
  {
    name: "empty body",
    body: "",
    deltas: [],
    error: "StreamTruncatedError"
  },
  {
    name: "malformed JSON chunk",
    body: `data: ${chat("a")}\n\ndata: {"choices":[{"delta":\n\n`,
    deltas: ["a"],
    error: "ResponseDecodeError",
    message: /not valid JSON/
  },
  {
    name: "a chunk of the wrong shape",
    body: `data: {"choices":"nope"}\n\n`,
    deltas: [],
    error: "ResponseDecodeError",
    message: /chatCompletionStream: .*choices/
  }
]

/** A seeded PRNG (mulberry32), so random split points are the same on every run. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

type Splitter = (bytes: Uint8Array) => ReadonlyArray<Uint8Array>

const splitters: ReadonlyArray<[string, Splitter]> = [
  ["whole", (bytes) => [bytes]],
  ["byte by byte", (bytes) => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))],
  ...[1, 2, 3, 4, 5].map((seed): [string, Splitter] => [
    `random splits (seed ${seed})`,
    (bytes) => {
      const random = prng(seed)
      const parts: Array<Uint8Array> = []
      let at = 0
      while (at < bytes.length) {
        const size = 1 + Math.floor(random() * 12)
        parts.push(bytes.subarray(at, at + size))
        at += size
      }
      return parts
    }
  ])
]

/** A body that hands out the given pieces one per pull, as a socket would. */
const bodyOf = (parts: ReadonlyArray<Uint8Array>) => {
  let i = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < parts.length) controller.enqueue(parts[i++]!)
      else controller.close()
    }
  })
}

const run = (parts: ReadonlyArray<Uint8Array>) =>
  OpenAI.chatCompletionStream({ messages: [{ role: "user", content: "Hi" }] }).pipe(
    OpenAI.textDeltas,
    Stream.either,
    Stream.runCollect,
    Effect.map(Chunk.toArray),
    Effect.provide(makeTestClient(() => sse(bodyOf(parts))).layer)
  )

describe("SSE decoding", () => {
  for (const fixture of fixtures) {
    for (const [how, split] of splitters) {
      it.effect(`${fixture.name} (${how})`, () =>
        Effect.gen(function* () {
          const items = yield* run(split(new TextEncoder().encode(fixture.body)))
          const deltas = items.filter(Either.isRight).map((e) => e.right)
          const errors = items.filter(Either.isLeft).map((e) => e.left)
          expect(deltas).toEqual(fixture.deltas)
          if (fixture.error === undefined) {
            expect(errors).toEqual([])
          } else {
            expect(errors.map((e) => e._tag)).toEqual([fixture.error])
            if (fixture.message) expect(errors[0]!.message).toMatch(fixture.message)
          }
        })
      )
    }
  }
})

describe("SSE pacing", () => {
  it.effect("a large read is handed over from its first event on, then in a few large chunks", () =>
    Effect.gen(function* () {
      const events = Array.from({ length: 1000 }, (_, i) => `data: ${chat(`${i} `)}\n\n`).join("")
      const body = new TextEncoder().encode(`${events}data: [DONE]\n\n`)
      const sizes = yield* OpenAI.chatCompletionStream({ messages: [{ role: "user", content: "Hi" }] }).pipe(
        Stream.chunks,
        Stream.map((chunk) => chunk.length),
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.provide(makeTestClient(() => sse(bodyOf([body]))).layer)
      )
      // One read of 1,000 events: the first reaches the consumer alone, not after all are decoded.
      expect(sizes[0]).toBe(1)
      // ...and the rest in a few large chunks, not one per event.
      expect(sizes.length).toBeLessThanOrEqual(12)
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000)
    })
  )
})

describe("SSE limits", () => {
  it.effect("an event over 8 MB is a ResponseDecodeError, even with more bytes in the same read", () =>
    Effect.gen(function* () {
      const encoder = new TextEncoder()
      const huge = encoder.encode(`data: ${"x".repeat(8 * 1024 * 1024 + 1)}`)
      const parts = [huge, encoder.encode("more\n\n"), encoder.encode("data: [DONE]\n\n")]
      const items = yield* run(parts)
      const errors = items.filter(Either.isLeft).map((e) => e.left)
      expect(errors.map((e) => e._tag)).toEqual(["ResponseDecodeError"])
      expect(errors[0]!.message).toBe("chatCompletionStream: a stream event exceeded 8388608 characters")
    })
  )
})

describe("stream helpers", () => {
  const body = [
    `data: {"id":"c9","object":"chat.completion.chunk","created":7,"model":"glm-4-6","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"think "},"finish_reason":null}]}`,
    `data: ${chat("Hel")}`,
    `data: ${chat("lo", "stop", ',"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}')}`,
    "data: [DONE]",
    ""
  ].join("\n\n")

  it.effect("collectChatCompletion folds a stream into what chatCompletion returns", () =>
    Effect.gen(function* () {
      const result = yield* OpenAI.chatCompletionStream({ messages: [{ role: "user", content: "Hi" }] }).pipe(
        OpenAI.collectChatCompletion,
        Effect.provide(makeTestClient(() => sse(body)).layer)
      )
      expect(result.object).toBe("chat.completion")
      expect(result.id).toBe("c9")
      expect(result.created).toBe(7)
      expect(result.choices).toEqual([
        {
          index: 0,
          message: { role: "assistant", content: "Hello", reasoning_content: "think " },
          finish_reason: "stop"
        }
      ])
      expect(result.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })
    })
  )

  it.effect("collectCompletion folds completion chunks per choice", () =>
    Effect.gen(function* () {
      const text = (index: number, t: string, finish: string | null = null) =>
        `data: {"id":"k","object":"text_completion","created":3,"model":"glm-4-6","choices":[{"index":${index},"text":${JSON.stringify(t)},"finish_reason":${JSON.stringify(finish)}}]}\n\n`
      const stream =
        text(0, "Once") +
        text(1, "Twice") +
        text(0, " upon", "length") +
        text(1, " more", "stop") +
        "data: [DONE]\n\n"
      const result = yield* OpenAI.completionStream({ prompt: "x", n: 2 }).pipe(
        OpenAI.collectCompletion,
        Effect.provide(makeTestClient(() => sse(stream)).layer)
      )
      expect(result.choices).toEqual([
        { index: 0, text: "Once upon", finish_reason: "length" },
        { index: 1, text: "Twice more", finish_reason: "stop" }
      ])
      const deltas = yield* OpenAI.completionStream({ prompt: "x" }).pipe(
        OpenAI.textDeltas,
        Stream.runCollect,
        Effect.provide(makeTestClient(() => sse(stream)).layer)
      )
      expect(Chunk.toArray(deltas)).toEqual(["Once", " upon"])
    })
  )
})
