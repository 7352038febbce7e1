/**
 * NovelAI's subscription answer (`GET /user/subscription` on the image host, IMAGE-WIRE.md §7),
 * decoded into what a caller acts on: the tier, whether it is active, when it expires, the Anlas
 * balance and, on Opus, V5's usage battery. The old host (`api.novelai.net`) answers 400 there now.
 *
 * The endpoint itself is declared with the account family; this module is its path, host and
 * decoder, pure.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { responseDecoder } from "../core/decode.js"
import type { Host } from "../core/endpoint.js"

/**
 * The host the subscription is read from: the image host (`https://image.novelai.net`).
 *
 * @since 0.1.0
 * @category endpoint
 */
export const host = "image" as const satisfies Host

/**
 * The subscription's path on {@link host}.
 *
 * @since 0.1.0
 * @category endpoint
 */
export const path = "/user/subscription"

/**
 * The subscription's method.
 *
 * @since 0.1.0
 * @category endpoint
 */
export const method = "GET" as const

/**
 * What `api.novelai.net/user/subscription` answers (400) since the move to the image host: a
 * client or simulator still on the old host recognises it by this text.
 *
 * @since 0.1.0
 * @category endpoint
 */
export const staleHostMessage =
  "Please refresh NovelAI.net. If using a third-party tool, update to the image URL."

const NullableString = Schema.optional(Schema.NullOr(Schema.String))
const NullableNumber = Schema.optional(Schema.NullOr(Schema.Number))
const NullableBoolean = Schema.optional(Schema.NullOr(Schema.Boolean))

/**
 * The perks of a tier, as NovelAI sends them; older answers carry more (all kept).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Perks = Schema.Struct(
  {
    maxPriorityActions: Schema.optional(Schema.Number),
    startPriority: Schema.optional(Schema.Number),
    contextTokens: Schema.optional(Schema.Number),
    unlimitedMaxPriority: Schema.optional(Schema.Boolean),
    moduleTrainingSteps: Schema.optional(Schema.Number)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
).annotations({ identifier: "effect-novelai/SubscriptionPerks" })

/**
 * The perks of a tier, decoded.
 *
 * @since 0.1.0
 * @category schemas
 */
export type Perks = typeof Perks.Type

/**
 * The answer as NovelAI sends it; unknown fields are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SubscriptionWire = Schema.Struct({
  tier: Schema.Int.pipe(Schema.nonNegative()),
  active: Schema.Boolean,
  expiresAt: NullableNumber,
  paymentProcessor: NullableString,
  accountType: NullableNumber,
  isGracePeriod: NullableBoolean,
  isPaypal: NullableBoolean,
  perks: Schema.optional(Schema.NullOr(Perks)),
  trainingStepsLeft: Schema.Struct({
    fixedTrainingStepsLeft: Schema.Number,
    purchasedTrainingSteps: Schema.Number
  }),
  usage: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        percent: Schema.Number,
        isNegative: Schema.Boolean,
        timeUntilNextPercent: Schema.optional(Schema.NullOr(Schema.Number))
      })
    )
  )
}).annotations({ identifier: "effect-novelai/SubscriptionWire" })

/**
 * The Anlas balance: `fixed` (the monthly allowance, reset each month) + `purchased` (bought,
 * never expires) = `total`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Anlas = Schema.Struct({
  fixed: Schema.Number,
  purchased: Schema.Number,
  total: Schema.Number
}).annotations({ identifier: "effect-novelai/Anlas" })

/**
 * V5's usage battery (an active Opus subscription only): `percent` as NovelAI's site shows it (0
 * once `negative`, else clamped to 0..100); once `negative`, V5 images are billed in Anlas.
 * `percentPerDay` is the refill rate (86,400 / `secondsUntilNextPercent`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UsageBattery = Schema.Struct({
  percent: Schema.Number,
  negative: Schema.Boolean,
  secondsUntilNextPercent: Schema.optional(Schema.Number),
  percentPerDay: Schema.optional(Schema.Number)
}).annotations({ identifier: "effect-novelai/UsageBattery" })

const TIER_NAMES = ["Paper", "Tablet", "Scroll", "Opus"] as const

/**
 * An account's subscription: `tier` (0 Paper or none, 1 Tablet, 2 Scroll, 3 Opus) and its name,
 * whether it is `active`, `expiresAt` (absent when NovelAI gives no date), the Anlas balance and,
 * on an active Opus subscription that reports it, V5's usage `battery`. It is the account that
 * `cost` takes for an exact price.
 *
 * @since 0.1.0
 * @category schemas
 */
