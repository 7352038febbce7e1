/**
 * The simulator's accounts: each key's Anlas balance, charged by the image calls at the price
 * NovelAI's formula gives (the client's own `cost`, which its tests check against IMAGE-WIRE.md's
 * worked figures), and `GET /user/subscription` as the image host answers it.
 */
import type { CostAccount, CostRequest } from "../../internal/image/cost.js"
import { cost } from "../../internal/image/cost.js"
import type { Exchange } from "./exchange.js"
import type { Tier } from "./quirks.js"
import { sendJson } from "./reply.js"

/** Each tier's monthly Anlas, as NovelAI gives them; a free key has none. */
export const ALLOWANCE: Readonly<Record<Tier, number>> = { free: 0, tablet: 1000, scroll: 1000, opus: 10000 }

const TIER_NUMBER: Readonly<Record<Tier, number>> = { free: 0, tablet: 1, scroll: 2, opus: 3 }

/** The account `cost` prices for, from a key's tier. */
export const accountOf = (tier: Tier): CostAccount => ({ tier: TIER_NUMBER[tier], active: tier !== "free" })

export interface Wallets {
  /** The key's Anlas left. */
  readonly balance: (key: string, tier: Tier) => number
  /**
   * Charges what `request` costs the key, when its balance covers it: the price, or undefined
   * when it does not (nothing charged).
   */
  readonly charge: (key: string, tier: Tier, request: CostRequest) => number | undefined
}

/** Balances start at the tier's allowance, or at `start[key]` when given. */
export const makeWallets = (start: ReadonlyMap<string, number>): Wallets => {
  const spent = new Map<string, number>()
  const balance = (key: string, tier: Tier) => (start.get(key) ?? ALLOWANCE[tier]) - (spent.get(key) ?? 0)
  return {
    balance,
    charge: (key, tier, request) => {
      const price = cost(request, accountOf(tier)).anlas
      if (price > balance(key, tier)) return undefined
      spent.set(key, (spent.get(key) ?? 0) + price)
      return price
    }
  }
}

/** `GET /user/subscription`: the key's tier, a fixed expiry, its balance, V5's battery on Opus. */
export const handleAccount = (wallets: Wallets, ex: Exchange): void => {
  if (ex.method !== "GET") {
    ex.fail(404, `Cannot ${ex.method} ${ex.path}`)
    return
  }
  const tier = TIER_NUMBER[ex.tier]
  sendJson(ex.res, 200, {
    tier,
    active: ex.tier !== "free",
    expiresAt: ex.tier === "free" ? 0 : 1_900_000_000,
    perks: {
      maxPriorityActions: 1000,
      startPriority: 10,
      contextTokens: tier >= 2 ? 8192 : 4096,
      unlimitedMaxPriority: tier === 3,
      moduleTrainingSteps: 0
    },
    paymentProcessor: ex.tier === "free" ? null : "simulator",
    accountType: 0,
    isGracePeriod: false,
    trainingStepsLeft: {
      fixedTrainingStepsLeft: wallets.balance(ex.key, ex.tier),
      purchasedTrainingSteps: 0
    },
    ...(tier === 3 ? { usage: { percent: 100, isNegative: false, timeUntilNextPercent: 864 } } : {})
  })
}
