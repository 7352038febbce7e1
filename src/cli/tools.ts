/**
 * `effect-novelai upscale <file>` and `effect-novelai augment <tool> <file>`: the image tools on a
 * PNG, the result written as PNG files, each file and its size printed on stdout. The arguments and
 * the image (a PNG no larger than the tool takes) are checked before anything starts; on a
 * terminal, a call that is not free is priced first (`Image.cost` against the account's own
 * subscription) and asked about, as `image` does; `--yes` skips the question.
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Account from "../Account.js"
import * as Image from "../Image.js"
import { AugmentParams, DIRECTOR_TOOLS, EMOTIONS, UPSCALE_MODELS, UpscaleParams } from "../ImageTools.js"
import { pngSize } from "../internal/image/bytes.js"
import { augmentBody, upscaleBody } from "../internal/image/tools.js"
import type { NovelAIClient } from "../NovelAIClient.js"
import { imageOptions } from "./image.js"
import { makeReader } from "./input.js"
import { oneLine } from "./sanitize.js"
import { CliFailure, checkSchema, clientLayer, connection } from "./setup.js"

const text = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

const common = {
  ...connection,
  imageBaseUrl: imageOptions.imageBaseUrl,
  out: text(
    "out",
    "the file to write (PNG); bg-removal writes out-masked.png, out-generated.png, out-blend.png"
  ).pipe(Options.withAlias("o")),
  yes: Options.boolean("yes").pipe(Options.withDescription("do not ask before a call that costs Anlas"))
}

/**
 * The options of `upscale`.
 *
 * @since 0.1.0
 */
export const upscaleOptions = {
  ...common,
  model: text("model", `the upscaler's model: ${UPSCALE_MODELS.join(" (the default) or ")}`).pipe(
    Options.withAlias("m")
  )
}

/**
 * The options of `augment`.
 *
 * @since 0.1.0
 */
export const augmentOptions = {
  ...common,
  prompt: text("prompt", "colorize: what to colour it like; emotion: extra tags"),
  defry: Options.integer("defry").pipe(
    Options.withDescription("colorize and emotion: 0 to 5, higher is weaker (default 0)"),
    Options.optional
  ),
  emotion: text("emotion", `emotion: the new expression, one of ${EMOTIONS.join(", ")}`)
}

const fileArg = Args.text({ name: "file" }).pipe(Args.withDescription("the PNG to work on"))
const toolArg = Args.choice(
  DIRECTOR_TOOLS.map((tool) => [tool, tool] as const),
  { name: "tool" }
).pipe(Args.withDescription("the director tool"))

/** Refuses the arguments, before anything is started: exit status 2. */
const refuse = (reason: string | undefined) =>
  reason === undefined ? Effect.void : Effect.fail(new CliFailure(reason, 2))

const readImage = (file: string) =>
  Effect.tryPromise({
    try: () => Fs.readFile(file),
    catch: (error) =>
      new CliFailure(`${file}: ${error instanceof Error ? oneLine(error.message) : String(error)}`, 2)
  }).pipe(Effect.map((bytes) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)))

/** Why `params` would be refused, before anything is sent: by the schema, or by the body's checks (the image). */
const check = (
  schema: Schema.Schema<any, any>,
  body: (name: string, wire: Record<string, unknown>) => Either.Either<unknown, { readonly message: string }>,
  params: Record<string, unknown>
): string | undefined => {
  const refused = checkSchema(schema, params)
  if (refused !== undefined) return refused
  const encoded = Schema.encodeUnknownSync(schema)(params) as Record<string, unknown>
  const result = body("tool", encoded)
  return Either.isLeft(result) ? result.left.message.replace(/^tool: /, "") : undefined
}

/** `name.png` with `-suffix` before its extension. */
const suffixed = (file: string, suffix: string) => {
  const ext = Path.extname(file)
  return `${file.slice(0, file.length - ext.length)}-${suffix}${ext || ".png"}`
}

/** On a terminal (`ask` given): the price of a call that is not free, and whether to go on. */
const confirm = (
  request: Image.CostRequest,
  what: string,
  ask: ((question: string) => Effect.Effect<boolean>) | undefined
): Effect.Effect<void, unknown, NovelAIClient> =>
  ask === undefined
    ? Effect.void
    : Effect.gen(function* () {
        const account = yield* Account.subscription()
        const estimate = Image.cost(request, account)
        if (estimate.free) return
        const go = yield* ask(
          `This ${what} costs ${estimate.anlas} Anlas (${account.tierName}, ${account.anlas.total} left). Go on? [y/N] `
        )
        if (!go) return yield* Effect.fail(new CliFailure("Not sent.", 1))
      })

