/**
 * A streamed image generation from Effect: each preview saved as it arrives, then the final image,
 * with `Image.generateStream`. Without NOVELAI_API_KEY it runs against the bundled simulator.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import { Image, NovelAIClient } from "effect-novelai"
import { layerSimulatorWithClient } from "effect-novelai/testing"

const out = mkdtempSync(join(tmpdir(), "effect-novelai-previews-"))

const program = Image.generateStream({
  prompt: "a fox with a lantern, night",
  steps: 10,
  size: "small_portrait"
}).pipe(
  Stream.runForEach((event) =>
    Effect.sync(() => {
      const name =
        event.event_type === "intermediate"
          ? `preview-${event.samp_ix}-${event.step_ix}.png`
          : `final-${event.samp_ix}-seed-${event.seed}.png`
      writeFileSync(join(out, name), event.image)
      console.log(`wrote ${name}`)
    })
  ),
  Effect.zipRight(Console.log(`images in ${out}`))
)

const ClientLive = (
  process.env.NOVELAI_API_KEY ? NovelAIClient.layerConfig() : layerSimulatorWithClient({ chunkDelayMs: 5 })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

NodeRuntime.runMain(program.pipe(Effect.provide(ClientLive)))
