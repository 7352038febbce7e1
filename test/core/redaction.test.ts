/**
 * The API key never reaches an error, whatever form a server echoes it in.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { OpenAI } from "effect-novelai"
import { API_KEY, json, makeTestClient } from "../support.js"

const bare = API_KEY.slice(4)
const b64 = (text: string) => btoa(text)

describe("an echoed key is scrubbed in every form", () => {
  for (const [name, echoed] of [
    ["as given", API_KEY],
    ["in upper case", API_KEY.toUpperCase()],
    ["without its pst- prefix", bare],
    ["percent-encoded", encodeURIComponent(API_KEY)],
    ["in base64", b64(API_KEY)],
    ["as base64 of Bearer <key>", b64(`Bearer ${API_KEY}`)],
    ["as base64 of an Authorization header line", b64(`Authorization: Bearer ${API_KEY}\r\n`)],
    ["shifted by one byte in base64", b64(`x${API_KEY}`)],
    ["shifted by two bytes in base64url", b64(`xy${API_KEY}`).replace(/\+/g, "-").replace(/\//g, "_")]
  ] as const) {
    it.effect(`${name}: the message says [redacted] and holds no trace of the key`, () =>
      Effect.gen(function* () {
        const { layer } = makeTestClient(() =>
          json({ statusCode: 401, message: `bad token: ${echoed}` }, { status: 401 })
        )
        const error = yield* Effect.flip(OpenAI.listModels().pipe(Effect.provide(layer)))
        expect(error.message).toContain("[redacted]")
        const text = JSON.stringify(error) + error.message
        expect(text.toLowerCase()).not.toContain(bare.toLowerCase())
        for (const run of [b64(API_KEY), b64(`Bearer ${API_KEY}`)])
          expect(text).not.toContain(run.slice(4, -4))
      })
    )
  }

  it.effect("ordinary text is left as it is", () =>
    Effect.gen(function* () {
      const { layer } = makeTestClient(() =>
        json({ statusCode: 400, message: "pst- is a prefix; test secret key" }, { status: 400 })
      )
      const error = yield* Effect.flip(OpenAI.listModels().pipe(Effect.provide(layer)))
      expect(error.message).toBe("pst- is a prefix; test secret key")
    })
  )
})
