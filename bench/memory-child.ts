/**
 * One memory measurement in a fresh process: consume a stream of N chunks with one contender while
 * sampling the heap; print the peak, and the heap retained after consuming it (after a GC), as JSON.
 */
import { effectNode, facade, openaiPackage } from "./contenders.js"

const [name, n, url, apiKey] = process.argv.slice(2)
const make = { effect: effectNode, facade, openai: openaiPackage }[name as "effect" | "facade" | "openai"]
const contender = make({ url: url!, apiKey: apiKey! })
const gc = (globalThis as { gc?: () => void }).gc
await contender.stream(100) // warm up: load modules, open the connection
gc?.()
let peak = process.memoryUsage().heapUsed
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().heapUsed)
}, 10)
const result = await contender.stream(Number(n))
clearInterval(sampler)
peak = Math.max(peak, process.memoryUsage().heapUsed)
// What the stream left behind: the heap after consuming it, once garbage is collected.
gc?.()
gc?.()
const retained = process.memoryUsage().heapUsed
await contender.close()
console.log(JSON.stringify({ peak, retained, chunks: result.chunks }))
