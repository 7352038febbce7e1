/**
 * Type-level checks of the image tools, run by `tsc`, never at run time: what `Image.augment` and
 * `Image.upscale` and the facade's methods give, and the fields a tool's type refuses.
 */
import type { Effect } from "effect"
import { Image, type ImageTools, type NovelAI, type NovelAIClient, type NovelAIError } from "effect-novelai"
import { expectTypeOf } from "vitest"

const png = new Uint8Array(0)

expectTypeOf(Image.augment({ tool: "lineart", image: png })).toEqualTypeOf<
  Effect.Effect<ImageTools.AugmentResult, NovelAIError, NovelAIClient.NovelAIClient>
>()
expectTypeOf(Image.upscale(png, { model: "nai-diffusion-5-full" })).toEqualTypeOf<
  Effect.Effect<ImageTools.UpscaledImage, NovelAIError, NovelAIClient.NovelAIClient>
>()
expectTypeOf<ReturnType<NovelAI["image"]["augment"]>>().toEqualTypeOf<Promise<Array<Uint8Array>>>()
expectTypeOf<ReturnType<NovelAI["image"]["upscale"]>>().toEqualTypeOf<Promise<Uint8Array>>()

// A tool's own fields only: the type refuses what the schema refuses at run time.
// @ts-expect-error lineart takes no prompt
Image.augment({ tool: "lineart", image: png, prompt: "x" })
// @ts-expect-error emotion needs an emotion
Image.augment({ tool: "emotion", image: png })
// @ts-expect-error not an emotion
Image.augment({ tool: "emotion", image: png, emotion: "glad" })
// @ts-expect-error the upscaler takes V5 models only
Image.upscale(png, { model: "nai-diffusion-4-5-full" })
Image.augment({ tool: "emotion", image: png, emotion: "happy", prompt: "blush", level: 2 })
Image.augment({ tool: "colorize", image: "iVBORw0KGgo=", prompt: "red hair", defry: 1 })
