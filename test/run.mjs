// `npm test`: the type check and the suite at once (the suite mostly waits on sockets and timers,
// so the type check takes the idle core): each says what it found, and the run fails if either does.
// Arguments go to vitest (`npm test -- --reporter=json`). The type check is the project's (src,
// test, examples, bench); the spec's samples (examples/spec) are a second program that checks all
// of src again under looser settings (10 s of CPU on a 2-core machine, which pushed the run past
// 45 s), so `npm run typecheck` and `.ci/run` check them.
import { spawn } from "node:child_process"

const run = (command, args) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit" })
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })

const [types, suite] = await Promise.all([
  run("npx", ["tsc", "--noEmit"]),
  run("npx", ["vitest", "run", ...process.argv.slice(2)])
])
if (types !== 0) console.error("npm test: the type check failed (see above)")
process.exit(types !== 0 ? types : suite)
