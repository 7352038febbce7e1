import { decode } from "@msgpack/msgpack"
import { NovelAI } from "effect-novelai"
import { type Simulator, startSimulator } from "effect-novelai/testing"
import * as fflate from "fflate"
import { afterEach, describe, expect, it } from "vitest"
import { pngSize } from "../../src/internal/image/bytes.js"
import { wireBody } from "../../src/internal/image/params.js"

const sims: Array<Simulator> = []
afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()))
})
const simulator = async () => {
  const sim = await startSimulator()
  sims.push(sim)
  return sim
}

/** A body as the client builds it, for `params`. */
const body = (params: Record<string, unknown>, seed = 5) => {
  const built = wireBody("t", { model: "nai-diffusion-4-5-full", ...params }, seed)
  if (built._tag === "Left") throw built.left
  return built.right as Record<string, any>
}

const post = (sim: Simulator, path: string, json: unknown, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${sim.apiKey}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(json)
  })

describe("the simulator's image host", () => {
  it("answers a ZIP of image_<i>.png, binary/octet-stream", async () => {
    const sim = await simulator()
    const response = await post(
      sim,
      "/ai/generate-image",
      body({ prompt: "x", size: [512, 512], nSamples: 2 })
    )
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toBe("binary/octet-stream")
    const files = fflate.unzipSync(new Uint8Array(await response.arrayBuffer()))
    expect(Object.keys(files)).toEqual(["image_0.png", "image_1.png"])
    expect(pngSize(files["image_0.png"]!)).toEqual({ width: 512, height: 512 })
    const text = Buffer.from(files["image_0.png"]!).toString("latin1")
    expect(text).toContain("Software\0NovelAI")
    expect(text).toContain('"seed":5')
  })

  it("answers JSON with the seeds when asked with Accept: application/json", async () => {
    const sim = await simulator()
    const response = await post(
      sim,
      "/ai/generate-image",
      body({ prompt: "x", size: [512, 512], nSamples: 2 }),
      {
        accept: "application/json"
      }
    )
    const json = (await response.json()) as { images: Array<{ index: number; seed: number; image: string }> }
    expect(json.images.map((i) => [i.index, i.seed])).toEqual([
      [0, 5],
      [1, 6]
    ])
    expect(pngSize(Buffer.from(json.images[0]!.image, "base64"))).toEqual({ width: 512, height: 512 })
  })

  it("streams length-prefixed msgpack maps", async () => {
    const sim = await simulator()
    const response = await post(
      sim,
      "/ai/generate-image-stream",
      body({ prompt: "x", steps: 3, stream: "msgpack" })
    )
    expect(response.headers.get("content-type")).toBe("application/msgpack")
    const bytes = new Uint8Array(await response.arrayBuffer())
    const frames: Array<any> = []
    for (let at = 0; at < bytes.length; ) {
      const length = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0)
      frames.push(decode(bytes.subarray(at + 4, at + 4 + length)))
      at += 4 + length
    }
    expect(frames.map((f) => f.event_type)).toEqual(["intermediate", "intermediate", "final"])
    expect(frames[2].image).toBeInstanceOf(Uint8Array)
  })

  it("answers as NovelAI does: 400 unknown model, a bare 500 without v4_prompt, 401 without a key", async () => {
    const sim = await simulator()
    const curatedInpaint = await post(sim, "/ai/generate-image", {
      ...body({ prompt: "x" }),
      model: "nai-diffusion-5-curated-inpainting"
    })
    expect(curatedInpaint.status).toBe(400)
    expect(await curatedInpaint.json()).toEqual({
      statusCode: 400,
      message: "Validation error: model nai-diffusion-5-curated-inpainting doesn't exist"
    })
    const { v4_prompt: _, ...parameters } = body({ prompt: "x" }).parameters
    const noV4 = await post(sim, "/ai/generate-image", { ...body({ prompt: "x" }), parameters })
    expect(noV4.status).toBe(500)
    expect(await noV4.json()).toEqual({ statusCode: 500, message: "Internal Server Error" })
    const tooBig = await post(sim, "/ai/generate-image", {
      ...body({ prompt: "x" }),
      parameters: { ...body({ prompt: "x" }).parameters, width: 2048, height: 2048 }
    })
    expect(tooBig.status).toBe(400)
    const anonymous = await fetch(`${sim.url}/ai/generate-image`, { method: "POST", body: "{}" })
    expect(anonymous.status).toBe(401)
  })

  it("gives the options a client needs for every family", async () => {
    const sim = await simulator()
    const client = new NovelAI(sim.clientOptions)
    try {
      const [images, text] = await Promise.all([
        client.image.generate({ prompt: "x", size: "small_square" }),
        client.text.generate({ input: "Once", maxLength: 5 })
      ])
      expect(images).toHaveLength(1)
      expect(typeof text.output).toBe("string")
    } finally {
      await client.close()
    }
  })
})
