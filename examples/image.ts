/**
 * The SDK's image samples (`client.image.generate` and `client.image.generateStream`) through the
 * Promise facade, unchanged but for the import, the key and the URL.
 *
 * With NOVELAI_API_KEY set it talks to NovelAI's image host (or NOVELAI_IMAGE_BASE_URL); without
 * it, it starts the bundled simulator on loopback and runs the same code against it. The files are
 * written to a fresh temporary directory (its path is printed).
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NovelAI } from "effect-novelai"
import { startSimulator } from "effect-novelai/testing"

const sim = process.env.NOVELAI_API_KEY ? undefined : await startSimulator({ chunkDelayMs: 5 })
const client = new NovelAI(
  sim === undefined ? {} : { apiKey: sim.apiKey, imageBase: sim.url, textBase: sim.url }
)
console.log(
  sim === undefined
    ? "Talking to NovelAI."
    : `No NOVELAI_API_KEY: running against the simulator at ${sim.url}.`
)
const out = mkdtempSync(join(tmpdir(), "effect-novelai-image-"))

try {
  // The SDK's generate sample.
  const images = await client.image.generate({
    prompt: "1girl, cat ears, masterpiece",
    model: "nai-diffusion-4-5-full",
    size: "portrait",
    negativePrompt: "lowres",
    steps: 23,
    seed: 12345
  })
  writeFileSync(join(out, "output.png"), images[0]!)
  console.log(`wrote output.png (${images[0]!.length} bytes)`)

  // The SDK's stream sample.
  const stream = client.image.generateStream({
    prompt: "a lighthouse at dusk",
    size: "landscape",
    steps: 12,
    stream: "msgpack"
  })
  for await (const chunk of stream) {
    if (chunk.event_type === "intermediate") console.log(`step ${chunk.step_ix}, sigma ${chunk.sigma}`)
    else if (chunk.event_type === "final")
      writeFileSync(join(out, "final.png"), Buffer.from(chunk.image, "base64"))
  }
  console.log(`wrote final.png in ${out}`)
} finally {
  await client.close()
  await sim?.close()
}
