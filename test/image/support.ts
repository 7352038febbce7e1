/**
 * What the image tests share: simulators closed after each test, and an Effect client of one
 * (Fetch, no retries unless asked) that runs an effect to its exit.
 */
import { FetchHttpClient } from "@effect/platform"
import { Effect, Exit, Layer } from "effect"
import { NovelAIClient } from "effect-novelai"
import { type Simulator, startSimulator } from "effect-novelai/testing"
import { afterEach } from "vitest"

/**
 * Starts simulators that are closed after each test of the calling file. Call it at the top of a
 * test file: the suite shares one module registry per worker, so a hook registered here at import
 * would belong to the first file only.
 */
export const simulators = () => {
  const sims: Array<Simulator> = []
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((sim) => sim.close()))
  })
  return async (options?: Parameters<typeof startSimulator>[0]) => {
    const sim = await startSimulator(options)
    sims.push(sim)
    return sim
  }
}

export const layer = (sim: Simulator, options?: Partial<NovelAIClient.Options>) =>
  NovelAIClient.layer({ apiKey: sim.apiKey, imageBaseUrl: sim.url, maxRetries: 0, ...options }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )

/** `effect` on one client: what it encodes, it keeps for the whole effect. */
export const run = <A, E>(
  sim: Simulator,
  effect: Effect.Effect<A, E, NovelAIClient.NovelAIClient>,
  options?: Partial<NovelAIClient.Options>
) => Effect.runPromiseExit(Effect.provide(effect, layer(sim, options)))

export const success = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) throw new Error(`failed: ${JSON.stringify(exit.cause)}`)
  return exit.value
}

export const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("succeeded")
  const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (error === undefined) throw new Error(`not a failure: ${JSON.stringify(exit.cause)}`)
  return error
}
