/**
 * Two Effect clients that differ only in their generation gate: the default (one slot) and none.
 * Their plain chats, interleaved, give what taking an uncontended slot costs.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Layer, ManagedRuntime } from "effect"
import { NovelAIClient, OpenAI } from "effect-novelai"
import type { Target } from "./contenders.js"

const messages = [{ role: "user" as const, content: "Tell me a story" }]

export const gatedAndUngated = async (target: Target) => {
  const make = (gate: object) =>
    ManagedRuntime.make(
      NovelAIClient.layer({ apiKey: target.apiKey, baseUrl: target.url, collectStream: false, ...gate }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )
  const gated = make({})
  const ungated = make({ generationConcurrency: "unbounded" })
  const chat = (runtime: typeof gated) => () =>
    runtime.runPromise(OpenAI.chatCompletion({ messages, maxTokens: 16 }))
  return {
    gated: chat(gated),
    ungated: chat(ungated),
    close: async () => {
      await gated.dispose()
      await ungated.dispose()
    }
  }
}
