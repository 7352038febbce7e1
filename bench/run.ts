/**
 * `npm run bench`: what each client adds on top of the network, measured against raw fetch and the
 * official `openai` package on the same machine in the same run. `--smoke` runs a tiny workload
 * (for the test suite: it checks the script works, and times nothing that is asserted).
 */
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { all, type Contender, rawAsEffectStream } from "./contenders.js"
import { gatedAndUngated } from "./gate.js"
import { allImages, type ImageContender, SAMPLES, STEPS } from "./images.js"
import { measureMemory, measureOpenStreams } from "./memory.js"
import { spawnSimulator } from "./simulator.js"
import { measureSize } from "./size.js"
import { median, quantile, rotate } from "./stats.js"

const smoke = process.argv.includes("--smoke")
const write = !smoke && !process.argv.includes("--no-write")
// Each phase alternates the contenders in small blocks over many rounds (the first a warm-up), so
// the drift of a shared, noisy machine hits them alike.
const config = smoke
  ? {
      latency: { rounds: 2, warmup: 1, calls: 5 },
      whole: { rounds: 2, warmup: 1, calls: 3 },
      rps: { rounds: 2, calls: 64, concurrency: 8 },
      stream: { rounds: 2, chunks: 200 },
      memory: [200, 400],
      imports: 1,
      images: { rounds: 2, warmup: 1, calls: 2 },
      gate: { rounds: 2, warmup: 1, calls: 5 },
      open: 20
    }
  : {
      // Latency keeps falling for about eight rounds of 100 calls (the JIT): six are a warm-up.
      latency: { rounds: 26, warmup: 6, calls: 100 },
      whole: { rounds: 16, warmup: 4, calls: 50 },
      rps: { rounds: 11, calls: 2000, concurrency: 64 },
      stream: { rounds: 25, chunks: 10_000 },
      memory: [100_000, 1_000_000],
      imports: 7,
      images: { rounds: 14, warmup: 2, calls: 10 },
      gate: { rounds: 30, warmup: 6, calls: 100 },
      open: 1000
    }

const log = (line: string) => console.log(line)
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "n/a"

interface Row {
  readonly name: string
  p50: Array<number>
  p99: Array<number>
  rps: Array<number>
  chunksPerSecond: Array<number>
  firstChunk: Array<number>
  whole: Array<number>
  first: Array<number>
}

