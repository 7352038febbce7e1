/**
 * A real `redis-server` for the Redis gate's tests: one per test file, on a free loopback port, no
 * persistence, killed when the file ends. Absent (not installed), the tests say so and skip; CI
 * installs it (`.ci/run`) and sets `REQUIRE_REDIS=1` (or `REQUIRE_RUNTIMES=1` for the programs),
 * which turns the skip into a failure.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { createServer } from "node:net"
import { Redis } from "ioredis"

const which = (command: string): string | undefined => {
  try {
    return execFileSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
}

/** The `redis-server` binary, or undefined when it is not installed. */
export const redisServer: string | undefined = which("redis-server")

export const skipReason =
  "redis-server is not installed (apt-get install redis-server; .ci/run installs it): the Redis gate's tests are skipped"

const required = process.env.REQUIRE_REDIS === "1" || process.env.REQUIRE_RUNTIMES === "1"
if (redisServer === undefined && required) {
  throw new Error(skipReason.replace("are skipped", "cannot run (REQUIRE_REDIS=1)"))
}
if (redisServer === undefined) console.warn(skipReason)

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** A client of the test's own (closed by `stop`). */
  readonly admin: Redis
  readonly stop: () => Promise<void>
}

/** Starts a redis-server and waits until it accepts connections. */
export const startRedis = async (): Promise<RedisServer> => {
  if (redisServer === undefined) throw new Error(skipReason)
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const child: ChildProcess = spawn(
      redisServer,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning"
      ],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let output = ""
    child.stdout?.on("data", (chunk) => {
      output += String(chunk)
    })
    child.stderr?.on("data", (chunk) => {
      output += String(chunk)
    })
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    const admin = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 })
    admin.on("error", () => {})
    const ready = await (async () => {
      for (let i = 0; i < 200; i++) {
        if (child.exitCode !== null) return false
        try {
          if (admin.status === "wait" || admin.status === "end") await admin.connect()
          if ((await admin.ping()) === "PONG") return true
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 25))
        }
      }
      return false
    })()
    if (ready) {
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        admin,
        stop: async () => {
          admin.disconnect()
          child.kill("SIGKILL")
          await exited
        }
      }
    }
    admin.disconnect()
    child.kill("SIGKILL")
    await exited
    if (attempt >= 3) throw new Error(`redis-server did not start: ${output}`)
  }
}

/** Polls `check` every 10 ms until it holds, for at most `ms`; fails with `what` otherwise. */
export const eventually = async (what: string, check: () => Promise<boolean> | boolean, ms = 5_000) => {
  const until = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
