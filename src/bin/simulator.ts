#!/usr/bin/env node
/**
 * `effect-novelai-simulator` (`npm run simulator` here): serves the local NovelAI simulator until
 * stopped. `--help` says how to use it.
 */
import { parseArgs } from "node:util"
import { type Quirks, startSimulator, type Tier } from "../testing/index.js"

const USAGE = `Usage: effect-novelai-simulator [options]

Serves a local NovelAI simulator (the OpenAI-compatible /oa/v1, the native text API, images and the
account) until stopped.

Options:
  --port N            port to listen on (default 0: a free one)
  --delay MS          delay between streamed chunks (default 20)
  --key KEY[:TIER]    accepted API key, with its tier: free, tablet, scroll (default) or opus
                      (repeatable; default pst-simulator, and pst-simulator-opus for Opus)
  --limit N           generations one key may run at once (default 1)
  --anlas N           Anlas every key starts with (default: its tier's monthly allowance)
  --well-behaved      none of NovelAI's quirks: answer as a well-behaved server would
  --no-quirk NAME     one quirk off (repeatable), e.g. --no-quirk emptyNonStreamingChat
  -h, --help          this help

Point a program at it with NOVELAI_BASE_URL and NOVELAI_API_KEY (printed when it starts).`

const fail = (message: string): never => {
  console.error(`effect-novelai-simulator: ${message.split("\n")[0]} (--help lists the options)`)
  process.exit(2)
}

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        help: { type: "boolean", short: "h", default: false },
        port: { type: "string", default: "0" },
        delay: { type: "string", default: "20" },
        key: { type: "string", multiple: true },
        limit: { type: "string", default: "1" },
        anlas: { type: "string" },
        "well-behaved": { type: "boolean", default: false },
        "no-quirk": { type: "string", multiple: true }
      }
    })
  } catch (error) {
    // An unknown option, a missing value, an argument: said in one line, not a stack.
    return fail(error instanceof Error ? error.message : String(error))
  }
})()
const { values } = parsed

if (values.help) {
  console.log(USAGE)
  process.exit(0)
}

const number = (name: string, value: string | undefined): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) {
    fail(`--${name} must be a non-negative integer (got ${value})`)
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
    ...(keys ? { apiKeys: keys } : {}),
    ...(values.anlas !== undefined ? { anlas: number("anlas", values.anlas) } : {})
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
  console.log(`Try: NOVELAI_API_KEY=${sim.apiKey} NOVELAI_BASE_URL=${sim.url} npx effect-novelai chat`)
  console.log("(or set those two variables for your own program; Ctrl-C stops the simulator)")
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
