/**
 * The Redis generation gate across real processes: a redis-server, the simulator in a process of
 * its own with its strict lock (a cancelled generation keeps the key's lock until it would have
 * finished), and workers (test/redis/fixtures/worker.ts), each a facade and an Effect client on its
 * own gate. Every case runs for two API keys at once, which must not hold each other up. The
 * simulator's log is the judge: a generation sent while another held the key's lock is a 429 there.
 * Also: the two-process demo (`npm run demo:redis`) runs as documented.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { eventually, type RedisServer, redisServer, startRedis } from "../redis/support.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
// The fixtures are bundled once into plain CommonJS files run by node: a process starts in a
// fraction of the time tsx takes to compile the sources, which matters with eight of them.
const bundles = mkdtempSync(join(tmpdir(), "effect-novelai-redis-"))
const FIXTURES = { simulator: "test/redis/fixtures/simulator.ts", worker: "test/redis/fixtures/worker.ts" }
const KEYS = ["pst-redis-program-a", "pst-redis-program-b"] as const

interface Proc {
  readonly child: ChildProcess
  /** Every JSON line printed so far. */
  readonly lines: Array<Record<string, unknown>>
  readonly stderr: () => string
  /** The first line with this `event` (or with this field), waiting for it. */
  readonly line: (
    pred: (line: Record<string, unknown>) => boolean,
    what: string,
    ms?: number
  ) => Promise<Record<string, unknown>>
  readonly exited: Promise<number | null>
  /** Its exit code, waiting at most `ms`; fails with what it printed otherwise. */
  readonly exit: (ms?: number) => Promise<number | null>
}

const running = new Set<ChildProcess>()

const start = (
  fixture: keyof typeof FIXTURES,
  env: Record<string, string>,
  args: Array<string> = []
): Proc => {
  const file = FIXTURES[fixture]
  const child = spawn(process.execPath, [join(bundles, `${fixture}.cjs`), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  running.add(child)
  const lines: Array<Record<string, unknown>> = []
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk) => {
    stdout += String(chunk)
    let at = stdout.indexOf("\n")
    while (at !== -1) {
      const line = stdout.slice(0, at)
      stdout = stdout.slice(at + 1)
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        // not ours (a log line)
      }
      at = stdout.indexOf("\n")
    }
  })
  child.stderr!.on("data", (chunk) => {
    stderr += String(chunk)
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child)
      resolve(code)
    })
  )
  return {
    child,
    lines,
    stderr: () => stderr,
    line: async (pred, what, ms = 60_000) => {
      await eventually(`${file}: ${what} (stderr: ${stderr.slice(-500)})`, () => lines.some(pred), ms)
      return lines.find(pred)!
    },
    exited,
    exit: (ms = 60_000) =>
      Promise.race([
        exited,
        new Promise<never>((_, reject) =>
          setTimeout(
            () =>
              reject(
                new Error(`${file} did not exit: ${JSON.stringify(lines.slice(-5))} ${stderr.slice(-500)}`)
              ),
            ms
          ).unref()
        )
      ])
  }
}

interface Logged {
  readonly key: string
  readonly method: string
  readonly path: string
  readonly status: number | undefined
  readonly receivedAt: number
}

const startSimulatorProcess = async () => {
  const sim = start("simulator", { CHUNK_DELAY_MS: "3" }, [...KEYS])
  const { url } = await sim.line((l) => typeof l.url === "string", "the simulator's URL")
  return {
    url: url as string,
    /** Ends the simulator and returns every request it saw. */
    log: async (): Promise<ReadonlyArray<Logged>> => {
      sim.child.stdin!.end()
      const report = await sim.line((l) => Array.isArray(l.requests), "the simulator's log")
      await sim.exited
      expect(report.errors).toEqual([])
      return report.requests as ReadonlyArray<Logged>
    }
  }
}

const prefixOf = (apiKey: string) =>
  `effect-novelai:gate:{${createHash("sha256").update(apiKey).digest("hex").slice(0, 32)}}`

const generations = (log: ReadonlyArray<Logged>, key: string) =>
  log.filter((r) => r.key === key && r.method === "POST")

