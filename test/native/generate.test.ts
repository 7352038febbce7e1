/**
 * Native generations: collected equals plain whatever the output format, a user's tokenizer that
 * misbehaves refuses the call instead of crashing it, and lengths are checked against the defaults
 * NovelAI's site sends.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Text } from "effect-novelai"
import { json, makeTestClient, sse, withSimulator } from "../support.js"

const ids = (list: ReadonlyArray<number>) => {
  const bytes = new Uint8Array(list.length * 4)
  const view = new DataView(bytes.buffer)
  for (const [i, id] of list.entries()) view.setUint32(i * 4, id, true)
  return btoa(String.fromCharCode(...bytes))
}

describe("collected equals plain", () => {
  it.effect("with use_string: false the collected output is the base64 of all ids, as a plain call's", () =>
    withSimulator({ chunkDelayMs: 0 }, { maxRetries: 0 }, () =>
      Effect.gen(function* () {
        const params = { input: ids([791, 1917]), maxLength: 12, extraBody: { use_string: false } }
        const plain = yield* Text.generate(params)
        const collected = yield* Text.generate(params, { collectStream: true })
        expect(collected.output).toBe(plain.output)
        // It is ids: whole 4-byte words.
        expect(atob(collected.output).length % 4).toBe(0)
        expect(atob(collected.output).length).toBeGreaterThan(4)
      })
    )
  )

  it.effect("text collected is the tokens joined", () =>
    withSimulator({ chunkDelayMs: 0 }, { maxRetries: 0 }, () =>
      Effect.gen(function* () {
        const plain = yield* Text.generate({ input: "The lighthouse", maxLength: 12 })
        const collected = yield* Text.generate(
          { input: "The lighthouse", maxLength: 12 },
          { collectStream: true }
        )
        expect(collected.output).toBe(plain.output)
      })
    )
  )
})

describe("a tokenizer of the user's that misbehaves", () => {
  const generated = () => json({ output: " and so it went." })
  for (const [name, encode] of [
    [
      "throws",
      () => {
        throw new Error("vocabulary missing")
      }
    ],
    ["returns no array", () => "not ids"],
    ["returns negative ids", () => [-1]]
  ] as const) {
    it.effect(`that ${name}: an InvalidRequestError for generate and tokenCount, nothing sent`, () =>
      Effect.gen(function* () {
        const { recorded, layer } = makeTestClient(generated, {
          tokenizers: { "kayra-v1": () => ({ encode }) }
        })
        const error = yield* Effect.flip(
          Text.generate({ input: "a", model: "kayra-v1", stopSequences: ["\n"] }).pipe(Effect.provide(layer))
        )
        expect(error).toMatchObject({ _tag: "InvalidRequestError", field: "stopSequences" })
        expect(error.message).toMatch(/kayra-v1's tokenizer failed/)
        const counted = yield* Effect.flip(
          Text.tokenCount({ input: "a", model: "kayra-v1" }).pipe(Effect.provide(layer))
        )
        expect(counted).toMatchObject({ _tag: "InvalidRequestError", field: "input" })
        expect(recorded).toHaveLength(0)
      })
    )
  }
})

describe("lengths against the defaults", () => {
  it.effect("minLength alone above the default maxLength (40) is refused before sending", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => sse(""))
      const error = yield* Effect.flip(
        Text.generate({ input: "a", minLength: 50 }).pipe(Effect.provide(layer))
      )
      expect(error).toMatchObject({ _tag: "InvalidRequestError", field: "minLength" })
      expect(error.message).toMatch(/default is 40 .*give maxLength too/)
      expect(recorded).toHaveLength(0)
    })
  )

  it.effect("minLength within the default maxLength, or with its own maxLength, is sent", () =>
    Effect.gen(function* () {
      const { recorded, layer } = makeTestClient(() => json({ output: "x" }))
      yield* Text.generate({ input: "a", minLength: 40 }).pipe(Effect.provide(layer))
      yield* Text.generate({ input: "a", minLength: 50, maxLength: 60 }).pipe(Effect.provide(layer))
      expect(
        recorded.map((r) => (r.body as { parameters: { min_length: number } }).parameters.min_length)
      ).toEqual([40, 50])
    })
  )
})
