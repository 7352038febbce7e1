/**
 * `GET /ai/generate-image/suggest-tags?model=&prompt=&lang=`: tags of a small fixed vocabulary
 * that start with the last comma-separated fragment of `prompt`, most used first, as
 * `{ tags: [{ tag, count, confidence }] }`. NovelAI answers it without a key too; the simulator
 * asks for one, as for every call.
 */
import type { Exchange } from "../exchange.js"
import { sendJson } from "../reply.js"

const VOCABULARY: ReadonlyArray<readonly [string, number]> = [
  ["1girl", 6_200_000],
  ["solo", 5_400_000],
  ["long hair", 3_900_000],
  ["looking at viewer", 3_100_000],
  ["smile", 3_000_000],
  ["blush", 2_800_000],
  ["short hair", 2_100_000],
  ["cat ears", 420_000],
  ["cat tail", 260_000],
  ["cat girl", 150_000],
  ["catgirl", 90_000],
  ["castle", 60_000],
  ["lighthouse", 12_000],
  ["landscape", 110_000],
  ["fox ears", 130_000],
  ["fox", 80_000]
]

export const handleTags = (ex: Exchange): void => {
  if (ex.method !== "GET") {
    ex.fail(404, `Cannot ${ex.method} ${ex.path}`)
    return
  }
  const query = new URL(ex.req.url ?? "/", "http://simulator").searchParams
  const prompt = query.get("prompt")
  if (prompt === null || prompt.trim() === "") {
    ex.fail(400, "Validation error: prompt must not be empty")
    return
  }
  const fragment = prompt.split(",").at(-1)!.trim().toLowerCase()
  const top = VOCABULARY[0]![1]
  const tags = VOCABULARY.filter(([tag]) => tag.startsWith(fragment))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([tag, count]) => ({ tag, count, confidence: Math.round((count / top) * 1000) / 1000 }))
  sendJson(ex.res, 200, { tags })
}
