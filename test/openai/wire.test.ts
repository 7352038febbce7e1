/**
 * The hand-checked fast paths for the common wire shapes give exactly what the schemas give, on
 * whatever they accept, and they do accept what NovelAI commonly sends.
 */
import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { responseDecoder } from "../../src/internal/core/decode.js"
import {
  ChatWire,
  CompletionWire,
  commonChatChunk,
  commonChatCompletion,
  commonCompletion,
  commonCompletionChunk,
  normaliseChatChunk,
  normaliseChatCompletion,
  normaliseCompletion,
  wholeCompletion
} from "../../src/internal/openai/wire.js"

/** Mostly a good value, sometimes missing, null or of the wrong type. */
const maybe = <A>(arb: fc.Arbitrary<A>) =>
  fc.oneof(
    { weight: 12, arbitrary: arb },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.array(fc.nat())) }
  )
const text = fc.oneof(fc.string(), fc.constantFrom("<think>plan</think>Hello", "  <think>a</think>  b", ""))
const usage = maybe(
  fc.record(
    { prompt_tokens: maybe(fc.nat()), completion_tokens: maybe(fc.nat()), total_tokens: maybe(fc.nat()) },
    { requiredKeys: [] }
  )
)
const strings = fc.record(
  { role: maybe(fc.constantFrom("assistant", "user")), content: maybe(text), reasoning_content: maybe(text) },
  { requiredKeys: [] }
)
const choice = fc.record(
  {
    index: maybe(fc.nat(3)),
    delta: fc.option(maybe(strings), { nil: undefined }),
    message: fc.option(maybe(strings), { nil: undefined }),
    text: fc.option(maybe(text), { nil: undefined }),
    finish_reason: maybe(fc.constantFrom("stop", "length")),
    logprobs: fc.anything(),
    matched_stop: maybe(fc.oneof(fc.string(), fc.nat(), fc.constant({}))),
    stop_reason: maybe(fc.oneof(fc.constantFrom("stop", "length"), fc.nat()))
  },
  { requiredKeys: [] }
)
const body = fc.record(
  {
    id: maybe(fc.string()),
    object: maybe(fc.constantFrom("chat.completion", "chat.completion.chunk", "text_completion")),
    created: maybe(fc.nat()),
    model: maybe(fc.constantFrom("glm-4-6", "xialong-v1")),
    choices: fc.oneof({ weight: 9, arbitrary: fc.array(choice, { maxLength: 3 }) }, fc.anything()),
    usage: fc.option(usage, { nil: undefined }),
    token_ids: fc.anything()
  },
  { requiredKeys: [] }
)

const cases = [
  ["chat chunk", commonChatChunk, responseDecoder(ChatWire, "chat chunk", normaliseChatChunk)],
  [
    "chat completion",
    commonChatCompletion,
    responseDecoder(ChatWire, "chat completion", normaliseChatCompletion)
  ],
  ["completion chunk", commonCompletionChunk, responseDecoder(CompletionWire, "chunk", normaliseCompletion)],
  [
    "completion",
    commonCompletion,
    responseDecoder(CompletionWire, "completion", (wire) => wholeCompletion(normaliseCompletion(wire)))
  ]
] as const

describe("the fast paths agree with the schemas", () => {
  for (const [name, fast, schema] of cases) {
    it(`${name}: whatever the fast path accepts, the schema decodes to the same value`, () => {
      let accepted = 0
      fc.assert(
        fc.property(body, (json) => {
          const quick = (fast as (json: unknown) => unknown)(json)
          if (quick === undefined) return
          accepted++
          const slow = (schema as (name: string) => (json: unknown) => Either.Either<unknown, unknown>)("e")(
            json
          )
          expect(Either.isRight(slow)).toBe(true)
          expect(quick).toEqual(Either.getOrThrow(slow))
        }),
        { numRuns: 8000, seed: 20261126 }
      )
      // The property means little if nothing got through.
      expect(accepted).toBeGreaterThan(100)
    })
  }
})

describe("the fast paths take what NovelAI commonly sends", () => {
  it("chunks and whole results with the extra fields seen on the wire", () => {
    const extra = { token_ids: [1, 2], matched_stop: null, stop_reason: null, metadata: {} }
    expect(
      commonChatChunk({
        id: "c",
        object: "chat.completion.chunk",
        created: 1,
        model: "glm-4-6",
        choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null, ...extra }]
      })
    ).toBeDefined()
    expect(
      commonChatCompletion({
        id: "c",
        object: "chat.completion",
        created: 1,
        model: "glm-4-6",
        choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        ...extra
      })
    ).toBeDefined()
    expect(
      commonCompletionChunk({
        id: "c",
        object: "text_completion",
        created: 1,
        model: "glm-4-6",
        choices: [{ text: "Hi", index: 0, finish_reason: null, logprobs: null }]
      })
    ).toBeDefined()
  })
})
