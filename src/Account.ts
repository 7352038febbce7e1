/**
 * The account behind the key, as accessors that take the {@link NovelAIClient.NovelAIClient} from
 * the context: `yield* Account.subscription()`: its tier, whether it is active, when it expires,
 * its Anlas and, on Opus, V5's usage battery. Read on the image host (`imageBaseUrl`), where
 * NovelAI serves it now.
 *
 * @since 0.1.0
 */
import * as Client from "./internal/client.js"
import * as Family from "./internal/core/family.js"
import { NovelAIClient } from "./NovelAIClient.js"

export {
  /**
   * The Anlas balance: `fixed` (the monthly allowance) + `purchased` (never expires) = `total`.
   *
   * @since 0.1.0
   * @category schemas
   */
  Anlas,
  /**
   * An account's subscription, decoded: `tier` (0 Paper or none, 1 Tablet, 2 Scroll, 3 Opus),
   * `tierName`, `active`, `expiresAt`, `anlas` and, on an active Opus subscription, `battery`. It
   * is what `Image.cost` takes for an exact price.
   *
   * @since 0.1.0
   * @category schemas
   */
  Subscription,
  /**
   * V5's usage battery (active Opus only): `percent`, `negative` (V5 images are then billed), and
   * the refill rate.
   *
   * @since 0.1.0
   * @category schemas
   */
  UsageBattery
} from "./internal/account/subscription.js"

type Accessors = Family.Accessors<Client.Families["account"], NovelAIClient>

const accessors: Accessors = Family.makeAccessors(
  NovelAIClient,
  (client) => client.account,
  Client.families.account
)

/**
 * The account's subscription (`GET /user/subscription` on the image host): tier, whether it is
 * active, expiry, `anlas: { fixed, purchased, total }`, V5's usage battery. Give it to
 * `Image.cost` for the exact price of a call.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Account } from "effect-novelai"
 *
 * const program = Effect.gen(function* () {
 *   const account = yield* Account.subscription()
 *   return `${account.tierName}: ${account.anlas.total} Anlas`
 * })
 * ```
 */
export const subscription: Accessors["subscription"] = accessors.subscription
