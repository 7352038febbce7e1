/**
 * The gate's state in Redis and the Lua scripts that change it, each one atomic step. Per slot of
 * one account (`<key>:<slot>`):
 *
 * - `:queue`, a sorted set of waiting tickets by arrival (`:seq` numbers them): the order slots are
 *   given in;
 * - `:alive`, a sorted set of the same tickets by the time their waiter must next be heard from: a
 *   waiter that stops polling (its process died) leaves the queue then;
 * - `:held`, a sorted set of the tickets holding a slot by the end of their lease: a holder that
 *   stops renewing (its process died) holds nothing once it ends;
 * - a channel, `:free`, told whenever a slot may have become free, so waiters look again at once
 *   rather than at their next poll.
 *
 * Time is Redis's (`TIME`), so processes on machines whose clocks differ agree. Every key expires
 * when the gate of that account is idle.
 */
import { createHash } from "node:crypto"

/** The names of one slot's keys. */
export interface SlotKeys {
  readonly queue: string
  readonly alive: string
  readonly held: string
  readonly seq: string
  readonly channel: string
}

export const slotKeys = (prefix: string, slot: string): SlotKeys => ({
  queue: `${prefix}:${slot}:queue`,
  alive: `${prefix}:${slot}:alive`,
  held: `${prefix}:${slot}:held`,
  seq: `${prefix}:${slot}:seq`,
  channel: `${prefix}:${slot}:free`
})

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/** Expires every key `ttl` ms from now: an idle account leaves nothing behind. */
const EXPIRE = `for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end`

/**
 * Drops the leases that ended and the waiters not heard from; true when a lease ended (a slot may
 * be free for the waiters left).
 */
const PURGE = `local ended = redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 1, #dead do redis.call('ZREM', KEYS[1], dead[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)`

/**
 * Joins the queue (once) or stays in it, and takes a slot when the ticket is among the first
 * waiters and a slot is free. KEYS: queue, alive, held, seq. ARGV: ticket, limit, lease ms, alive
 * ms, ttl ms. Returns `{1}` when the ticket holds a slot, else `{0, ms until the first lease ends
 * (-1: none held), the ticket's place in the queue (0: next)}`.
 */
export const ENTER = `${NOW}
local ticket, limit, lease, alive, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
${PURGE}
if redis.call('ZSCORE', KEYS[3], ticket) then return {1} end
if not redis.call('ZSCORE', KEYS[1], ticket) then
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[4]), ticket)
end
local place = redis.call('ZRANK', KEYS[1], ticket)
${EXPIRE}
if place < limit - redis.call('ZCARD', KEYS[3]) then
  redis.call('ZREM', KEYS[1], ticket)
  redis.call('ZREM', KEYS[2], ticket)
  redis.call('ZADD', KEYS[3], now + lease, ticket)
  return {1}
end
redis.call('ZADD', KEYS[2], now + alive, ticket)
local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
local wait = -1
if first[2] then wait = tonumber(first[2]) - now end
return {0, wait, place}`

/**
 * Extends a held lease. A lease that ended meanwhile (the process stalled longer than the lease) is
 * taken back when a slot is free, since the generation is running. KEYS: queue, alive, held, seq.
 * ARGV: ticket, limit, lease ms, ttl ms. Returns 1 when held, 2 when taken back, 0 when lost.
 */
export const RENEW = `${NOW}
local ticket, limit, lease, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
${EXPIRE}
if redis.call('ZSCORE', KEYS[3], ticket) then
  redis.call('ZADD', KEYS[3], now + lease, ticket)
  return 1
end
${PURGE}
if redis.call('ZCARD', KEYS[3]) < limit then
  redis.call('ZADD', KEYS[3], now + lease, ticket)
  return 2
end
return 0`

/**
 * Leaves: out of the queue, and out of the held slots, or, with a hold, kept held for `hold` ms
 * more (a cancelled generation NovelAI still runs). Tells the waiters when a place or a slot was
 * given up or its end moved. KEYS: queue, alive, held, seq. ARGV: ticket, hold ms, channel.
 */
export const LEAVE = `${NOW}
local ticket, hold, channel = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local waited = redis.call('ZREM', KEYS[1], ticket)
redis.call('ZREM', KEYS[2], ticket)
local held = redis.call('ZSCORE', KEYS[3], ticket)
if held and hold > 0 then
  redis.call('ZADD', KEYS[3], now + hold, ticket)
  local ttl = redis.call('PTTL', KEYS[3])
  if ttl >= 0 and ttl < hold then redis.call('PEXPIRE', KEYS[3], hold) end
  -- The waiters learn when it ends now (sooner than its lease would have).
  redis.call('PUBLISH', channel, '1')
  return 0
end
local freed = redis.call('ZREM', KEYS[3], ticket)
if freed + waited > 0 then redis.call('PUBLISH', channel, '1') end
return freed`

export interface Script {
  readonly source: string
  readonly sha: string
}

const script = (source: string): Script => ({
  source,
  sha: createHash("sha1").update(source).digest("hex")
})

export const scripts = {
  enter: script(ENTER),
  renew: script(RENEW),
  leave: script(LEAVE)
}
