import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// `npm run test:programs`: tests that run whole programs as processes (every example, the benchmark
// smoke run, a script left open). Slower than the unit and end-to-end suite, so `npm test` leaves
// them to this command and to `.ci/run`.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/programs/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    // Each example is a tsx process that compiles the package's sources (2.5 s of CPU alone). Five at
    // once (vitest's default) beside the other files' processes overloaded 2 cores in CI: a program
    // that takes 3 s alone took 17-30 s and two tests timed out. Two at once; a test's timeout starts
    // when it starts, not while it waits.
    maxConcurrency: 2
  }
})
