/**
 * What every command takes: the connection (the key from `NOVELAI_API_KEY` or a file, never a flag
 * value; the host; `--offline` for the bundled simulator) and the sampling parameters, as
 * `@effect/cli` options, and the client layer they make.
 */
import * as Fs from "node:fs/promises"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { ConfigurationError } from "../Errors.js"
import { describeIssues } from "../internal/core/decode.js"
import * as NovelAIClient from "../NovelAIClient.js"
import { startSimulator } from "../testing/index.js"
import { style } from "./terminal.js"

/**
 * `--timeout`'s default: NovelAI answers (or starts streaming) within seconds.
 *
 * @since 0.1.0
 */
export const DEFAULT_TIMEOUT = "30 seconds"

const UNITS: Readonly<Record<string, Duration.Unit>> = {
  ms: "millis",
  milli: "millis",
  millis: "millis",
  s: "seconds",
  sec: "seconds",
  second: "seconds",
  seconds: "seconds",
  m: "minutes",
  min: "minutes",
  minute: "minutes",
  minutes: "minutes",
  h: "hours",
  hour: "hours",
  hours: "hours"
}

/**
 * A duration as typed: `30s`, `30 seconds`, `1.5m`, `500ms`, a number of milliseconds, or `none`
 * (no deadline).
 *
 * @since 0.1.0
 */
export const parseDuration = (text: string): Either.Either<Duration.Duration, string> => {
  const trimmed = text.trim().toLowerCase()
  if (trimmed === "none" || trimmed === "infinity") return Either.right(Duration.infinity)
  const [, amount = "", unit = "ms"] = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(trimmed) ?? []
  const known = UNITS[unit]
  const value = Number(amount)
  if (amount === "" || known === undefined || !(value > 0)) {
    return Either.left(
      `--timeout must be a positive duration such as 30s, "30 seconds", 500ms or 30000 (milliseconds), or none (got ${JSON.stringify(text)})`
    )
  }
  return Either.right(Duration.decode(`${value} ${known}`))
}

/** How to reach NovelAI. */
export const connection = {
  apiKeyFile: Options.file("api-key-file").pipe(
    Options.withDescription(
      "read the API key from this file (else NOVELAI_API_KEY); keeps it out of shell history"
    ),
    Options.optional
  ),
  baseUrl: Options.text("base-url").pipe(
    Options.withDescription("the host to talk to (else NOVELAI_BASE_URL, else https://text.novelai.net)"),
    Options.optional
  ),
  offline: Options.boolean("offline").pipe(
    Options.withDescription("run against the bundled NovelAI simulator: no key, no network")
  ),
  timeout: Options.text("timeout").pipe(
    Options.withDescription(
      `how long each attempt may wait for NovelAI (a free generation slot, then the answer or the start of the stream) before it is given up and retried: 30s, "2 minutes", 500ms, milliseconds, or none (default ${DEFAULT_TIMEOUT})`
    ),
    Options.withDefault(DEFAULT_TIMEOUT),
    Options.mapEffect((text) =>
      Either.match(parseDuration(text), {
        onLeft: (message) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))),
        onRight: Effect.succeed
      })
    )
  )
}

export type Connection = {
  readonly apiKeyFile: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly offline: boolean
  readonly timeout: Duration.Duration
}

const float = (name: string, description: string) =>
  Options.float(name).pipe(Options.withDescription(description), Options.optional)
const integer = (name: string, description: string) =>
  Options.integer(name).pipe(Options.withDescription(description), Options.optional)

/** The sampling parameters a completion or a chat takes, as options. */
export const sampling = {
  model: Options.text("model").pipe(
    Options.withAlias("m"),
    Options.withDescription("the model (default glm-4-6)"),
    Options.optional
  ),
  maxTokens: integer("max-tokens", "most tokens to generate, 1..2048"),
  temperature: float("temperature", "sampling temperature, 0..2"),
  topP: float("top-p", "nucleus sampling, 0..1"),
  topK: integer("top-k", "top-K sampling, >= 0"),
  minP: float("min-p", "min-P sampling, 0..1"),
  frequencyPenalty: float("frequency-penalty", "-2..2"),
  presencePenalty: float("presence-penalty", "-2..2"),
  seed: integer("seed", "random seed"),
  unifiedLinear: float("unified-linear", "unified sampler, linear term"),
  unifiedQuadratic: float("unified-quadratic", "unified sampler, quadratic term"),
  unifiedCubic: float("unified-cubic", "unified sampler, cubic term"),
  unifiedIncreaseLinearWithEntropy: float(
    "unified-increase-linear-with-entropy",
    "unified sampler, entropy term"
  ),
  stop: Options.text("stop").pipe(Options.withDescription("a stop sequence (repeatable)"), Options.repeated)
}