const main = async () => {
  const sim = await spawnSimulator()
  const target = { url: sim.url, apiKey: sim.apiKey }
  const contenders: Array<Contender> = all.map((make) => make(target))
  // The whole-reply phase also measures what any Effect stream of raw fetch's chunks costs.
  const reference = rawAsEffectStream(target)
  const withReference = [contenders[0]!, reference, ...contenders.slice(1)]
  const rows = new Map<string, Row>(
    withReference.map((c) => [
      c.name,
      { name: c.name, p50: [], p99: [], rps: [], chunksPerSecond: [], firstChunk: [], whole: [], first: [] }
    ])
  )
  const phase = async (
    name: string,
    rounds: number,
    run: (contender: Contender, row: Row, measured: boolean) => Promise<void>,
    warmup = 1,
    among = contenders
  ) => {
    for (let round = 0; round < rounds; round++) {
      for (const contender of rotate(among, round))
        await run(contender, rows.get(contender.name)!, round >= warmup)
    }
    log(`${name}: ${rounds} rounds done (the first ${warmup === 1 ? "a warm-up" : `${warmup} a warm-up`})`)
  }
  try {
    log(`Simulator at ${sim.url}; contenders interleaved in every phase.`)
    // 1. Latency at concurrency 1.
    await phase(
      "latency",
      config.latency.rounds,
      async (contender, row, measured) => {
        const times: Array<number> = []
        for (let i = 0; i < config.latency.calls; i++) {
          const started = performance.now()
          await contender.chat()
          times.push(performance.now() - started)
        }
        if (measured) {
          row.p50.push(median(times))
          row.p99.push(quantile(times, 0.99))
        }
      },
      config.latency.warmup
    )
    // 2. A whole reply through a stream, at concurrency 1: what every client must do for a chat
    // reply from NovelAI, whose non-streaming chat answers empty.
    const texts = new Map<string, string>()
    await phase(
      "whole reply",
      config.whole.rounds,
      async (contender, row, measured) => {
        const times: Array<number> = []
        const firsts: Array<number> = []
        for (let i = 0; i < config.whole.calls; i++) {
          const started = performance.now()
          const text = await contender.whole()
          times.push(performance.now() - started)
          texts.set(contender.name, text)
          // The same reply's size as a stream consumed chunk by chunk: its time to the first chunk.
          firsts.push((await contender.stream(16)).firstChunkMs)
        }
        if (measured) {
          row.whole.push(median(times))
          row.first.push(median(firsts))
        }
      },
      config.whole.warmup,
      withReference
    )
    if (new Set(texts.values()).size !== 1 || [...texts.values()][0] === "") {
      throw new Error(`the contenders' whole replies differ: ${JSON.stringify([...texts])}`)
    }
    // 3. Throughput at concurrency 64.
    await phase("throughput", config.rps.rounds, async (contender, row, measured) => {
      let next = 0
      const started = performance.now()
      await Promise.all(
        Array.from({ length: config.rps.concurrency }, async () => {
          while (next++ < config.rps.calls) await contender.chat()
        })
      )
      if (measured) row.rps.push(config.rps.calls / ((performance.now() - started) / 1000))
    })
    // 4. Streaming throughput and time to first chunk.
    await phase("streaming", config.stream.rounds, async (contender, row, measured) => {
      const started = performance.now()
      const result = await contender.stream(config.stream.chunks)
      const seconds = (performance.now() - started) / 1000
      if (result.chunks !== config.stream.chunks) {
        throw new Error(`${contender.name} got ${result.chunks} chunks, expected ${config.stream.chunks}`)
      }
      if (measured) {
        row.chunksPerSecond.push(result.chunks / seconds)
        row.firstChunk.push(result.firstChunkMs)
      }
    })
  } finally {
    for (const contender of contenders) await contender.close()
  }

  // 5. Images: a 4-sample generation and a 28-step stream, over raw fetch + fflate / msgpack.
  const imageContenders: Array<ImageContender> = []
  for (const make of allImages) imageContenders.push(await make(target))
  const imageRows = new Map(
    imageContenders.map((c) => [c.name, { generate: [] as Array<number>, stream: [] as Array<number> }])
  )
  try {
    const got = new Map<string, string>()
    for (let round = 0; round < config.images.rounds; round++) {
      for (const contender of rotate(imageContenders, round)) {
        const generate: Array<number> = []
        const stream: Array<number> = []
        for (let i = 0; i < config.images.calls; i++) {
          let started = performance.now()
          const bytes = await contender.generate()
          generate.push(performance.now() - started)
          started = performance.now()
          const events = await contender.stream()
          stream.push(performance.now() - started)
          got.set(contender.name, `${bytes} bytes, ${events} events`)
        }
        if (round >= config.images.warmup) {
          imageRows.get(contender.name)!.generate.push(median(generate))
          imageRows.get(contender.name)!.stream.push(median(stream))
        }
      }
    }
    if (new Set(got.values()).size !== 1) {
      throw new Error(`the image contenders got different answers: ${JSON.stringify([...got])}`)
    }
    log(
      `images: ${config.images.rounds} rounds done (the first ${config.images.warmup} a warm-up): ${[...got.values()][0]}`
    )
  } finally {
    for (const contender of imageContenders) await contender.close()
  }

  // 6. An uncontended gate slot: the same plain chat through the default gate (one slot, which
  // nobody else holds) and through none, interleaved; the difference is what taking the slot costs.
  const gate = await gatedAndUngated(target)
  const gateRounds = { gated: [] as Array<number>, ungated: [] as Array<number> }
  try {
    for (let round = 0; round < config.gate.rounds; round++) {
      for (const which of round % 2 === 0
        ? (["gated", "ungated"] as const)
        : (["ungated", "gated"] as const)) {
        const times: Array<number> = []
        for (let i = 0; i < config.gate.calls; i++) {
          const started = performance.now()
          await gate[which]()
          times.push(performance.now() - started)
        }
        if (round >= config.gate.warmup) gateRounds[which].push(median(times))
      }
    }
    log(`gate: ${config.gate.rounds} rounds done (the first ${config.gate.warmup} a warm-up)`)
  } finally {
    await gate.close()
  }
  const slotCost = (median(gateRounds.gated) - median(gateRounds.ungated)) * 1000

  log("Memory: heap while consuming long streams (separate processes)...")
  const memory = await measureMemory(target, config.memory as [number, number])
  log(`Memory: ${config.open} chat streams held open after their first chunk (separate processes)...`)
  const open = await measureOpenStreams(target, config.open)
  await sim.stop()
  log("Size and start-up...")
  const size = await measureSize(config.imports)

  const summary = [...rows.values()].map((row) => ({
    name: row.name,
    reference: row.name === reference.name,
    p50: median(row.p50),
    p99: median(row.p99),
    rps: median(row.rps),
    chunksPerSecond: median(row.chunksPerSecond),
    firstChunk: median(row.firstChunk),
    whole: median(row.whole),
    first: median(row.first)
  }))
  const raw = summary[0]!
  const clients = summary.filter((s) => !s.reference)
  const openai = summary.find((s) => s.name === "openai package")!
  const added = (s: (typeof summary)[number]) => (s.p50 - raw.p50) * 1000
  const addedWhole = (s: (typeof summary)[number]) => (s.whole - raw.whole) * 1000
  const addedFirst = (s: (typeof summary)[number]) => (s.first - raw.first) * 1000

  const lines: Array<string> = []
  lines.push("### Non-streaming chat completion (`collectStream: false`)", "")
  lines.push(
    "| contender | p50 latency (ms) | p99 (ms) | added over raw fetch (µs) | ratio to raw | req/s at concurrency 64 | ratio to raw |"
  )
  lines.push("|---|---|---|---|---|---|---|")
  for (const s of clients) {
    lines.push(
      `| ${s.name} | ${fmt(s.p50, 3)} | ${fmt(s.p99, 3)} | ${s === raw ? "-" : fmt(added(s))} | ${fmt(s.p50 / raw.p50, 2)} | ${fmt(s.rps)} | ${fmt(s.rps / raw.rps, 2)} |`
    )
  }
  lines.push(
    "",
    "### A whole chat reply through a stream (16 tokens, streamed and collected)",
    "",
    "Against NovelAI every client must do this for a chat reply (its non-streaming chat answers empty): raw fetch and the `openai` package join the deltas by hand; our clients' `chatCompletion` does it by default and gives a full `ChatCompletion`. The reference row reads raw fetch's own chunks through an Effect `Stream` (`Stream.fromAsyncIterable`, then `Stream.runForEach`, as the Effect API is consumed here): what running any Effect stream of this reply costs: a floor for the Effect API's time to first chunk, consumed the same way (its whole reply, `chatCompletion`, runs no `Stream`).",
    ""
  )
  lines.push(
    "| contender | p50 latency (ms) | added over raw fetch (µs) | ratio to raw | time to first chunk, 16-token stream (ms) | added over raw fetch (µs) |"
  )
  lines.push("|---|---|---|---|---|---|")
  for (const s of summary) {
    lines.push(
      `| ${s.name} | ${fmt(s.whole, 3)} | ${s === raw ? "-" : fmt(addedWhole(s))} | ${fmt(s.whole / raw.whole, 2)} | ${fmt(s.first, 3)} | ${s === raw ? "-" : fmt(addedFirst(s))} |`
    )
  }
  lines.push("", `### Streaming: a ${fmt(config.stream.chunks)}-chunk chat stream`, "")
  lines.push("| contender | chunks/s | ratio to raw | ratio to openai | time to first chunk (ms) |")
  lines.push("|---|---|---|---|---|")
  for (const s of clients) {
    lines.push(
      `| ${s.name} | ${fmt(s.chunksPerSecond)} | ${fmt(s.chunksPerSecond / raw.chunksPerSecond, 2)} | ${fmt(s.chunksPerSecond / openai.chunksPerSecond, 2)} | ${fmt(s.firstChunk, 3)} |`
    )
  }
  const [small, large] = config.memory.map((n) => fmt(n))
  lines.push("", "### Memory: heap used after consuming a stream, and at its peak", "")
  lines.push(
    `| contender | after ${small} chunks (MB) | after ${large} chunks (MB) | ratio | peak, ${small} (MB) | peak, ${large} (MB) | ratio |`
  )
  lines.push("|---|---|---|---|---|---|---|")
  for (const m of memory) {
    lines.push(
      `| ${m.name} | ${fmt(m.small.retained / 1e6, 1)} | ${fmt(m.large.retained / 1e6, 1)} | ${fmt(m.large.retained / m.small.retained, 2)} | ${fmt(m.small.peak / 1e6, 1)} | ${fmt(m.large.peak / 1e6, 1)} | ${fmt(m.large.peak / m.small.peak, 2)} |`
    )
  }
  const images = [...imageRows].map(([name, row]) => ({
    name,
    reference: imageContenders.find((c) => c.name === name)?.reference === true,
    generate: median(row.generate),
    stream: median(row.stream)
  }))
  const floor = images[0]!
  lines.push(
    "",
    `### Images: a ${SAMPLES}-sample generation (512×512, a ZIP of PNGs) and a ${STEPS}-step stream (msgpack frames)`,
    "",
    "The floor is raw fetch with `fflate` (unzip) or `@msgpack/msgpack` (the frames) sending the same body. The facade's stream events carry base64 images, as the SDK documents them. The reference row reads the floor's frames through an Effect `Stream` (`Stream.fromAsyncIterable`, then `Stream.runCount`, as the Effect API is consumed here): what running any Effect stream of these events costs; its generation is the floor's own.",
    ""
  )
  lines.push("| contender | generation (ms) | ratio to floor | stream (ms) | ratio to floor |")
  lines.push("|---|---|---|---|---|")
  for (const i of images) {
    lines.push(
      `| ${i.name} | ${fmt(i.generate, 3)} | ${fmt(i.generate / floor.generate, 3)} | ${fmt(i.stream, 3)} | ${fmt(i.stream / floor.stream, 3)} |`
    )
  }
  lines.push(
    "",
    `### Memory per open stream: ${fmt(config.open)} chat streams held after their first chunk`,
    "",
    "Heap after a GC, less the heap before they were opened, per stream (the simulator stalls each after its first chunks). The reference row holds no request: what `Stream.toAsyncIterableRuntime` and Effect's stream runtime keep for any stream held open, a floor the Effect API's row includes.",
    "",
    "| contender | per open stream (KB) |",
    "|---|---|"
  )
  for (const o of open) lines.push(`| ${o.name} | ${fmt(o.perStream / 1000, 1)} |`)
  lines.push(
    "",
    "### An uncontended generation slot",
    "",
    `The same plain chat (\`collectStream: false\`, Effect API on undici) through the default gate (one slot, nobody else holding it) and with the gate lifted (\`generationConcurrency: "unbounded"\`), interleaved: ${fmt(median(gateRounds.gated), 3)} ms vs ${fmt(median(gateRounds.ungated), 3)} ms, so a slot costs **${fmt(slotCost)} µs**.`
  )
  lines.push("", "### Size and start-up", "")
  lines.push("| what | minified | minified + gzip |")
  lines.push("|---|---|---|")
  for (const b of size.bundles) lines.push(`| ${b.name} | ${fmt(b.minified)} B | ${fmt(b.gzip)} B |`)
  lines.push("", "| cold `import` in a new Node process | median (ms) |", "|---|---|")
  for (const i of size.imports) lines.push(`| ${i.name} | ${fmt(i.ms, 1)} |`)

  const checks = summary
    .filter((s) => s.name === "Effect API (Node undici)" || s.name === "Promise facade")
    .flatMap((s) => [
      {
        what: `${s.name}: added latency <= half of openai's`,
        ok: added(s) <= added(openai) / 2,
        detail: `${fmt(added(s))} µs vs ${fmt(added(openai))} µs`
      },
      {
        what: `${s.name}: whole reply through a stream, added latency <= half of openai's`,
        ok: addedWhole(s) <= addedWhole(openai) / 2,
        detail: `${fmt(addedWhole(s))} µs vs ${fmt(addedWhole(openai))} µs`
      },
      {
        what: `${s.name}: time to first chunk (16-token stream), added latency <= half of openai's`,
        ok: addedFirst(s) <= addedFirst(openai) / 2,
        detail: `${fmt(addedFirst(s))} µs vs ${fmt(addedFirst(openai))} µs`
      },
      {
        what: `${s.name}: req/s >= openai's`,
        ok: s.rps >= openai.rps,
        detail: `${fmt(s.rps)} vs ${fmt(openai.rps)}`
      },
      {
        what: `${s.name}: chunks/s >= 1.5x openai's`,
        ok: s.chunksPerSecond >= 1.5 * openai.chunksPerSecond,
        detail: `${fmt(s.chunksPerSecond / openai.chunksPerSecond, 2)}x`
      }
    ])
    .concat(
      images
        .slice(1)
        .filter((i) => !i.reference)
        .flatMap((i) => [
          {
            what: `${i.name}: a ${SAMPLES}-sample generation at most 10 % over raw fetch + fflate`,
            ok: i.generate <= floor.generate * 1.1,
            detail: `${fmt((i.generate / floor.generate - 1) * 100, 1)} %`
          },
          {
            what: `${i.name}: a ${STEPS}-step stream at most 10 % over raw fetch + msgpack`,
            ok: i.stream <= floor.stream * 1.1,
            detail: `${fmt((i.stream / floor.stream - 1) * 100, 1)} %`
          }
        ])
    )
    .concat(
      open.slice(0, 2).map((o) => ({
        what: `${o.name}: memory per open stream <= openai's`,
        ok: o.perStream <= open[2]!.perStream,
        detail: `${fmt(o.perStream / 1000, 1)} KB vs ${fmt(open[2]!.perStream / 1000, 1)} KB`
      }))
    )
    .concat([
      {
        what: "an uncontended gate slot costs at most 20 µs",
        ok: slotCost <= 20,
        detail: `${fmt(slotCost)} µs`
      }
    ])
    .concat(
      memory.map((m) => ({
        what: `${m.name}: heap after consuming is flat in stream length (ratio < 1.1)`,
        ok: m.large.retained / m.small.retained < 1.1,
        detail: fmt(m.large.retained / m.small.retained, 2)
      }))
    )
  lines.push("", "### Targets", "", "| target | met | measured |", "|---|---|---|")
  for (const c of checks) lines.push(`| ${c.what} | ${c.ok ? "yes" : "**no**"} | ${c.detail} |`)

  const report = lines.join("\n")
  log(`\n${report}\n`)
  if (write) {
    const cpus = os.cpus()
    const machine = `${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${fmt(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`
    const commit = (() => {
      try {
        return execFileSync("git", ["rev-parse", "--short", "HEAD"]).toString().trim()
      } catch {
        return "unknown"
      }
    })()
    const history = readFileSync(new URL("../../bench/history.md", import.meta.url), "utf8")
    writeFileSync(
      new URL("../../BENCHMARKS.md", import.meta.url),
      `# Benchmarks\n\nMeasured ${new Date().toISOString().slice(0, 10)} at commit ${commit} on ${machine}.\n\nReproduce: \`npm run bench\` (builds, starts the simulator in its own process in its fastest mode on loopback (no delays, no generation lock, NovelAI's quirks on but for the empty non-streaming chat, so that a plain request carries a reply), then runs each phase in interleaved rounds (latency ${config.latency.rounds} rounds of ${config.latency.calls} calls, the first ${config.latency.warmup} a warm-up; whole reply ${config.whole.rounds} rounds of ${config.whole.calls}, the first ${config.whole.warmup} a warm-up; throughput ${config.rps.rounds} rounds of ${config.rps.calls} calls and streaming ${config.stream.rounds} streams each, the first a warm-up); values are medians over rounds; ratios are against raw \`fetch\` + \`JSON.parse\` measured in the same run).\n\n${report}\n\n${history}`
    )
    log("Wrote BENCHMARKS.md")
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
