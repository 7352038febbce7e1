/**
 * Beyond a prompt, from Effect: what a call will cost before it is sent, a vibe encoded once and
 * re-used, a director tool and the upscaler, each image written to a file. Without
 * NOVELAI_API_KEY it runs against the bundled simulator, which charges its own Anlas balance.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Account, Image, NovelAIClient } from "effect-novelai"
import { layerSimulatorWithClient } from "effect-novelai/testing"

const out = mkdtempSync(join(tmpdir(), "effect-novelai-tools-"))
const save = (name: string, bytes: Uint8Array) =>
  Effect.sync(() => writeFileSync(join(out, name), bytes)).pipe(Effect.zipRight(Console.log(`wrote ${name}`)))

const program = Effect.gen(function* () {
  const account = yield* Account.subscription()
  const params = {
    prompt: "a fox with a lantern, night",
    model: "nai-diffusion-4-5-full",
    size: "portrait"
  } as const
  // The price for this account, before anything is sent (Opus generates this size for free).
  const price = Image.cost(params, account)
  yield* Console.log(
    `tier ${account.tier}, ${account.anlas.total} Anlas; this generation: ${price.anlas} Anlas`
  )

  const [style] = (yield* Image.generate(params)).images
  yield* save("style.png", style!.bytes)

  // Encoded once (2 Anlas); each generation that re-uses the encoding pays nothing more for it.
  const encoding = yield* Image.encodeVibe(style!.bytes, { informationExtracted: 0.8, model: params.model })
  const [vibed] = (yield* Image.generate({
    ...params,
    prompt: "a cat, day",
    vibes: [{ encoding, strength: 0.6 }]
  })).images
  yield* save("vibed.png", vibed!.bytes)

  const lineart = yield* Image.augment({ tool: "lineart", image: vibed!.bytes })
  if (lineart.tool !== "bg-removal") yield* save("lineart.png", lineart.image)

  const upscaled = yield* Image.upscale(vibed!.bytes)
  yield* save(`upscaled-${upscaled.width}x${upscaled.height}.png`, upscaled.image)

  const after = yield* Account.subscription()
  yield* Console.log(`spent ${account.anlas.total - after.anlas.total} Anlas; images in ${out}`)
})

const ClientLive = (
  process.env.NOVELAI_API_KEY ? NovelAIClient.layerConfig() : layerSimulatorWithClient()
).pipe(Layer.provide(NodeHttpClient.layerUndici))

NodeRuntime.runMain(program.pipe(Effect.provide(ClientLive)))
