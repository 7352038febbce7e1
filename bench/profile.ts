/**
 * `node bench/.out/profile.mjs [--op whole|first|plain] [--calls N] [--only <name>]`: one operation
 * of the benchmark for one contender or each, against the simulator in its own process, in blocks
 * of 50 calls that alternate between the contenders; prints each one's median and what it adds
 * over raw fetch. Run with `--only` under `node --cpu-prof` to see where a contender spends its
 * time (the benchmark bundles it: `node bench/main.mjs --build-only`).
 */
import { all, type Contender, type StreamResult } from "./contenders.js"
import { spawnSimulator } from "./simulator.js"
import { median, rotate } from "./stats.js"

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? fallback : process.argv[at + 1]!
}
const op = arg("op", "whole")
const calls = Number(arg("calls", "2000"))
const only = arg("only", "")

const once = (contender: Contender): Promise<unknown> =>
  op === "whole" ? contender.whole() : op === "plain" ? contender.chat() : contender.stream(16)

const main = async () => {
  const sim = await spawnSimulator()
  const contenders = all
    .map((make) => make({ url: sim.url, apiKey: sim.apiKey }))
    .filter((c) => only === "" || c.name.toLowerCase().includes(only.toLowerCase()))
  const times = new Map(contenders.map((c) => [c.name, [] as Array<number>]))
  const block = 50
  const rounds = Math.max(2, Math.ceil(calls / block))
  for (let round = 0; round < rounds; round++) {
    for (const contender of rotate(contenders, round)) {
      for (let i = 0; i < block; i++) {
        const started = performance.now()
        const result = await once(contender)
        // The time to the first chunk, or to the end of the call; the first quarter of the rounds warms up.
        const ms = op === "first" ? (result as StreamResult).firstChunkMs : performance.now() - started
        if (round >= rounds / 4) times.get(contender.name)!.push(ms)
      }
    }
  }
  const raw = times.has("raw fetch") ? median(times.get("raw fetch")!) : undefined
  for (const contender of contenders) {
    const mid = median(times.get(contender.name)!) * 1000
    const added = raw === undefined ? "" : `, ${(mid - raw * 1000).toFixed(0)} µs over raw fetch`
    console.log(`${contender.name}: ${op} ${mid.toFixed(0)} µs${added}`)
    await contender.close()
  }
  await sim.stop()
}

await main()
