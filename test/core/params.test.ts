/**
 * The parameters' fast path: the common inputs are encoded without the schema's interpreter, and
 * for every input it takes it gives what the schema gives; every other input (a value out of range,
 * of the wrong type, a kind of field it cannot read) is left to the schema, which words the refusal.
 */
import { Either, Schema, type SchemaAST } from "effect"
import { describe, expect, it } from "vitest"
import { ChatCompletionParams } from "../../src/ChatCompletions.js"
import { CompletionParams } from "../../src/Completions.js"
import type { InvalidRequestError } from "../../src/Errors.js"
import { ImageGenerateParams, ImageGenerateStreamParams } from "../../src/ImageGeneration.js"
import { paramsEncoder } from "../../src/internal/core/decode.js"
import { type FastFields, fastEncoder, guardOf } from "../../src/internal/core/params.js"
import { chatFastFields } from "../../src/internal/openai/messages.js"
import { NovelAI } from "../../src/NovelAI.js"
import { TextGenerateParams } from "../../src/TextGeneration.js"
import { TokenCountParams } from "../../src/TokenCount.js"

/** Values that probe each field's type and range: bounds, just past them, non-integers, other types. */
const PROBES: ReadonlyArray<unknown> = [
  0,
  1,
  -1,
  0.5,
  0.99,
  2,
  10,
  16,
  50,
  51,
  2048,
  2049,
  4_294_967_295,
  4_294_967_296,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  "",
  "x",
  "glm-4-6",
  "portrait",
  "karras",
  "native",
  "k_euler",
  "light",
  true,
  false,
  null,
  [],
  ["a"],
  [512, 512],
  {},
  { a: 1 }
]

const cases: ReadonlyArray<{
  readonly name: string
  readonly schema: Schema.Schema<any, any>
  readonly fast?: FastFields
  readonly base: Record<string, unknown>
}> = [
  {
    name: "chat",
    schema: ChatCompletionParams,
    fast: chatFastFields,
    base: { messages: [{ role: "user", content: "Hi" }], model: "glm-4-6", maxTokens: 16 }
  },
  { name: "completion", schema: CompletionParams, base: { prompt: "Once", model: "glm-4-6", maxTokens: 16 } },
  {
    name: "native text",
    schema: TextGenerateParams,
    base: { input: "Once upon", model: "llama-3-erato-v1", maxLength: 40, temperature: 1 }
  },
  { name: "token count", schema: TokenCountParams, base: { prompt: "Once", model: "glm-4-6" } },
  {
    name: "image",
    schema: ImageGenerateParams,
    base: { prompt: "1girl, cat ears", model: "nai-diffusion-4-5-full", size: [512, 512], seed: 1, steps: 28 }
  },
  {
    name: "image stream",
    schema: ImageGenerateStreamParams,
    base: { prompt: "1girl", model: "nai-diffusion-4-5-full", steps: 28, seed: 1 }
  }
]

/** The struct's fields (of the struct under its check across them, if it has one). */
const fieldsOf = (schema: Schema.Schema<any, any>) => {
  const struct = schema as unknown as { fields?: object; from?: { fields: object } }
  return Object.keys(struct.fields ?? struct.from!.fields)
}