/** The parameters the options give (those not given left out). */
export const samplingParams = (
  given: {
    readonly [K in keyof typeof sampling]: K extends "stop"
      ? ReadonlyArray<string>
      : Option.Option<string | number>
  }
): Record<string, unknown> => {
  const params: Record<string, unknown> = {}
  for (const name of Object.keys(sampling) as Array<keyof typeof sampling>) {
    const value: unknown = given[name]
    if (Array.isArray(value)) {
      if (value.length > 0) params[name] = value
    } else if (Option.isOption(value) && Option.isSome(value)) params[name] = value.value
  }
  return params
}

/**
 * Why `params` would be refused by `schema`, if they would: the first problem, said as the client says it.
 *
 * @since 0.1.0
 */
export const checkSchema = (
  schema: Schema.Schema<any, any>,
  params: Record<string, unknown>
): string | undefined => {
  const result = Schema.encodeUnknownEither(schema)(params, { errors: "first" })
  if (Either.isRight(result)) return undefined
  const [issue] = describeIssues(result.left, 1)
  return `${issue?.field ?? "parameters"} ${issue?.message ?? "is invalid"}`
}

/** A failure the command reports as its one line of output, with the exit status. */
export class CliFailure {
  readonly _tag = "CliFailure"
  constructor(
    readonly message: string,
    readonly exitCode = 1
  ) {}
}

/**
 * The client layer for the options: a key from the file or the environment, or the simulator
 * (`--offline`, or when there is no key and the user says yes to `ask`, the interactive chat's
 * question on a terminal). Says which, on stderr.
 */
export const clientLayer = (
  options: Connection & { readonly imageBaseUrl?: Option.Option<string> },
  ask: ((question: string) => Effect.Effect<boolean>) | undefined
): Effect.Effect<Layer.Layer<NovelAIClient.NovelAIClient, ConfigurationError>, CliFailure, Scope.Scope> =>
  Effect.gen(function* () {
    const note = (text: string) => Effect.sync(() => process.stderr.write(`${style().dim(text)}\n`))
    const offline = Effect.gen(function* () {
      const sim = yield* Effect.acquireRelease(
        Effect.promise(() => startSimulator({ chunkDelayMs: 25 })),
        (sim) => Effect.promise(() => sim.close())
      )
      yield* note(`(offline: the bundled NovelAI simulator at ${sim.url})`)
      return { apiKey: sim.apiKey, baseUrl: sim.url, imageBaseUrl: sim.url }
    })
    let target: { apiKey: string; baseUrl: string | undefined; imageBaseUrl: string | undefined }
    if (options.offline) {
      target = yield* offline
    } else {
      const fromFile = Option.isSome(options.apiKeyFile)
        ? yield* Effect.tryPromise({
            try: () => Fs.readFile(Option.getOrThrow(options.apiKeyFile), "utf8"),
            catch: (error) =>
              new CliFailure(`--api-key-file: ${error instanceof Error ? error.message : String(error)}`)
          })
        : undefined
      const key = (fromFile ?? process.env.NOVELAI_API_KEY ?? "").trim()
      const baseUrl = Option.getOrUndefined(options.baseUrl) ?? (process.env.NOVELAI_BASE_URL || undefined)
      const imageBaseUrl =
        Option.getOrUndefined(options.imageBaseUrl ?? Option.none()) ??
        (process.env.NOVELAI_IMAGE_BASE_URL || undefined)
      if (key !== "") {
        target = { apiKey: key, baseUrl, imageBaseUrl }
      } else if (ask !== undefined) {
        const yes = yield* ask("No NOVELAI_API_KEY is set. Chat with the bundled simulator instead? [Y/n] ")
        if (!yes) {
          return yield* Effect.fail(
            new CliFailure("Set NOVELAI_API_KEY (or use --api-key-file FILE) to talk to NovelAI.")
          )
        }
        target = yield* offline
      } else {
        return yield* Effect.fail(
          new CliFailure(
            "No API key: set NOVELAI_API_KEY or pass --api-key-file FILE; or pass --offline to use the bundled simulator."
          )
        )
      }
    }
    return NovelAIClient.layer({
      apiKey: Redacted.make(target.apiKey),
      baseUrl: target.baseUrl,
      imageBaseUrl: target.imageBaseUrl
    }).pipe(Layer.provide(FetchHttpClient.layer))
  })
