/**
 * A real browser: an app that imports `effect-novelai` is bundled for the browser (esbuild,
 * `platform: "browser"`, nothing external) from a project that installed the built package, served
 * from one origin, and opened in headless Chromium (Debian's, driven by playwright-core). It calls
 * the simulator on another origin, which answers CORS as NovelAI does (any origin; only the
 * `Authorization` and `Content-Type` request headers). A screenshot of the page after the stream
 * is kept in `artifacts/browser/`.
 *
 * Skipped, with a message, when no Chromium is installed (`.ci/run` installs it with apt-get).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { startSimulator } from "effect-novelai/testing"
import * as esbuild from "esbuild"
import { chromium } from "playwright-core"
import { describe, expect, it } from "vitest"
import { makeConsumer, root } from "./consumer.js"

const executablePath = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (path) => path !== undefined && existsSync(path)
)

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>effect-novelai in a browser</title>
<style>body{font:16px/1.5 sans-serif;max-width:40em;margin:2em auto}#status{color:#666}</style></head>
<body><h1>A story from the simulator</h1><p id="status">loading</p><p id="story"></p><img id="picture" alt="">
<script type="module" src="/app.js"></script></body></html>`

describe("in a real browser", () => {
  it.skipIf(executablePath === undefined)(
    executablePath === undefined
      ? "skipped: no Chromium (apt-get install chromium; .ci/run does)"
      : "the facade and the Effect API stream, abort and fail typed in Chromium, across origins; an image is generated and shown",
    async () => {
      const consumer = makeConsumer({
        "app.ts": readFileSync(join(root, "test/programs/fixtures/browser-app.ts"), "utf8")
      })
      const built = await esbuild.build({
        entryPoints: [join(consumer.dir, "app.ts")],
        absWorkingDir: consumer.dir,
        bundle: true,
        format: "esm",
        platform: "browser",
        target: "es2022",
        write: false,
        metafile: true,
        logLevel: "silent"
      })
      const app = built.outputFiles[0]!.text
      // Nothing of Node in the page's code: no `node:` module, no Node-only client.
      expect(app).not.toMatch(/["']node:[a-z_/]+["']/)
      const inputs = Object.keys(built.metafile.inputs)
      expect(inputs.filter((input) => /platform-node|undici/.test(input))).toEqual([])
      expect(inputs.some((input) => input.includes("default-http.js"))).toBe(true)

      const sim = await startSimulator({ concurrencyLimit: 4, chunkDelayMs: 30 })
      const server = Http.createServer((req, res) => {
        const path = (req.url ?? "/").split("?")[0]
        if (path === "/app.js") {
          res.writeHead(200, { "content-type": "text/javascript" })
          res.end(app)
        } else if (path === "/") {
          res.writeHead(200, { "content-type": "text/html" })
          res.end(page)
        } else {
          // The browser asks for /favicon.ico: nothing to see.
          res.writeHead(path === "/favicon.ico" ? 204 : 404)
          res.end()
        }
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      const { port } = server.address() as AddressInfo
      // Another origin than the simulator's: another host name and port.
      const origin = `http://localhost:${port}`
      const browser = await chromium.launch({ executablePath: executablePath!, args: ["--no-sandbox"] })
      try {
        const tab = await browser.newPage({ viewport: { width: 900, height: 600 } })
        const problems: Array<string> = []
        tab.on("pageerror", (error) => problems.push(error.message))
        tab.on("console", (message) => {
          if (message.type() === "error" && !/401/.test(message.text())) problems.push(message.text())
        })
        await tab.goto(`${origin}/?sim=${encodeURIComponent(sim.url)}&key=${encodeURIComponent(sim.apiKey)}`)
        await tab.waitForFunction(() => "__results" in window, undefined, { timeout: 30_000 })
        const results = (await tab.evaluate(
          () => (window as unknown as { __results: unknown }).__results
        )) as Record<string, any>
        mkdirSync(join(root, "artifacts", "browser"), { recursive: true })
        await tab.screenshot({ path: join(root, "artifacts", "browser", "stream.png") })

        expect(results.error).toBeUndefined()
        expect(results.chat.split(" ").length).toBe(8)
        // The stream was on the page before it ended.
        expect(results.stream.chunks).toBe(30)
        expect(results.shownAtFifthChunk.length).toBeGreaterThan(0)
        expect(results.stream.shown.startsWith(results.shownAtFifthChunk)).toBe(true)
        expect(results.stream.shown.length).toBeGreaterThan(results.shownAtFifthChunk.length)
        expect(results.abort).toBe("AbortError after 3 chunks")
        expect(results.badKey).toBe("AuthenticationError")
        expect(results.effect.split(" ").length).toBe(5)
        expect(results.image).toMatchObject({ width: 256, height: 192 })
        expect(results.imageEvents).toBe(4)
        expect(results.finalIsBase64).toBe(true)
        expect(problems).toEqual([])

        // What the simulator saw: preflights it allowed (only the headers NovelAI allows were asked
        // for), the calls, and the aborted stream's connection closed early.
        const calls = sim.requests.filter((r) => r.method !== "OPTIONS")
        expect(calls.map((r) => [r.path, r.status, r.clientClosedEarly])).toEqual([
          ["/oa/v1/chat/completions", 200, false],
          ["/oa/v1/chat/completions", 200, false],
          ["/oa/v1/chat/completions", 200, true],
          ["/oa/v1/models", 401, false],
          ["/oa/v1/chat/completions", 200, false],
          ["/ai/generate-image", 200, false],
          ["/ai/generate-image-stream", 200, false]
        ])
        const preflights = sim.requests.filter((r) => r.method === "OPTIONS")
        expect(preflights.length).toBeGreaterThan(0)
        expect(preflights.every((r) => r.status === 204)).toBe(true)
        for (const call of calls) {
          expect(call.headers.origin).toBe(origin)
          expect(call.headers["user-agent"]).not.toMatch(/effect-novelai/)
        }
      } finally {
        await browser.close()
        await new Promise((resolve) => server.close(resolve))
        await sim.close()
        consumer.remove()
      }
    },
    60_000
  )
})
