/**
 * The subscription answer, decoded as a caller reads it: tier, active, expiry, Anlas, the V5 usage
 * battery; and priced against, for the exact cost of a call.
 */
import { Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  decodeSubscription,
  host,
  method,
  path,
  Subscription,
  SubscriptionFromWire
} from "../../src/internal/account/subscription.js"
import { generationCost } from "../../src/internal/image/cost.js"

/** IMAGE-WIRE.md §7: a live Opus answer (live study, 2026-10-02; `expiresAt` invented). */
const opusAnswer = {
  tier: 3,
  active: true,
  paymentProcessor: "…",
  expiresAt: 1790000000,
  accountType: 0,
  isGracePeriod: false,
  isPaypal: false,
  perks: {
    maxPriorityActions: 1000,
    startPriority: 10,
    contextTokens: 8192,
    unlimitedMaxPriority: true,
    moduleTrainingSteps: 10000
  },
  trainingStepsLeft: { fixedTrainingStepsLeft: 9646, purchasedTrainingSteps: 0 },
  usage: { percent: 100, isNegative: false, timeUntilNextPercent: 7888 }
}

const decode = (json: unknown) => decodeSubscription("subscription")(json)
const decoded = (json: unknown): Subscription => Either.getOrThrow(decode(json))

describe("§7 subscription answer", () => {
  it("§1, §7: is read from /user/subscription on the image host", () => {
    expect({ host, method, path }).toEqual({ host: "image", method: "GET", path: "/user/subscription" })
  })

  it("§7: the live Opus answer decodes into tier, active, expiry and Anlas", () => {
    const subscription = decoded(opusAnswer)
    expect(subscription).toBeInstanceOf(Subscription)
    expect(subscription.tier).toBe(3)
    expect(subscription.tierName).toBe("Opus")
    expect(subscription.active).toBe(true)
    expect(subscription.expiresAt?.toISOString()).toBe("2026-09-21T14:13:20.000Z")
    expect(subscription.anlas).toEqual({ fixed: 9646, purchased: 0, total: 9646 })
    expect(subscription.perks?.maxPriorityActions).toBe(1000)
    expect(subscription.isGracePeriod).toBe(false)
  })

  it("§7: Anlas = fixedTrainingStepsLeft (monthly) + purchasedTrainingSteps (bought)", () => {
    const subscription = decoded({
      ...opusAnswer,
      trainingStepsLeft: { fixedTrainingStepsLeft: 120, purchasedTrainingSteps: 5000 }
    })
    expect(subscription.anlas).toEqual({ fixed: 120, purchased: 5000, total: 5120 })
  })

  it("§7: the battery shows 100 % and refills 86400 / 7888 ≈ 10.95 % a day", () => {
    const battery = decoded(opusAnswer).battery
    expect(battery).toMatchObject({ percent: 100, negative: false, secondsUntilNextPercent: 7888 })
    expect(battery?.percentPerDay).toBeCloseTo(10.953, 3)
  })

  it("§7: a negative battery shows 0 %, and an out-of-range percent is clamped", () => {
    const negative = decoded({
      ...opusAnswer,
      usage: { percent: 12, isNegative: true, timeUntilNextPercent: 60 }
    })
    expect(negative.battery).toMatchObject({ percent: 0, negative: true })
    const over = decoded({
      ...opusAnswer,
      usage: { percent: 140, isNegative: false, timeUntilNextPercent: 60 }
    })
    expect(over.battery?.percent).toBe(100)
  })

  it("§7: the battery exists only on an active tier ≥ 3", () => {
    expect(decoded({ ...opusAnswer, tier: 2, usage: opusAnswer.usage }).battery).toBeUndefined()
    expect(decoded({ ...opusAnswer, active: false }).battery).toBeUndefined()
    const { usage: _, ...withoutUsage } = opusAnswer
    expect(decoded(withoutUsage).battery).toBeUndefined()
  })

  it("§7: tiers are named 0 Paper, 1 Tablet, 2 Scroll, 3 Opus; an unknown tier still decodes", () => {
    expect([0, 1, 2, 3, 4].map((tier) => decoded({ ...opusAnswer, tier }).tierName)).toEqual([
      "Paper",
      "Tablet",
      "Scroll",
      "Opus",
      "Tier 4"
    ])
  })

  it("§7: older answers' extra perks are kept, unknown top-level fields ignored, nulls tolerated", () => {
    const subscription = decoded({
      ...opusAnswer,
      perks: { ...opusAnswer.perks, unlimitedImageGeneration: true },
      somethingNew: { x: 1 },
      paymentProcessor: null,
      expiresAt: null,
      usage: null
    })
    expect(subscription.perks?.unlimitedImageGeneration).toBe(true)
    expect(subscription.paymentProcessor).toBeUndefined()
    expect(subscription.expiresAt).toBeUndefined()
    expect(subscription.battery).toBeUndefined()
    expect("somethingNew" in subscription).toBe(false)
  })

  it("an answer without the balance or with a wrong type is a ResponseDecodeError naming the field", () => {
    const { trainingStepsLeft: _, ...withoutBalance } = opusAnswer
    const missing = decode(withoutBalance)
    expect(Either.isLeft(missing)).toBe(true)
    if (Either.isLeft(missing)) {
      expect(missing.left._tag).toBe("ResponseDecodeError")
      expect(missing.left.message).toContain("subscription: the subscription answer")
      expect(missing.left.message).toContain("trainingStepsLeft")
    }
    const wrong = decode({ ...opusAnswer, tier: "opus" })
    expect(Either.isLeft(wrong) && wrong.left.message).toContain("tier")
    expect(Either.isLeft(decode("<html>"))).toBe(true)
  })

  it("encodes back to the wire shape it came from", () => {
    const subscription = decoded(opusAnswer)
    const wire = Schema.encodeSync(SubscriptionFromWire)(subscription)
    expect(wire).toMatchObject({
      tier: 3,
      active: true,
      expiresAt: 1790000000,
      trainingStepsLeft: opusAnswer.trainingStepsLeft,
      usage: opusAnswer.usage
    })
  })
})

