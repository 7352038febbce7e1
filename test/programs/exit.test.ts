/**
 * Processes that used the client or the simulator exit when their work is done, by themselves:
 * nothing of ours (a timer, a socket, a fiber, a stalled answer) keeps them alive. A leaked
 * 10-minute deadline would hold a process for 10 minutes; each run here is killed after a minute.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))

const run = (fixture: string, nodeOptions: ReadonlyArray<string> = []) =>
  new Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [...nodeOptions, "--import", "tsx", `test/programs/fixtures/${fixture}`],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? ((error as { code?: number }).code ?? 1) : 0,
          killed: error?.killed ?? false,
          stdout,
          stderr
        })
    )
  })

it("a script that never calls client.close() exits by itself once its work is done", async () => {
  const result = await run("leave-open.ts")
  expect(result).toMatchObject({ killed: false, code: 0, stderr: "" })
  expect(result.stdout).toBe("done (TimeoutError)\n")
}, 70_000)

it("a facade iterator dropped without return(): collected, it frees its maxConcurrency slot and closes its stream", async () => {
  const result = await run("dropped-iterator.ts", ["--expose-gc"])
  expect(result).toMatchObject({ killed: false, code: 0, stderr: "" })
  expect(result.stdout).toBe("slot released: 2 models; the dropped stream closed early: true\n")
}, 70_000)

it("a simulator closed while it stalls an answer ends the stall, and its process exits", async () => {
  const result = await run("simulator-close.ts")
  expect(result).toMatchObject({ killed: false, code: 0, stderr: "" })
  expect(result.stdout).toBe("closed: connection closed\n")
}, 70_000)
