#!/usr/bin/env node
/**
 * `npm run simulator` / `effect-novelai-simulator`: serves the local NovelAI simulator until stopped.
 *
 *   --port N        port to listen on (default 0: a free one)
 *   --delay MS      delay between streamed chunks (default 20)
 *   --key KEY       accepted API key (repeatable; default pst-simulator)
 *   --limit N       generations one key may run at once (default 1)
 */
import { parseArgs } from "node:util"
import { startSimulator } from "../testing/index.js"

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    delay: { type: "string", default: "20" },
    key: { type: "string", multiple: true },
    limit: { type: "string", default: "1" }
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

const main = async () => {
  const sim = await startSimulator({
    port: number("port", values.port),
    chunkDelayMs: number("delay", values.delay),
    concurrencyLimit: Math.max(1, number("limit", values.limit)),
    ...(values.key ? { apiKeys: values.key } : {})
  })
  console.log(`NovelAI simulator listening on ${sim.url} (key: ${sim.apiKey})`)
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
