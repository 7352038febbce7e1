/**
 * Type-level checks, run by `tsc` (`npm run typecheck`), never at run time: the public signatures a
 * user relies on.
 */
import type { Duration, Effect, Stream } from "effect"
import {
  type ChatCompletion,
  type ChatCompletions,
  type Errors,
  type ModelId,
  type ModelInfo,
  type Models,
  type NovelAI,
  type NovelAIClient,
  type NovelAIError,
  OpenAI
} from "effect-novelai"
import { expectTypeOf } from "vitest"

type ErrorOf<T> =
  T extends Effect.Effect<any, infer E, any> ? E : T extends Stream.Stream<any, infer E, any> ? E : never

// Every endpoint's error channel is the NovelAIError union.
expectTypeOf<ErrorOf<ReturnType<typeof OpenAI.listModels>>>().toEqualTypeOf<NovelAIError>()
expectTypeOf<ErrorOf<ReturnType<typeof OpenAI.completion>>>().toEqualTypeOf<NovelAIError>()
expectTypeOf<ErrorOf<ReturnType<typeof OpenAI.completionStream>>>().toEqualTypeOf<NovelAIError>()
expectTypeOf<ErrorOf<ReturnType<typeof OpenAI.chatCompletion>>>().toEqualTypeOf<NovelAIError>()
expectTypeOf<ErrorOf<ReturnType<typeof OpenAI.chatCompletionStream>>>().toEqualTypeOf<NovelAIError>()
expectTypeOf<ErrorOf<ReturnType<typeof OpenAI.tokenCount>>>().toEqualTypeOf<NovelAIError>()

// Results and requirements.
expectTypeOf<
  Effect.Effect.Success<ReturnType<typeof OpenAI.chatCompletion>>
>().toEqualTypeOf<ChatCompletion>()
expectTypeOf<Effect.Effect.Success<ReturnType<typeof OpenAI.listModels>>>().toEqualTypeOf<
  ReadonlyArray<ModelInfo>
>()
expectTypeOf<Effect.Effect.Success<ReturnType<typeof OpenAI.tokenCount>>>().toEqualTypeOf<number>()
expectTypeOf<
  Effect.Effect.Context<ReturnType<typeof OpenAI.chatCompletion>>
>().toEqualTypeOf<NovelAIClient.NovelAIClient>()

// Model ids: the known ones complete in editors, and any other string still passes.
expectTypeOf<"glm-4-6">().toMatchTypeOf<ModelId>()
expectTypeOf<"some-future-model">().toMatchTypeOf<ModelId>()
OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }], model: "xialong-v1" })
OpenAI.chatCompletion({ messages: [{ role: "user", content: "Hi" }], model: "glm-5" })

// The facade's streams take per-call options beside the spec's bare AbortSignal (hardening item 23).
declare const client: NovelAI
client.openai.chatCompletionStream(
  { messages: [{ role: "user", content: "Hi" }] },
  { idleTimeout: "30 seconds", maxRetries: 0, signal: AbortSignal.timeout(1000) }
)
client.openai.completionStream({ prompt: "Once" }, AbortSignal.timeout(1000))

// Classes reached through a module namespace are types too (they were not in the bundled .d.ts).
type Namespaced = [Errors.RateLimitError, ChatCompletions.ChatCompletion, Models.ModelInfo]
expectTypeOf<Namespaced[0]["retryAfter"]>().toEqualTypeOf<Duration.Duration | undefined>()
