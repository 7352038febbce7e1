#!/usr/bin/env node
/**
 * `npm run simulator` / `effect-novelai-simulator`: serves the local NovelAI simulator until stopped.
 *
 *   --port N            port to listen on (default 0: a free one)
 *   --delay MS          delay between streamed chunks (default 20)
 *   --key KEY[:TIER]    accepted API key, with its tier: free, tablet, scroll (default) or opus
 *                       (repeatable; default pst-simulator, and pst-simulator-opus for Opus)
 *   --limit N           generations one key may run at once (default 1)
 *   --well-behaved      none of NovelAI's quirks: answer as a well-behaved server would
 *   --no-quirk NAME     one quirk off (repeatable), e.g. --no-quirk emptyNonStreamingChat
 */
import { parseArgs } from "node:util"
import { type Quirks, startSimulator, type Tier } from "../testing/index.js"

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    delay: { type: "string", default: "20" },
    key: { type: "string", multiple: true },
    limit: { type: "string", default: "1" },
    "well-behaved": { type: "boolean", default: false },
    "no-quirk": { type: "string", multiple: true }
  }
})

const number = (name: string, value: string | undefined): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer (got ${value})`)
    process.exit(2)
  }
  return n
}

const keys = values.key?.map((entry) => {
  const at = entry.lastIndexOf(":")
  return at === -1 ? entry : { key: entry.slice(0, at), tier: entry.slice(at + 1) as Tier }
})

const quirks: boolean | Partial<Quirks> = values["well-behaved"]
  ? false
  : Object.fromEntries((values["no-quirk"] ?? []).map((name) => [name, false]))

const main = async () => {
  const sim = await startSimulator({
    port: number("port", values.port),
    chunkDelayMs: number("delay", values.delay),
    concurrencyLimit: Math.max(1, number("limit", values.limit)),
    quirks,
    ...(keys ? { apiKeys: keys } : {})
  })
  const off = Object.entries(sim.quirks)
    .filter(([, on]) => !on)
    .map(([name]) => name)
  console.log(`NovelAI simulator listening on ${sim.url} (key: ${sim.apiKey})`)
  console.log(
    off.length === 0
      ? "Behaving as NovelAI does (every quirk on)"
      : `Quirks off: ${off.length === Object.keys(sim.quirks).length ? "all (well-behaved)" : off.join(", ")}`
  )
  console.log(`Try: NOVELAI_API_KEY=${sim.apiKey} NOVELAI_BASE_URL=${sim.url} npm start`)
  const stop = () => {
    void sim.close().then(() => process.exit(0))
  }
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
}

main().catch((error: unknown) => {
  console.error(`Could not start the simulator: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
