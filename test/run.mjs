// `npm test`: the type check and the suite at once (the suite mostly waits on sockets and timers,
// so the type check takes the idle core): each says what it found, and the run fails if either does.
// Arguments go to vitest (`npm test -- --reporter=json`).
import { spawn } from "node:child_process"

const run = (command, args) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit" })
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })

const [types, suite] = await Promise.all([
  run("npm", ["run", "--silent", "typecheck"]),
  run("npx", ["vitest", "run", ...process.argv.slice(2)])
])
if (types !== 0) console.error("npm test: the type check failed (see above)")
process.exit(types !== 0 ? types : suite)