describe("§7, §8: the decoded subscription prices a call exactly", () => {
  it("§7: on Opus with a charged battery a normal V5 image is free; with a negative one it costs 26", () => {
    const charged = decoded(opusAnswer)
    expect(generationCost({ model: "nai-diffusion-5-full", size: "portrait" }, charged).anlas).toBe(0)
    const drained = decoded({
      ...opusAnswer,
      usage: { percent: 0, isNegative: true, timeUntilNextPercent: 7888 }
    })
    const estimate = generationCost({ model: "nai-diffusion-5-full", size: "portrait" }, drained)
    expect(estimate.anlas).toBe(26)
    expect(estimate.affordable).toBe(true)
  })

  it("§7: a lapsed Opus subscription pays for every image, and the balance says whether it can", () => {
    const lapsed = decoded({
      ...opusAnswer,
      active: false,
      trainingStepsLeft: { fixedTrainingStepsLeft: 10, purchasedTrainingSteps: 6 }
    })
    const estimate = generationCost({ size: "portrait" }, lapsed)
    expect(estimate.anlas).toBe(17)
    expect(estimate.affordable).toBe(false)
  })
})

describe("Account.subscription against the simulator", () => {
  it("reads the key's tier and balance on the image host, from Effect and from Promises", async () => {
    const { FetchHttpClient } = await import("@effect/platform")
    const { Effect, Layer } = await import("effect")
    const { Account, Image, NovelAI, NovelAIClient } = await import("effect-novelai")
    const { startSimulator } = await import("effect-novelai/testing")
    const sim = await startSimulator({
      apiKeys: [{ key: "pst-opus", tier: "opus" }, "pst-scroll"],
      anlas: { "pst-scroll": 120 }
    })
    try {
      const layer = (apiKey: string) =>
        NovelAIClient.layer({ apiKey, baseUrl: "http://127.0.0.1:9", imageBaseUrl: sim.url }).pipe(
          Layer.provide(FetchHttpClient.layer)
        )
      const opus = await Effect.runPromise(Effect.provide(Account.subscription(), layer("pst-opus")))
      expect(opus).toMatchObject({ tier: 3, tierName: "Opus", active: true, anlas: { total: 10000 } })
      expect(opus.battery).toMatchObject({ percent: 100, negative: false })
      expect(sim.requests.map((r) => [r.method, r.path])).toEqual([["GET", "/user/subscription"]])

      const client = new NovelAI({ apiKey: "pst-scroll", imageBase: sim.url })
      const scroll = await client.account.subscription()
      expect(scroll).toMatchObject({ tier: 2, tierName: "Scroll", anlas: { fixed: 120, total: 120 } })
      // The answer prices a call exactly, with whether the balance covers it.
      const big = { prompt: "x", size: "portrait", steps: 28, nSamples: 8 } as const
      expect(Image.cost(big, scroll)).toMatchObject({ anlas: 160, affordable: false })
      await client.close()
    } finally {
      await sim.close()
    }
  })
})
