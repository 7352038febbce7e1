/**
 * `effect-novelai image <prompt>`: one image generation, streamed so that a terminal shows its
 * steps as a progress bar (`cli-progress`, on stderr), each sample's final PNG written to a file,
 * the files and seeds printed on stdout. On a terminal, a generation that is not free is priced
 * first (`Image.cost` against the account's own subscription) and asked about; `--yes` skips the
 * question. Ctrl-C interrupts the stream, which closes the request.
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Args from "@effect/cli/Args"
import * as Options from "@effect/cli/Options"
import * as CliProgress from "cli-progress"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Account from "../Account.js"
import * as Image from "../Image.js"
import { ImageGenerateStreamParams, SIZES } from "../ImageGeneration.js"
import { wireBody } from "../internal/image/params.js"
import type { NovelAIClient } from "../NovelAIClient.js"
import { oneLine } from "./sanitize.js"
import { CliFailure, checkSchema, connection } from "./setup.js"

const integer = (name: string, description: string) =>
  Options.integer(name).pipe(Options.withDescription(description), Options.optional)
const text = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

export const imageOptions = {
  ...connection,
  imageBaseUrl: text(
    "image-base-url",
    "the image host (else NOVELAI_IMAGE_BASE_URL, else https://image.novelai.net)"
  ),
  model: text("model", "the image model, e.g. nai-diffusion-4-5-full (the default)").pipe(
    Options.withAlias("m")
  ),
  size: text("size", `a preset (${Object.keys(SIZES).join(", ")}) or WIDTHxHEIGHT in multiples of 64`),
  samples: integer("samples", "how many images, 1 to 8 (default 1)"),
  seed: integer("seed", "the seed, 0 to 4294967295 (default: drawn); sample i gets seed + i"),
  steps: integer("steps", "sampling steps, 1 to 50 (default 23)"),
  negative: text("negative", "the undesired content (negative prompt)"),
  out: text("out", "the file to write (PNG); with several samples, name-2.png and so on follow"),
  yes: Options.boolean("yes").pipe(
    Options.withDescription("do not ask before a generation that costs Anlas")
  ),
  vibe: Options.file("vibe", { exists: "yes" }).pipe(
    Options.withDescription("a PNG to take the vibe of (repeatable; encoded once, 2 Anlas each)"),
    Options.repeated
  ),
  vibeStrength: Options.float("vibe-strength").pipe(
    Options.withDescription("how strongly the vibes guide the image, 0 to 1 (default 0.6)"),
    Options.optional
  )
}

export const imageArgs = Args.text({ name: "prompt" }).pipe(Args.atLeast(1))

type Given = {
  readonly [K in keyof typeof imageOptions]: (typeof imageOptions)[K] extends Options.Options<infer A>
    ? A
    : never
}

/** The size option: a preset name, or `WIDTHxHEIGHT`. */
const sizeOf = (size: string): string | readonly [number, number] => {
  const match = /^(\d+)\s*[x×]\s*(\d+)$/i.exec(size.trim())
  return match === null ? size : [Number(match[1]), Number(match[2])]
}

/** The generation's parameters from the options; undefined ones left out. */
export const imageParams = (prompt: string, options: Given): Record<string, unknown> => {
  const params: Record<string, unknown> = { prompt }
  const set = (name: string, value: Option.Option<unknown>) => {
    if (Option.isSome(value)) params[name] = value.value
  }
  set("model", options.model)
  set("size", Option.map(options.size, sizeOf))
  set("nSamples", options.samples)
  set("seed", options.seed)
  set("steps", options.steps)
  set("negativePrompt", options.negative)
  return params
}

/** The parameters with the `--vibe` files read as vibes (the client encodes each image once). */
export const withVibes = (
  params: Record<string, unknown>,
  options: Pick<Given, "vibe" | "vibeStrength">
): Effect.Effect<Record<string, unknown>, CliFailure> =>
  options.vibe.length === 0
    ? Effect.succeed(params)
    : Effect.map(
        Effect.forEach(options.vibe, (file) =>
          Effect.tryPromise({
            try: () => Fs.readFile(file),
            catch: (error) =>
              new CliFailure(`${file}: ${error instanceof Error ? oneLine(error.message) : String(error)}`, 2)
          })
        ),
        (images) => ({
          ...params,
          vibes: images.map((image) => ({
            image: new Uint8Array(image),
            ...Option.match(options.vibeStrength, {
              onNone: () => ({}),
              onSome: (strength) => ({ strength })
            })
          }))
        })
      )

