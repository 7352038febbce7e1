/**
 * A process that used the client exits when its work is done, without `close()`: the client holds
 * no timer, socket or fiber once nothing is in flight (a leaked 10-minute deadline would hold the
 * process for 10 minutes).
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))

it("a script that never calls client.close() exits by itself once its work is done", async () => {
  const run = await new Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }>(
    (resolve) => {
      execFile(
        `${root}node_modules/.bin/tsx`,
        ["test/programs/fixtures/leave-open.ts"],
        { cwd: root, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({
            code: error ? ((error as { code?: number }).code ?? 1) : 0,
            killed: error?.killed ?? false,
            stdout,
            stderr
          })
      )
    }
  )
  expect(run.killed).toBe(false)
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  expect(run.stdout).toBe("done (TimeoutError)\n")
}, 70_000)
