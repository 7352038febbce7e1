/**
 * The Redis generation gate against a real redis-server: slots shared between gates (each gate
 * standing for a process: its own connections), the queue's order, leases that end when their
 * holder dies, the hold after a cancel, deadlines and interruption while waiting, Redis unreachable,
 * closing, and the options.
 */
import { createHash } from "node:crypto"
import { inspect } from "node:util"
import { Deferred, Effect, Exit, Fiber, Redacted } from "effect"
import { ConfigurationError, Errors } from "effect-novelai"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ENTER } from "../../src/internal/redis/scripts.js"
import { RedisGenerationGate } from "../../src/redis.js"
import { eventually, type RedisServer, redisServer, startRedis } from "./support.js"

const API_KEY = "pst-redis-test-key-0123456789"
const prefixOf = (apiKey: string) =>
  `effect-novelai:gate:{${createHash("sha256").update(apiKey).digest("hex").slice(0, 32)}}`

describe.skipIf(redisServer === undefined)("the Redis generation gate", () => {
  let redis: RedisServer
  const gates: Array<RedisGenerationGate.Options> = []
  const open: Array<{ close: () => Promise<void> }> = []
  let n = 0
  /** A gate on a key of its own test (or `key`), closed after the file. */
  const gate = (options: Partial<RedisGenerationGate.Tuning> & { key?: string; url?: string } = {}) => {
    const g = RedisGenerationGate.make({
      url: options.url ?? redis.url,
      key: options.key ?? `test:${n}`,
      ...options
    })
    open.push(g)
    return g
  }
  const held = (key: string, slot = "text") => redis.admin.zrange(`${key}:${slot}:held`, 0, -1)
  const queued = (key: string, slot = "text") => redis.admin.zcard(`${key}:${slot}:queue`)

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    for (const g of open) await g.close()
    await redis?.stop()
    void gates
  })

  it("one slot among gates of one key; another key is not held up", async () => {
    const key = `test:${++n}`
    const a = gate({ key })
    const b = gate({ key })
    const other = gate({ key: `test:${++n}` })
    const lease = await Effect.runPromise(a.acquire("text"))
    let bHolds = false
    const bLease = Effect.runPromise(b.acquire("text")).then((l) => {
      bHolds = true
      return l
    })
    await eventually("b queued", async () => (await queued(key)) === 1)
    // Another account, and the image slot of the same one, are free.
    const free = await Effect.runPromise(other.acquire("text"))
    const image = await Effect.runPromise(b.acquire("image"))
    expect(bHolds).toBe(false)
    await Effect.runPromise(lease.release("done"))
    const second = await bLease
    expect(await held(key)).toHaveLength(1)
    await Effect.runPromise(
      Effect.all([second.release("done"), free.release("done"), image.release("failed")])
    )
    // Given back in the background, at once.
    await eventually(
      "both slots free",
      async () => (await held(key)).length === 0 && (await held(key, "image")).length === 0
    )
  })

  it("waiters are served in the order they came, across gates", async () => {
    const key = `test:${++n}`
    const [holder, ...rest] = [gate({ key }), gate({ key }), gate({ key }), gate({ key })]
    const first = await Effect.runPromise(holder!.acquire("text"))
    const order: Array<number> = []
    const waits: Array<Promise<void>> = []
    for (const [i, g] of rest.entries()) {
      waits.push(
        Effect.runPromise(g.acquire("text")).then(async (lease) => {
          order.push(i)
          await Effect.runPromise(lease.release("done"))
        })
      )
      await eventually(`waiter ${i} queued`, async () => (await queued(key)) === i + 1)
    }
    await Effect.runPromise(first.release("done"))
    await Promise.all(waits)
    expect(order).toEqual([0, 1, 2])
  })

  it("a slot given back goes to the next waiter at once, told through Redis, not at its next poll", async () => {
    const key = `test:${++n}`
    // With a 30 s lease a waiter polls every 10 s: a handoff within a second was a message.
    const a = gate({ key, lease: "30 seconds" })
    const b = gate({ key, lease: "30 seconds" })
    const first = await Effect.runPromise(a.acquire("text"))
    const waiting = Effect.runPromise(b.acquire("text"))
    await eventually("b queued", async () => (await queued(key)) === 1)
    // The subscription is made with the first wait: wait until Redis has it.
    await eventually("b subscribed", async () => {
      const [, count] = (await redis.admin.pubsub("NUMSUB", `${key}:text:free`)) as [string, number]
      return count >= 1
    })
    const releasedAt = Date.now()
    await Effect.runPromise(first.release("done"))
    const second = await waiting
    expect(Date.now() - releasedAt).toBeLessThan(1_000)
    await Effect.runPromise(second.release("done"))
  })

  it("a waiter that stops looking (its process died) leaves the queue after a lease, and the next one goes on", async () => {
    const key = `test:${++n}`
    const a = gate({ key, lease: 600 })
    const c = gate({ key, lease: 600 })
    const first = await Effect.runPromise(a.acquire("text"))
    // A ticket queued as a waiter would queue it, which then never looks again.
    await redis.admin.eval(
      ENTER,
      4,
      `${key}:text:queue`,
      `${key}:text:alive`,
      `${key}:text:held`,
      `${key}:text:seq`,
      "dead",
      1,
      600,
      600,
      60_000
    )
    const waiting = Effect.runPromise(c.acquire("text"))
    await eventually("c queued behind the dead one", async () => (await queued(key)) === 2)
    await Effect.runPromise(first.release("done"))
    const lease = await waiting
    expect(await redis.admin.zscore(`${key}:text:queue`, "dead")).toBeNull()
    await Effect.runPromise(lease.release("done"))
  })

  it("within one gate, generations beyond its concurrency wait in the process, not in Redis", async () => {
    const key = `test:${++n}`
    const g = gate({ key, concurrency: 2 })
    const leases = await Effect.runPromise(Effect.all([g.acquire("text"), g.acquire("text")]))
    const third = Effect.runFork(g.acquire("text"))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await queued(key)).toBe(0)
    expect(await held(key)).toHaveLength(2)
    await Effect.runPromise(leases[0]!.release("done"))
    const lease = await Effect.runPromise(Fiber.join(third))
    await Effect.runPromise(Effect.all([leases[1]!.release("done"), lease.release("done")]))
    await eventually("both slots free", async () => (await held(key)).length === 0)
  })

  it("a lease is renewed while held, and a holder that stops renewing (dies) holds nothing after its lease", async () => {
    const key = `test:${++n}`
    const dying = gate({ key, lease: 600 })
    const other = gate({ key, lease: 600 })
    await Effect.runPromise(dying.acquire("text"))
    const [ticket] = await held(key)
    const score = async () => Number(await redis.admin.zscore(`${key}:text:held`, ticket!))
    const before = await score()
    // Renewed twice: the lease outlived its first 600 ms.
    await eventually("two renewals", async () => (await score()) >= before + 300, 3_000)
    expect(await held(key)).toEqual([ticket])
    // Closing a gate stops its renewals without giving its slots back, as a killed process would.
    await dying.close()
    const stoppedAt = Date.now()
    const lease = await Effect.runPromise(other.acquire("text"))
    const waited = Date.now() - stoppedAt
    expect(waited).toBeLessThan(600 + 400)
    await Effect.runPromise(lease.release("done"))
  })

  it("a slot whose generation was interrupted stays held for interruptedHold; done or failed, it is free at once", async () => {
    const key = `test:${++n}`
    const g = gate({ key, interruptedHold: "1500 millis" })
    const lease = await Effect.runPromise(g.acquire("text"))
    const [ticket] = await held(key)
    const [seconds, micros] = await redis.admin.time()
    await Effect.runPromise(lease.release("interrupted"))
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    const until = async () => Number(await redis.admin.zscore(`${key}:text:held`, ticket!))
    await eventually("the hold set", async () => (await until()) - now > 1400)
    expect((await until()) - now).toBeLessThanOrEqual(1600)
    // A second release of the same lease changes nothing.
    await Effect.runPromise(lease.release("done"))
    expect(await held(key)).toEqual([ticket])
    await redis.admin.del(`${key}:text:held`)
    for (const outcome of ["done", "failed"] as const) {
      const next = await Effect.runPromise(g.acquire("text"))
      await Effect.runPromise(next.release(outcome))
      await eventually(`free after ${outcome}`, async () => (await held(key)).length === 0)
    }
  })

  it("a waiter interrupted (a deadline, a cancel) leaves the queue and holds nothing", async () => {
    const key = `test:${++n}`
    const a = gate({ key })
    const b = gate({ key })
    const c = gate({ key })
    const lease = await Effect.runPromise(a.acquire("text"))
    const timedOut = await Effect.runPromiseExit(Effect.timeout(b.acquire("text"), "200 millis"))
    expect(Exit.isFailure(timedOut)).toBe(true)
    await eventually("the timed-out ticket gone", async () => (await queued(key)) === 0)
    const waiting = Effect.runFork(b.acquire("text"))
    await eventually("b queued", async () => (await queued(key)) === 1)
    await Effect.runPromise(Fiber.interrupt(waiting))
    await eventually("the interrupted ticket gone", async () => (await queued(key)) === 0)
    // c comes after the two that gave up and gets the slot next.
    const cWaits = Effect.runPromise(c.acquire("text"))
    await eventually("c queued", async () => (await queued(key)) === 1)
    await Effect.runPromise(lease.release("done"))
    const cLease = await cWaits
    expect(await held(key)).toHaveLength(1)
    await Effect.runPromise(cLease.release("done"))
    // b's gate was not left stuck by the interrupted waits.
    const again = await Effect.runPromise(b.acquire("text"))
    await Effect.runPromise(again.release("done"))
  })

  it("closing a gate fails its waiters with GenerationGateError, ends its connections, and refuses new acquires", async () => {
    const key = `test:${++n}`
    const a = gate({ key })
    const b = gate({ key })
    const lease = await Effect.runPromise(a.acquire("text"))
    const waiting = Effect.runPromise(Effect.flip(b.acquire("text")))
    await eventually("b queued", async () => (await queued(key)) === 1)
    await b.close()
    // Its ticket left the queue with it.
    expect(await queued(key)).toBe(0)
    const error = await waiting
    expect(error).toBeInstanceOf(Errors.GenerationGateError)
    expect(error.message).toMatch(/closed/)
    const after = await Effect.runPromise(Effect.flip(b.acquire("text")))
    expect(after.message).toMatch(/closed/)
    await Effect.runPromise(lease.release("done"))
    const clients = await redis.admin.client("LIST")
    expect(
      String(clients)
        .split("\n")
        .filter((line) => line.includes("cmd=")).length
    ).toBeGreaterThan(0)
  })

  it("a client of the caller's is used and left open; its gate's own subscriber is closed", async () => {
    const client = new Redis(redis.url)
    const key = `test:${++n}`
    const g = RedisGenerationGate.make({ client, key })
    const other = gate({ key })
    const lease = await Effect.runPromise(other.acquire("text"))
    const waiting = Effect.runPromise(g.acquire("text"))
    await eventually("queued", async () => (await queued(key)) === 1)
    await Effect.runPromise(lease.release("done"))
    await Effect.runPromise((await waiting).release("done"))
    await g.close()
    expect(client.status).toBe("ready")
    expect(await client.ping()).toBe("PONG")
    client.disconnect()
  })

  it("Redis unreachable: a GenerationGateError by default; with whenUnreachable: local, this process's own gate", async () => {
    const down = `redis://:secret-password@127.0.0.1:${redis.port + 1}`
    const failing = gate({ url: down, key: "down", operationTimeout: "1 second" })
    const error = await Effect.runPromise(Effect.flip(failing.acquire("text")))
    expect(error).toBeInstanceOf(Errors.GenerationGateError)
    expect(error.message).toMatch(/Redis/)
    expect(error.message).not.toContain("secret-password")
    // The process's own permit was given back: a second try fails the same way rather than hang.
    expect(await Effect.runPromise(Effect.flip(failing.acquire("text")))).toBeInstanceOf(
      Errors.GenerationGateError
    )

    const local = gate({ url: down, key: "down", whenUnreachable: "local", operationTimeout: "1 second" })
    const first = await Effect.runPromise(local.acquire("text"))
    const second = Effect.runFork(local.acquire("text"))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(second.unsafePoll()).toBeNull()
    await Effect.runPromise(first.release("done"))
    const lease = await Effect.runPromise(Fiber.join(second))
    await Effect.runPromise(lease.release("done"))
  })

  it("the Redis keys are named by a SHA-256 of the API key, never the key", async () => {
    const g = RedisGenerationGate.make({ url: redis.url, apiKey: Redacted.make(API_KEY) })
    open.push(g)
    const lease = await Effect.runPromise(g.acquire("image"))
    const keys = await redis.admin.keys("*")
    expect(keys.some((k) => k.startsWith(`${prefixOf(API_KEY)}:image:`))).toBe(true)
    expect(keys.some((k) => k.includes(API_KEY))).toBe(false)
    await Effect.runPromise(lease.release("done"))
    // Every key expires: an idle account leaves nothing behind for ever.
    const ttls = await Promise.all(
      keys.filter((k) => k.startsWith(prefixOf(API_KEY))).map((k) => redis.admin.pttl(k))
    )
    // -2: the key is gone (an empty set); -1 would be a key kept for ever.
    expect(ttls.filter((ttl) => ttl !== -2).length).toBeGreaterThan(0)
    expect(ttls.every((ttl) => ttl === -2 || ttl > 0)).toBe(true)
  })

  it("options are checked when the gate is made, in messages that never carry the key", () => {
    const refused = (options: unknown) => {
      try {
        RedisGenerationGate.make(options as RedisGenerationGate.Options)
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError)
        expect((error as Error).message).not.toContain(API_KEY)
        return (error as Error).message
      }
      throw new Error("not refused")
    }
    expect(refused({ apiKey: API_KEY })).toMatch(/url .* or client/)
    expect(refused({ url: "http://x", apiKey: API_KEY })).toMatch(/redis:\/\//)
    expect(refused({ url: "redis://x" })).toMatch(/apiKey .* or key/)
    expect(refused({ url: "redis://x", apiKey: API_KEY, key: "k" })).toMatch(/one of them/)
    expect(refused({ url: "redis://x", apiKey: API_KEY, concurrency: 0 })).toMatch(/concurrency/)
    expect(refused({ url: "redis://x", apiKey: API_KEY, lease: "1 millis" })).toMatch(/lease/)
    expect(refused({ url: "redis://x", apiKey: API_KEY, whenUnreachable: "ignore" })).toMatch(
      /whenUnreachable/
    )
    // A URL ioredis cannot read (it would throw it back, password and all) or a database that is
    // not a number (ioredis would crash the process selecting it).
    for (const url of [
      "redis://:pass-word-1@127.0.0.1:99999",
      "redis://:pass-word-1@[127.0.0.1",
      "redis://:pass-word-1@a b:6379"
    ]) {
      const message = refused({ url, apiKey: API_KEY })
      expect(message).toMatch(/url is not a URL/)
      expect(message).not.toContain("pass-word-1")
    }
    expect(refused({ url: "redis://127.0.0.1:6379/notadb", apiKey: API_KEY })).toMatch(
      /database must be a number/
    )
    expect(refused({ url: "redis://127.0.0.1:6379/?db=x", apiKey: API_KEY })).toMatch(/database/)
    const malformed = refused({ url: "redis://:pass-word-1%zz@127.0.0.1:6379", apiKey: API_KEY })
    expect(malformed).toMatch(/malformed %-escape/)
    expect(malformed).not.toContain("pass-word-1")
  })

  it("a slot is given back without holding up the generation: a stalled Redis does not delay or fail it", async () => {
    const key = `test:${++n}`
    const g = gate({ key, operationTimeout: "3 seconds" })
    const lease = await Effect.runPromise(g.acquire("text"))
    // Redis answers no client for 2 s (the admin's own command is the last it takes).
    await redis.admin.client("PAUSE", 2_000, "ALL")
    const pausedAt = Date.now()
    await Effect.runPromise(lease.release("done"))
    expect(Date.now() - pausedAt).toBeLessThan(1_000)
    // The slot is free once Redis answers again.
    await eventually("the slot free", async () => (await held(key)).length === 0, 5_000)
  })

  it("a slot given back and asked for again by the same fiber goes straight through (the ask does not overtake the release)", async () => {
    const key = `test:${++n}`
    // With a 30 s lease a waiter looks again only every 10 s: an ask that overtook its own
    // release would wait that long.
    const g = gate({ key, lease: "30 seconds" })
    const took = await Effect.runPromise(
      Effect.gen(function* () {
        const first = yield* g.acquire("text")
        yield* first.release("done")
        const started = Date.now()
        const second = yield* g.acquire("text")
        const ms = Date.now() - started
        yield* second.release("done")
        return ms
      })
    )
    expect(took).toBeLessThan(1_000)
  })

  it("closing a gate also fails the generations waiting for the process's own permit", async () => {
    const key = `test:${++n}`
    const g = RedisGenerationGate.make({ url: redis.url, key, concurrency: 1 })
    const lease = await Effect.runPromise(g.acquire("text"))
    const waiting = Effect.runPromise(Effect.flip(g.acquire("text")))
    await g.close()
    // It fails at the close, while the first slot is still held (not when it is given back).
    const error = await waiting
    expect(error).toBeInstanceOf(Errors.GenerationGateError)
    expect(error.message).toMatch(/closed/)
    await Effect.runPromise(lease.release("done"))
  })

  it("a Redis that refuses the password: a GenerationGateError that carries the password nowhere", async () => {
    const guarded = await startRedis()
    try {
      await guarded.admin.config("SET", "requirepass", "right-password-123")
      for (const password of ["wrong-password-456", "right-password-123x"]) {
        const g = RedisGenerationGate.make({
          url: `redis://:${password}@127.0.0.1:${guarded.port}`,
          key: "auth",
          operationTimeout: "1 second"
        })
        const error = await Effect.runPromise(Effect.flip(g.acquire("text")))
        await g.close()
        expect(error).toBeInstanceOf(Errors.GenerationGateError)
        for (const shown of [error.message, JSON.stringify(error), inspect(error, { depth: 10 })]) {
          expect(shown).not.toContain(password)
          expect(shown).not.toContain("right-password-123")
        }
      }
    } finally {
      await guarded.stop()
    }
  })

  it("the layer provides a gate and closes it with its scope", async () => {
    const key = `test:${++n}`
    const other = gate({ key })
    const closed = await Effect.runPromise(
      Effect.gen(function* () {
        const g = yield* RedisGenerationGate
        const lease = yield* g.acquire("text")
        yield* lease.release("done")
        return g
      }).pipe(Effect.provide(RedisGenerationGate.layer({ url: redis.url, key })))
    )
    expect((await Effect.runPromise(Effect.flip(closed.acquire("text")))).message).toMatch(/closed/)
    const lease = await Effect.runPromise(other.acquire("text"))
    await Effect.runPromise(lease.release("done"))
    void Deferred
  })
})
