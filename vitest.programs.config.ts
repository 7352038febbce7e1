import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// `npm run test:programs`: tests that run whole programs as processes (every example, the benchmark
// smoke run, a script left open). Slower than the unit and end-to-end suite, so `npm test` leaves
// them to this command and to `.ci/run`.
export default defineConfig({
  ...base,
  test: { ...base.test, include: ["test/programs/**/*.test.ts"], exclude: ["**/node_modules/**"] }
})