/** Why the options would be refused, before anything is sent: by the schema, or by the body's checks (sizes). */
export const checkImage = (params: Record<string, unknown>): string | undefined => {
  const refused = checkSchema(ImageGenerateStreamParams, params)
  if (refused !== undefined) return refused
  const encoded = Schema.encodeUnknownSync(ImageGenerateStreamParams)(params) as Record<string, unknown>
  const body = wireBody("image", encoded, 0)
  return Either.isLeft(body) ? body.left.message.replace(/^image: /, "") : undefined
}

/** Where sample `index` of `count` goes: `--out` (numbered after the first), else `novelai-<seed>.png`. */
export const fileFor = (out: Option.Option<string>, index: number, count: number, seed: number): string => {
  if (Option.isNone(out)) return `novelai-${seed}.png`
  if (count === 1 || index === 0) return out.value
  const ext = Path.extname(out.value)
  return `${out.value.slice(0, out.value.length - ext.length)}-${index + 1}${ext || ".png"}`
}

/** On a terminal: the price of a generation that is not free, and whether to go on. */
const confirm = (
  params: Record<string, unknown>,
  ask: (question: string) => Effect.Effect<boolean>
): Effect.Effect<void, unknown, NovelAIClient> =>
  Effect.gen(function* () {
    const account = yield* Account.subscription()
    const estimate = Image.cost(params as Image.CostRequest, account)
    if (estimate.free) return
    const go = yield* ask(
      `This generation costs ${estimate.anlas} Anlas (${account.tierName}, ${account.anlas.total} left). Generate? [y/N] `
    )
    if (!go) return yield* Effect.fail(new CliFailure("Not generated.", 1))
  })

/**
 * The generation: the stream's steps on `progress` (a bar on a terminal), the finals written as
 * they arrive, each file and seed printed.
 */
export const generateImage = (
  params: Record<string, unknown>,
  options: {
    readonly out: Option.Option<string>
    readonly timeout: import("effect/Duration").Duration
    readonly ask: ((question: string) => Effect.Effect<boolean>) | undefined
  }
): Effect.Effect<void, unknown, NovelAIClient> =>
  Effect.gen(function* () {
    if (options.ask !== undefined) yield* confirm(params, options.ask)
    const samples = typeof params.nSamples === "number" ? params.nSamples : 1
    const steps = typeof params.steps === "number" ? params.steps : 23
    const bar =
      process.stderr.isTTY === true
        ? new CliProgress.SingleBar(
            {
              stream: process.stderr,
              format: "{bar} {percentage}% | step {value}/{total}",
              hideCursor: true,
              clearOnComplete: true
            },
            CliProgress.Presets.shades_classic
          )
        : undefined
    yield* Effect.acquireRelease(
      Effect.sync(() => bar?.start(steps * samples, 0)),
      () => Effect.sync(() => bar?.stop())
    )
    // Under a bar, the lines wait for its end: a line written beside it would break it.
    const lines: Array<string> = []
    const say = (line: string) => (bar === undefined ? process.stdout.write(line) : lines.push(line))
    yield* Image.generateStream(params as ImageGenerateStreamParams, { timeout: options.timeout }).pipe(
      Stream.runForEach((event) => {
        bar?.increment()
        if (event.event_type !== "final") return Effect.void
        const file = fileFor(options.out, event.samp_ix, samples, event.seed)
        return Effect.tryPromise({
          try: () => Fs.writeFile(file, event.image),
          catch: (error) =>
            new CliFailure(`${file}: ${error instanceof Error ? oneLine(error.message) : String(error)}`)
        }).pipe(Effect.zipRight(Effect.sync(() => say(`${oneLine(file)}  seed ${event.seed}\n`))))
      })
    )
    yield* Effect.sync(() => {
      bar?.stop()
      for (const line of lines) process.stdout.write(line)
    })
  }).pipe(Effect.scoped)
