/**
 * The simulator's endpoints, after authentication and the faults that replace an answer: each
 * family's routes in a module of its own, chosen by path.
 */
import { handleAccount } from "./account.js"
import type { Exchange, Routes } from "./exchange.js"
import { handleImage } from "./image/generate.js"
import { handleTags } from "./image/tags.js"
import { handleAugment, handleUpscale } from "./image/tools.js"
import { handleEncodeVibe } from "./image/vibes.js"
import { handleNative } from "./native.js"
import { handleOpenAI } from "./openai.js"

export type { Exchange, Routes } from "./exchange.js"

export const handle = (routes: Routes, ex: Exchange): Promise<void> => {
  if (ex.path === "/ai/generate-image" || ex.path === "/ai/generate-image-stream") {
    return handleImage(routes, ex, ex.path === "/ai/generate-image-stream")
  }
  if (ex.path === "/ai/generate-image/suggest-tags") return Promise.resolve(handleTags(ex))
  if (ex.path === "/ai/augment-image") return handleAugment(routes, ex)
  if (ex.path === "/ai/upscale") return handleUpscale(routes, ex)
  if (ex.path === "/ai/encode-vibe") return handleEncodeVibe(routes, ex)
  if (ex.path === "/user/subscription") return Promise.resolve(handleAccount(routes.wallets, ex))
  if (ex.path === "/ai/generate" || ex.path === "/ai/generate-stream") {
    return handleNative(routes, ex, ex.path === "/ai/generate-stream")
  }
  return handleOpenAI(routes, ex)
}