/** Writes each PNG to its file and prints the file and the image's size. */
const writeAll = (files: ReadonlyArray<readonly [string, Uint8Array]>) =>
  Effect.forEach(files, ([file, png]) =>
    Effect.tryPromise({
      try: () => Fs.writeFile(file, png),
      catch: (error) =>
        new CliFailure(`${file}: ${error instanceof Error ? oneLine(error.message) : String(error)}`)
    }).pipe(
      Effect.zipRight(
        Effect.sync(() => {
          const size = pngSize(png)
          process.stdout.write(
            `${oneLine(file)}${size === undefined ? "" : `  ${size.width}x${size.height}`}\n`
          )
        })
      )
    )
  )

/** Runs `program` with a client, asking first on a terminal (unless `--yes` or `--offline`). */
const withClient = (
  options: Given<typeof common>,
  program: (
    ask: ((question: string) => Effect.Effect<boolean>) | undefined
  ) => Effect.Effect<void, unknown, NovelAIClient>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const asking =
        process.stdin.isTTY === true && process.stderr.isTTY === true && !options.yes && !options.offline
      const reader = asking ? yield* makeReader : undefined
      const ask =
        reader === undefined
          ? undefined
          : (question: string) =>
              Effect.map(reader.read(question), (input) =>
                input._tag === "Message" ? /^\s*y/i.test(input.text) : false
              )
      const layer = yield* clientLayer(options, undefined)
      return yield* Effect.provide(program(ask), layer)
    })
  )

type Given<O> = {
  readonly [K in keyof O]: O[K] extends Options.Options<infer A> ? A : never
}

const set = (params: Record<string, unknown>, name: string, value: Option.Option<unknown>) => {
  if (Option.isSome(value)) params[name] = value.value
}

/**
 * `upscale <file>`: the ×2 upscaler; writes `<file>-upscaled.png` (or `--out`).
 *
 * @since 0.1.0
 */
export const upscaleCommand = Command.make("upscale", { ...upscaleOptions, file: fileArg }, (options) =>
  Effect.gen(function* () {
    const image = yield* readImage(options.file)
    const params: Record<string, unknown> = { image }
    set(params, "model", options.model)
    yield* refuse(check(UpscaleParams, upscaleBody, params))
    const size = pngSize(image)!
    const out = Option.getOrElse(options.out, () => suffixed(options.file, "upscaled"))
    return yield* withClient(options, (ask) =>
      Effect.gen(function* () {
        yield* confirm({ kind: "upscale", size: [size.width, size.height] }, "upscale", ask)
        const result = yield* Image.upscale(image, {
          model: params.model as UpscaleParams["model"],
          timeout: options.timeout as Duration.Duration
        })
        yield* writeAll([[out, result.image]])
      })
    )
  })
).pipe(
  Command.withDescription(
    "upscale a PNG twice as wide and high (at most 3,145,728 pixels in; 1 to 4 Anlas): the PNG written, its file and size printed"
  )
)

/**
 * `augment <tool> <file>`: a director tool; writes `<file>-<tool>.png` (or `--out`), bg-removal
 * its three images.
 *
 * @since 0.1.0
 */
export const augmentCommand = Command.make(
  "augment",
  { ...augmentOptions, tool: toolArg, file: fileArg },
  (options) =>
    Effect.gen(function* () {
      const image = yield* readImage(options.file)
      const params: Record<string, unknown> = { tool: options.tool, image }
      set(params, "prompt", options.prompt)
      set(params, "defry", options.defry)
      set(params, "emotion", options.emotion)
      yield* refuse(check(AugmentParams, augmentBody, params))
      const size = pngSize(image)!
      const out = Option.getOrElse(options.out, () => suffixed(options.file, options.tool))
      return yield* withClient(options, (ask) =>
        Effect.gen(function* () {
          yield* confirm({ tool: options.tool, size: [size.width, size.height] }, options.tool, ask)
          const result = yield* Image.augment(params as AugmentParams, {
            timeout: options.timeout as Duration.Duration
          })
          yield* writeAll(
            result.tool === "bg-removal"
              ? [
                  [suffixed(out, "masked"), result.masked],
                  [suffixed(out, "generated"), result.generated],
                  [suffixed(out, "blend"), result.blend]
                ]
              : [[out, result.image]]
          )
        })
      )
    })
).pipe(
  Command.withDescription(
    `run a director tool on a PNG (${DIRECTOR_TOOLS.join(", ")}; at most 3,143,728 pixels, never resized): the PNGs written, their files and sizes printed`
  )
)
