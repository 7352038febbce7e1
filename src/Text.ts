/**
 * NovelAI's native text API (Llama 3 Erato, Kayra) as accessors that take the
 * {@link NovelAIClient.NovelAIClient} from the context, plus helpers for its streams:
 * `yield* Text.generate({ input })`.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Client from "./internal/client.js"
import * as Family from "./internal/core/family.js"
import * as Collect from "./internal/native/collect.js"
import { NovelAIClient } from "./NovelAIClient.js"
import type { TextGeneration, TextToken } from "./TextGeneration.js"

type Accessors = Family.Accessors<Client.Families["text"], NovelAIClient>

const accessors: Accessors = Family.makeAccessors(
  NovelAIClient,
  (client) => client.text,
  Client.families.text
)

/**
 * A whole native generation: `output` is the continuation of `input`.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Text } from "effect-novelai"
 *
 * const program = Effect.gen(function* () {
 *   const { output } = yield* Text.generate({ input: "The dragon opened one eye and", maxLength: 40 })
 *   return output
 * })
 * ```
 */
export const generate: Accessors["generate"] = accessors.generate

/**
 * A streamed native generation: one {@link TextToken} per token, the last with `final: true`.
 * Interrupting the stream closes the request; a stream that ends before its final token fails with
 * `StreamTruncatedError`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const generateStream: Accessors["generateStream"] = accessors.generateStream

/**
 * How many tokens `input` is for a native model (`llama-3-erato-v1` by default), counted locally
 * with its tokenizer, without BOS or EOS. Nothing is sent.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Text } from "effect-novelai"
 *
 * // Erato reads "Hello world" as two tokens.
 * const count = Text.tokenCount({ input: "Hello world", model: "llama-3-erato-v1" })
 * ```
 */
export const tokenCount: Accessors["tokenCount"] = accessors.tokenCount

/**
 * The text of each token, skipping empty ones.
 *
 * @since 0.1.0
 * @category streams
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Text } from "effect-novelai"
 *
 * const printed = Text.generateStream({ input: "Chapter One\n\n", stopSequences: ["\n\n"] }).pipe(
 *   Text.textDeltas,
 *   Stream.runForEach((text) => Effect.sync(() => process.stdout.write(text)))
 * )
 * ```
 */
export const textDeltas = <E, R>(stream: Stream.Stream<TextToken, E, R>): Stream.Stream<string, E, R> =>
  Stream.filterMap(stream, (token) => (token.token === "" ? Option.none() : Option.some(token.token)))

/**
 * Folds a token stream into the same {@link TextGeneration} `generate` returns.
 *
 * @since 0.1.0
 * @category streams
 */
export const collect: <E, R>(stream: Stream.Stream<TextToken, E, R>) => Effect.Effect<TextGeneration, E, R> =
  Collect.text