export class Subscription extends Schema.Class<Subscription>("effect-novelai/Subscription")({
  tier: Schema.Int,
  tierName: Schema.String,
  active: Schema.Boolean,
  expiresAt: Schema.optional(Schema.DateFromSelf),
  anlas: Anlas,
  battery: Schema.optional(UsageBattery),
  perks: Schema.optional(Perks),
  paymentProcessor: Schema.optional(Schema.String),
  accountType: Schema.optional(Schema.Number),
  isGracePeriod: Schema.optional(Schema.Boolean),
  isPaypal: Schema.optional(Schema.Boolean)
}) {}

const present = <K extends string, A>(key: K, value: A | null | undefined): { [P in K]?: A } =>
  (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: A }

const batteryOf = (wire: typeof SubscriptionWire.Type): typeof UsageBattery.Type | undefined => {
  const usage = wire.usage
  if (usage === null || usage === undefined || !wire.active || wire.tier < 3) return undefined
  const seconds = usage.timeUntilNextPercent ?? undefined
  return {
    percent: usage.isNegative ? 0 : Math.min(100, Math.max(0, usage.percent)),
    negative: usage.isNegative,
    ...present("secondsUntilNextPercent", seconds),
    ...present("percentPerDay", seconds !== undefined && seconds > 0 ? 86_400 / seconds : undefined)
  }
}

/**
 * The answer as NovelAI sends it, decoded into a {@link Subscription}: Anlas from
 * `trainingStepsLeft`, `expiresAt` from unix seconds, the battery from `usage`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SubscriptionFromWire = Schema.transform(SubscriptionWire, Schema.typeSchema(Subscription), {
  strict: true,
  decode: (wire) => {
    const fixed = wire.trainingStepsLeft.fixedTrainingStepsLeft
    const purchased = wire.trainingStepsLeft.purchasedTrainingSteps
    const expiresAt = wire.expiresAt
    return new Subscription({
      tier: wire.tier,
      tierName: TIER_NAMES[wire.tier] ?? `Tier ${wire.tier}`,
      active: wire.active,
      ...present(
        "expiresAt",
        expiresAt !== undefined && expiresAt !== null && expiresAt > 0
          ? new Date(expiresAt * 1000)
          : undefined
      ),
      anlas: { fixed, purchased, total: fixed + purchased },
      ...present("battery", batteryOf(wire)),
      ...present("perks", wire.perks),
      ...present("paymentProcessor", wire.paymentProcessor),
      ...present("accountType", wire.accountType),
      ...present("isGracePeriod", wire.isGracePeriod),
      ...present("isPaypal", wire.isPaypal)
    })
  },
  encode: (subscription) => ({
    tier: subscription.tier,
    active: subscription.active,
    ...present(
      "expiresAt",
      subscription.expiresAt === undefined ? undefined : subscription.expiresAt.getTime() / 1000
    ),
    trainingStepsLeft: {
      fixedTrainingStepsLeft: subscription.anlas.fixed,
      purchasedTrainingSteps: subscription.anlas.purchased
    },
    ...present(
      "usage",
      subscription.battery === undefined
        ? undefined
        : {
            percent: subscription.battery.percent,
            isNegative: subscription.battery.negative,
            ...present("timeUntilNextPercent", subscription.battery.secondsUntilNextPercent)
          }
    ),
    ...present("perks", subscription.perks),
    ...present("paymentProcessor", subscription.paymentProcessor),
    ...present("accountType", subscription.accountType),
    ...present("isGracePeriod", subscription.isGracePeriod),
    ...present("isPaypal", subscription.isPaypal)
  })
}).annotations({ identifier: "effect-novelai/SubscriptionFromWire" })

/**
 * The decoder of a subscription answer for an endpoint descriptor: never throws; an answer of
 * another shape is a `ResponseDecodeError` naming the call and the field.
 *
 * @since 0.1.0
 * @category decoding
 * @example
 * ```ts
 * const result = decodeSubscription("subscription")(json) // Either<Subscription, ResponseDecodeError>
 * ```
 */
export const decodeSubscription = responseDecoder(SubscriptionFromWire, "subscription answer")