describe("the parameters' fast path", () => {
  for (const { name, schema, fast, base } of cases) {
    const quick = fastEncoder(schema, fast)
    const slow = Schema.encodeUnknownEither(schema)
    /** The fast path's answer for `input`, held to the schema's whenever it gives one. */
    const agree = (input: Record<string, unknown>) => {
      const quickly = quick?.(input)
      if (quickly === undefined) return undefined
      const result = slow(input)
      expect(Either.isRight(result), `${name}: the schema refuses ${JSON.stringify(input)}`).toBe(true)
      expect(quickly).toEqual(Either.getOrThrow(result))
      return quickly
    }

    it(`${name}: the common parameters take it, and give what the schema gives`, () => {
      expect(quick).toBeDefined()
      expect(agree(base)).toBeDefined()
    })

    it(`${name}: any value of any field either gives what the schema gives or is left to it`, () => {
      for (const field of fieldsOf(schema)) {
        for (const value of PROBES) agree({ ...base, [field]: value })
        // Present but undefined, and absent.
        agree({ ...base, [field]: undefined })
        const { [field]: _, ...without } = base
        agree(without)
      }
      // A name the schema does not have.
      expect(quick?.({ ...base, max_tokens: 5 })).toBeUndefined()
    })
  }

  it("chat messages: plain ones take it; parts, unknown keys and bad roles go to the schema", () => {
    const quick = fastEncoder(ChatCompletionParams, chatFastFields)!
    const chat = (messages: unknown) => quick({ messages, model: "glm-4-6" })
    expect(
      chat([
        { role: "system", content: "Be brief" },
        { role: "user", content: "Hi", name: "ann" }
      ])
    ).toEqual({
      messages: [
        { role: "system", content: "Be brief" },
        { role: "user", content: "Hi", name: "ann" }
      ],
      model: "glm-4-6"
    })
    expect(chat([{ role: "user", content: [{ type: "text", text: "Hi" }] }])).toBeUndefined()
    expect(chat([{ role: "user", content: "Hi", extra: 1 }])).toBeUndefined()
    expect(chat([{ role: "tool", content: "Hi" }])).toBeUndefined()
    expect(chat([{ role: "user", content: "Hi", name: 3 }])).toBeUndefined()
    expect(chat([])).toBeUndefined()
    expect(chat("Hi")).toBeUndefined()
  })

  it("a refusal is still the schema's, naming the field", () => {
    const encode = paramsEncoder(ChatCompletionParams, "chatCompletion", chatFastFields)
    const refused = encode({ messages: [{ role: "user", content: "Hi" }], maxTokens: 4096 })
    expect(Either.isLeft(refused) && refused.left).toMatchObject({
      _tag: "InvalidRequestError",
      field: "maxTokens",
      message: expect.stringContaining("an integer from 1 to 2048")
    })
    const parts = encode({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" }
          ]
        }
      ]
    })
    expect(parts).toEqual(Either.right({ messages: [{ role: "user", content: "a\nb" }] }))
  })

  it("a struct with a check across its fields: the check still runs on the fast path", () => {
    const checked = Schema.Struct({
      a: Schema.Number,
      b: Schema.optional(Schema.Number).pipe(Schema.fromKey("the_b"))
    }).pipe(Schema.filter((s) => s.b === undefined || s.a < s.b))
    const quick = fastEncoder(checked)!
    expect(quick({ a: 1, b: 2 })).toEqual({ a: 1, the_b: 2 })
    expect(quick({ a: 3, b: 2 })).toBeUndefined()
    // A required field of a kind it cannot read: an input without it is the schema's to refuse.
    const nested = fastEncoder(
      Schema.Struct({ a: Schema.Number, items: Schema.Array(Schema.Struct({ x: Schema.Number })) })
    )!
    expect(nested({ a: 1 })).toBeUndefined()
    expect(nested({ a: 1, items: [] })).toBeUndefined()
    // Two checks stacked: left to the schema.
    expect(fastEncoder(checked.pipe(Schema.filter(() => true)))).toBeUndefined()
  })

  it("only the caller's own fields are read, each once, and no array of the caller's reaches the wire", () => {
    const chat = paramsEncoder(ChatCompletionParams, "chatCompletion", chatFastFields)
    const wire = (result: Either.Either<unknown, unknown>) => Either.getOrThrow(result) as Record<string, any>
    // A name inherited from a prototype or a class's getter is not the message's.
    const inherited = Object.assign(Object.create({ name: "eve" }), { role: "user", content: "Hi" })
    class Message {
      role = "user"
      content = "Hi"
      get name() {
        return "eve"
      }
    }
    for (const message of [inherited, new Message()]) {
      expect(wire(chat({ messages: [message] })).messages).toEqual([{ role: "user", content: "Hi" }])
    }
    // A getter that changes its answer is asked once: what was checked is what is sent.
    let reads = 0
    const shifty = {
      role: "user",
      get content() {
        reads++
        return reads === 1 ? "Hi" : ["not", "text"]
      }
    }
    expect(wire(chat({ messages: [shifty] })).messages).toEqual([{ role: "user", content: "Hi" }])
    expect(reads).toBe(1)
    // A getter that throws is a typed refusal, not an exception out of the call.
    const throwing = {
      messages: [{ role: "user", content: "Hi" }],
      get maxTokens(): number {
        throw new Error("boom")
      }
    }
    expect(
      Either.isLeft(chat(throwing)) && chat(throwing).pipe(Either.flip, Either.getOrThrow)
    ).toMatchObject({
      _tag: "InvalidRequestError",
      message: expect.stringContaining("could not be read")
    })
    // The check across the native API's fields sees the caller's fields, not a prototype's: an
    // inherited maxLength of 100 is not sent, so minLength 50 exceeds the default of 40.
    const generate = paramsEncoder(TextGenerateParams, "generate")
    const params = Object.assign(Object.create({ maxLength: 100 }), { input: "Once", minLength: 50 })
    const refused = generate(params)
    expect(Either.isLeft(refused) && refused.left).toMatchObject({ field: "minLength" })
    expect(wire(generate({ input: "Once", minLength: 50, maxLength: 100 }))).toEqual({
      input: "Once",
      min_length: 50,
      max_length: 100
    })
    // Arrays are copied into plain ones: not the caller's, nor its subclass, nor its extra fields.
    class Stops extends Array<string> {}
    const stops = Object.assign(Stops.from(["\n\n"]), { extra: 1 })
    const sent = wire(generate({ input: "Once", stopSequences: stops })).stop_sequences
    expect(sent).not.toBe(stops)
    expect(Object.getPrototypeOf(sent)).toBe(Array.prototype)
    expect(sent).toEqual(["\n\n"])
    expect(Object.keys(sent)).toEqual(["0"])
    const size = [512, 512]
    const image = paramsEncoder(ImageGenerateParams, "generate")
    const imageWire = wire(image({ prompt: "1girl", model: "nai-diffusion-4-5-full", size }))
    expect(Object.values(imageWire)).not.toContain(size)
  })

  it("any value is refused with a message, none throws (null, a BigInt, a cycle)", () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    const encoders: ReadonlyArray<
      readonly [
        string,
        (input: unknown) => Either.Either<unknown, InvalidRequestError>,
        Record<string, unknown>
      ]
    > = [
      ["input", paramsEncoder(TextGenerateParams, "generate"), { input: "Once" }],
      ["messages", paramsEncoder(ChatCompletionParams, "chatCompletion", chatFastFields), { messages: [] }],
      ["size", paramsEncoder(ImageGenerateParams, "generate"), { prompt: "1girl" }]
    ]
    for (const [field, encode, base] of encoders) {
      for (const value of [null, 1n, cycle, Symbol("s"), [1n], "x".repeat(200_000)]) {
        const result = encode({ ...base, [field]: value })
        expect(Either.isLeft(result), `${field}: ${String(typeof value)}`).toBe(true)
        const error = Either.isLeft(result) ? result.left : undefined
        expect(error?._tag).toBe("InvalidRequestError")
        expect(error?.message.length).toBeLessThan(600)
      }
    }
    const role = paramsEncoder(
      ChatCompletionParams,
      "chatCompletion",
      chatFastFields
    )({
      messages: [{ role: 1n, content: "Hi" }]
    })
    expect(Either.isLeft(role) && role.left.message).toContain("(got bigint)")
  })

  it("the compiled field guards answer as Schema.is does, for every field of every request schema", () => {
    const values = [
      ...PROBES,
      [512, 512, 512],
      [512],
      [1, "a"],
      ["a", 1],
      // biome-ignore lint/suspicious/noSparseArray: a hole, as a caller's array may have
      [, "a"],
      [undefined],
      1n,
      Symbol("s")
    ]
    let compiled = 0
    for (const { schema } of cases) {
      const struct = schema as unknown as { fields?: object; from?: { fields: object } }
      for (const field of Object.values(struct.fields ?? struct.from!.fields)) {
        const ast = (field as { ast: any }).ast
        const type: SchemaAST.AST =
          ast._tag === "PropertySignatureDeclaration"
            ? ast.type
            : ast._tag === "PropertySignatureTransformation"
              ? ast.from.type
              : ast
        const guard = guardOf(type)
        if (guard === undefined) continue
        compiled++
        const is = Schema.is(Schema.make(type))
        for (const value of values) expect(guard(value), `${String(type)}: ${String(value)}`).toBe(is(value))
      }
    }
    expect(compiled).toBeGreaterThan(40)
  })

  it("an array is read by index, each element once, and what was checked is what is sent", () => {
    const generate = paramsEncoder(TextGenerateParams, "generate")
    const stops = ["\n\n"]
    // An iterator of its own, which Array.from would follow.
    Object.defineProperty(stops, Symbol.iterator, {
      value: function* () {
        yield 42
      }
    })
    let reads = 0
    const shifty: Array<unknown> = []
    Object.defineProperty(shifty, 0, {
      enumerable: true,
      get: () => (++reads === 1 ? "\n" : 12345)
    })
    for (const [given, sent] of [
      [stops, ["\n\n"]],
      [shifty, ["\n"]]
    ] as const) {
      const result = generate({ input: "Once", stopSequences: given })
      expect(Either.getOrThrow(result)).toEqual({ input: "Once", stop_sequences: sent })
    }
    expect(reads).toBe(1)
  })

  it("through the client, a getter that throws is an InvalidRequestError and nothing is sent", async () => {
    let sent = 0
    const client = new NovelAI({
      apiKey: "pst-test",
      baseUrl: "http://127.0.0.1:1",
      fetch: async () => {
        sent++
        throw new Error("not to be called")
      }
    })
    for (const field of ["maxTokens", "model"]) {
      const params = { messages: [{ role: "user", content: "Hi" }] }
      Object.defineProperty(params, field, {
        enumerable: true,
        get: () => {
          throw new Error("boom")
        }
      })
      await expect(client.openai.chatCompletion(params as never)).rejects.toMatchObject({
        _tag: "InvalidRequestError",
        message: expect.stringContaining("could not be read")
      })
    }
    expect(sent).toBe(0)
    await client.close()
  })
})