describe.skipIf(redisServer === undefined)("the Redis gate across processes", () => {
  let redis: RedisServer
  beforeAll(async () => {
    ;[redis] = await Promise.all([
      startRedis(),
      build({
        entryPoints: Object.fromEntries(
          Object.entries(FIXTURES).map(([name, file]) => [name, join(root, file)])
        ),
        outdir: bundles,
        outExtension: { ".js": ".cjs" },
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        // Resolved as the repository resolves them (tsconfig.json paths): the sources.
        tsconfig: join(root, "tsconfig.json"),
        external: ["llama3-tokenizer-js"],
        logLevel: "error"
      })
    ])
  }, 60_000)
  afterAll(async () => {
    for (const child of running) child.kill("SIGKILL")
    await redis?.stop()
    rmSync(bundles, { recursive: true, force: true })
  })
  // A test that failed leaves no process behind for the next.
  afterEach(() => {
    for (const child of running) child.kill("SIGKILL")
  })

  it("three processes per key, two keys at once, 30 generations each of every kind (some cut, some aborted): all complete, no 429", async () => {
    const sim = await startSimulatorProcess()
    const workers = KEYS.flatMap((key) =>
      [0, 1, 2].map((i) =>
        start("worker", {
          REDIS_URL: redis.url,
          NOVELAI_BASE_URL: sim.url,
          NOVELAI_API_KEY: key,
          COUNT: "30",
          OFFSET: String(i * 3),
          LEASE_MS: "3000",
          HOLD_MS: "600"
        })
      )
    )
    const codes = await Promise.all(workers.map((w) => w.exit(80_000)))
    const log = await sim.log()
    for (const [i, w] of workers.entries()) {
      expect(codes[i], w.stderr()).toBe(0)
      const done = w.lines.find((l) => l.event === "done")
      expect(done, w.stderr()).toBeDefined()
      expect(done!.errors).toEqual([])
      expect(done!.completed).toBe(30)
    }
    for (const key of KEYS) {
      const sent = generations(log, key)
      // 90 generations, less the aborted calls that ended while they waited (nothing sent).
      expect(sent.length).toBeGreaterThan(80)
      expect(sent.filter((r) => r.status === 429)).toEqual([])
      // 200, or no status at all for an aborted call NovelAI had not answered yet.
      expect(sent.filter((r) => r.status !== 200 && r.status !== undefined)).toEqual([])
    }
    // Nothing is left behind in Redis: no waiter, no slot held once the holds ended.
    for (const key of KEYS) expect(await redis.admin.zcard(`${prefixOf(key)}:text:queue`)).toBe(0)
  }, 100_000)

  it("a holder killed with SIGKILL mid-generation: the others go on once its lease ends (two keys at once), no 429", async () => {
    const sim = await startSimulatorProcess()
    const LEASE = 3000
    const env = (key: string) => ({
      REDIS_URL: redis.url,
      NOVELAI_BASE_URL: sim.url,
      NOVELAI_API_KEY: key,
      LEASE_MS: String(LEASE),
      HOLD_MS: "600",
      WAIT_FOR_GO: "1"
    })
    const scenario = async (key: string) => {
      // The victim's generation lasts 300 chunks of 3 ms: once killed, NovelAI's lock outlives it by
      // less than the 2 s a lease has left at least (renewed every second).
      const victim = start("worker", { ...env(key), MODE: "victim", VICTIM_TOKENS: "300" })
      const others = [0, 1].map((i) => start("worker", { ...env(key), COUNT: "10", OFFSET: String(i * 5) }))
      await Promise.all([victim, ...others].map((p) => p.line((l) => l.event === "ready", "ready")))
      victim.child.stdin!.write("go\n")
      await victim.line((l) => l.event === "holding", "the victim holding the slot")
      for (const p of others) p.child.stdin!.write("go\n")
      await eventually(
        "both others queued",
        async () => (await redis.admin.zcard(`${prefixOf(key)}:text:queue`)) === 2
      )
      victim.child.kill("SIGKILL")
      const killedAt = Date.now()
      await victim.exited
      expect(victim.lines.some((l) => l.event === "finished")).toBe(false)
      const codes = await Promise.all(others.map((p) => p.exit(40_000)))
      for (const [i, p] of others.entries()) {
        expect(codes[i], p.stderr()).toBe(0)
        const done = p.lines.find((l) => l.event === "done")
        expect(done!.errors).toEqual([])
        expect(done!.completed).toBe(10)
      }
      return killedAt
    }
    const killedAt = await Promise.all(KEYS.map(scenario))
    const log = await sim.log()
    for (const [i, key] of KEYS.entries()) {
      const sent = generations(log, key)
      expect(sent.filter((r) => r.status === 429)).toEqual([])
      const next = sent.find((r) => r.receivedAt > killedAt[i]!)
      expect(next).toBeDefined()
      const gap = next!.receivedAt - killedAt[i]!
      // Not before the lease the victim last renewed ended (at least 2 s on), and not much after.
      expect(gap).toBeGreaterThanOrEqual(LEASE - LEASE / 3 - 200)
      expect(gap).toBeLessThanOrEqual(LEASE + 1000)
    }
  }, 100_000)

  it("npm run demo:redis: two processes share one key through Redis, without a collision", async () => {
    const demo = spawn("npm", ["run", "--silent", "demo:redis"], {
      cwd: root,
      env: { ...process.env, REDIS_URL: redis.url, NOVELAI_API_KEY: "", NOVELAI_BASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    running.add(demo)
    let stdout = ""
    let stderr = ""
    demo.stdout.on("data", (chunk) => {
      stdout += String(chunk)
    })
    demo.stderr.on("data", (chunk) => {
      stderr += String(chunk)
    })
    const code = await new Promise<number | null>((resolve) => demo.once("exit", resolve))
    running.delete(demo)
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/process 1: generation 1 of 4/)
    expect(stdout).toMatch(/process 2: generation 4 of 4/)
    expect(stdout).toMatch(/8 generations from 2 processes, one at a time: 0 met NovelAI's lock \(429\)/)
  }, 60_000)
})
