/**
 * The account family: what NovelAI says of the account behind the key. Today its subscription
 * (tier, expiry, Anlas, V5's usage battery), read on the image host.
 */

import type { CallEndpoint, ModelRegistry } from "../core/endpoint.js"
import { call } from "../core/family.js"
import { COMMON_HINTS } from "../core/params.js"
import * as Subscription from "./subscription.js"

/** The account's calls name no model. */
const models: ModelRegistry<unknown> = {
  family: "account",
  owns: () => false,
  describe: "not a model",
  notServed: "the account calls take no model",
  use: "",
  defaultModel: () => ""
}

/** `GET /user/subscription` on the image host (the text host's answers 400 now). */
export const subscription: CallEndpoint<void, Subscription.Subscription, unknown> = {
  name: "account.subscription",
  operation: "account_subscription",
  host: Subscription.host,
  method: Subscription.method,
  path: Subscription.path,
  params: undefined,
  slot: undefined,
  models,
  hints: COMMON_HINTS,
  body: undefined,
  decode: Subscription.decodeSubscription,
  annotate: (span, result) => {
    span?.attribute("novelai.subscription.tier", result.tier)
    span?.attribute("novelai.anlas.total", result.anlas.total)
  }
}

/** The account calls. Every failure is a `NovelAIError`. */
export const AccountFamily = {
  /** The account's subscription: tier, whether active, expiry, Anlas, V5's usage battery. */
  subscription: call(subscription)
}
