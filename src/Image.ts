/**
 * NovelAI's image generation (NovelAI Diffusion) as accessors that take the
 * {@link NovelAIClient.NovelAIClient} from the context: `yield* Image.generate({ prompt })`.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { ImageFinalEvent, ImageStreamEvent } from "./ImageGeneration.js"
import * as Client from "./internal/client.js"
import * as Family from "./internal/core/family.js"
import { NovelAIClient } from "./NovelAIClient.js"

type Accessors = Family.Accessors<Client.Families["image"], NovelAIClient>

const accessors: Accessors = Family.makeAccessors(
  NovelAIClient,
  (client) => client.image,
  Client.families.image
)

/**
 * A whole image generation: each image's bytes (PNG), MIME type, index and seed, and the seed the
 * request used (drawn for the call when none was given). Parameters are checked before anything
 * is sent; a refusal is an `InvalidRequestError` naming the field.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Image } from "effect-novelai"
 *
 * const program = Effect.gen(function* () {
 *   const { images, seed } = yield* Image.generate({ prompt: "1girl, cat ears", size: "portrait" })
 *   return { png: images[0]!.bytes, seed }
 * })
 * ```
 */
export const generate: Accessors["generate"] = accessors.generate

/**
 * A streamed image generation: `intermediate` previews step by step, then each sample's `final`
 * image, as bytes. Interrupting the stream closes the request; a stream that ends before every
 * sample's final image fails with `StreamTruncatedError`, and an error frame with a `ServerError`.
 *
 * @since 0.1.0
 * @category accessors
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Image } from "effect-novelai"
 *
 * const progress = Image.generateStream({ prompt: "a lighthouse at dusk", steps: 28 }).pipe(
 *   Stream.runForEach((event) =>
 *     Effect.log(event.event_type === "intermediate" ? `step ${event.step_ix}` : `sample ${event.samp_ix} done`)
 *   )
 * )
 * ```
 */
export const generateStream: Accessors["generateStream"] = accessors.generateStream

/**
 * Only the final images of a stream, dropping the previews.
 *
 * @since 0.1.0
 * @category streams
 */
export const finals = <E, R>(
  stream: Stream.Stream<ImageStreamEvent, E, R>
): Stream.Stream<ImageFinalEvent, E, R> =>
  Stream.filterMap(stream, (event) => (event.event_type === "final" ? Option.some(event) : Option.none()))
