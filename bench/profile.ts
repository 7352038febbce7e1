/**
 * `node bench/.out/profile.mjs [--op whole|whole+first|first|plain|image|image-stream] [--calls N] [--only <name>]`:
 * one operation of the benchmark for one contender or each, against the simulator in its own
 * process, in blocks of 50 calls that alternate between the contenders; prints each one's median
 * and what it adds over the floor (raw fetch). Run with `--only` under `node --cpu-prof` to see
 * where a contender spends its time (the benchmark bundles it: `node bench/main.mjs --build-only`).
 */
import { all, rawAsEffectStream, type StreamResult } from "./contenders.js"
import { allImages } from "./images.js"
import { spawnSimulator } from "./simulator.js"
import { median, rotate } from "./stats.js"

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? fallback : process.argv[at + 1]!
}
const op = arg("op", "whole")
const calls = Number(arg("calls", "2000"))
const only = arg("only", "")

interface Measured {
  readonly name: string
  /** One call: resolves to the ms it took (to the first chunk for `first`). */
  readonly once: () => Promise<number>
  readonly close: () => Promise<void>
}

const timed = async (call: () => Promise<unknown>) => {
  const started = performance.now()
  await call()
  return performance.now() - started
}

const contendersFor = async (target: { url: string; apiKey: string }): Promise<Array<Measured>> => {
  if (op === "image" || op === "image-stream") {
    const images = await Promise.all(allImages.map((make) => make(target)))
    return images.map((c) => ({
      name: c.name,
      once: () => timed(op === "image" ? c.generate : c.stream),
      close: c.close
    }))
  }
  // Raw fetch first (the floor), then the reference row: raw fetch's chunks as an Effect Stream.
  return [all[0]!, rawAsEffectStream, ...all.slice(1)]
    .map((make) => make(target))
    .map((c) => ({
      name: c.name,
      once:
        op === "first"
          ? async () => ((await c.stream(16)) as StreamResult).firstChunkMs
          : op === "whole+first"
            ? // As the benchmark's whole-reply phase runs it: each reply followed by a 16-token stream.
              async () => {
                const ms = await timed(c.whole)
                await c.stream(16)
                return ms
              }
            : () => timed(op === "plain" ? c.chat : c.whole),
      close: c.close
    }))
}

const main = async () => {
  const sim = await spawnSimulator()
  const contenders = (await contendersFor({ url: sim.url, apiKey: sim.apiKey })).filter(
    (c, i) => i === 0 || only === "" || c.name.toLowerCase().includes(only.toLowerCase())
  )
  const times = new Map(contenders.map((c) => [c.name, [] as Array<number>]))
  const block = 50
  const rounds = Math.max(2, Math.ceil(calls / block))
  for (let round = 0; round < rounds; round++) {
    for (const contender of rotate(contenders, round)) {
      for (let i = 0; i < block; i++) {
        const ms = await contender.once()
        // The first quarter of the rounds warms up.
        if (round >= rounds / 4) times.get(contender.name)!.push(ms)
      }
    }
  }
  const floor = median(times.get(contenders[0]!.name)!) * 1000
  for (const contender of contenders) {
    const mid = median(times.get(contender.name)!) * 1000
    const added = mid - floor
    console.log(
      `${contender.name}: ${op} ${mid.toFixed(0)} µs, ${added.toFixed(0)} µs (${((100 * added) / floor).toFixed(1)} %) over the floor`
    )
    await contender.close()
  }
  await sim.stop()
}

await main()
