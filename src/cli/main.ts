/**
 * `effect-novelai`: the command line, built with `@effect/cli`. `chat` (interactive, or `--once`),
 * `complete`, `models`, `tokens`. Everything is this library's Effect API, composed.
 */
import { stripVTControlCharacters } from "node:util"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Account from "../Account.js"
import { CompletionParams } from "../Completions.js"
import { ConfigurationError, isNovelAIError } from "../Errors.js"
import * as Image from "../Image.js"
import { SuggestTagsParams } from "../ImageGeneration.js"
import { VERSION } from "../internal/core/version.js"
import type { NovelAIClient } from "../NovelAIClient.js"
import * as OpenAI from "../OpenAI.js"
import { TokenCountParams } from "../TokenCount.js"
import { checkModel, checkParams, describeError, interactive } from "./chat.js"
import { checkImage, generateImage, imageArgs, imageOptions, imageParams, withVibes } from "./image.js"
import { makeReader } from "./input.js"
import { chatPieces, completionPieces, show } from "./reply.js"
import { oneLine } from "./sanitize.js"
import {
  CliFailure,
  type Connection,
  checkSchema,
  clientLayer,
  connection,
  sampling,
  samplingParams
} from "./setup.js"
import { outputIsTerminal } from "./terminal.js"
import { augmentCommand, augmentOptions, upscaleCommand, upscaleOptions } from "./tools.js"

/** Reads all of stdin (for `-`). */
const stdinText = Effect.promise(async () => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString("utf8").replace(/\n$/, "")
})

/** `text`, or stdin when it is `-`. */
const textOrStdin = (text: string) => (text === "-" ? stdinText : Effect.succeed(text))

/** Runs `program` with a client for the connection options. */
const withClient = <A, E>(
  options: Connection & { readonly imageBaseUrl?: Option.Option<string> },
  program: Effect.Effect<A, E, NovelAIClient>
) => Effect.scoped(Effect.flatMap(clientLayer(options, undefined), (layer) => Effect.provide(program, layer)))

/** Refuses the arguments, before anything is started: exit status 2. */
const refuse = (reason: string | undefined) =>
  reason === undefined ? Effect.void : Effect.fail(new CliFailure(reason, 2))

const chatOptions = {
  ...connection,
  ...sampling,
  system: Options.text("system").pipe(Options.withDescription("the system prompt"), Options.optional),
  enableThinking: Options.boolean("enable-thinking").pipe(
    Options.withDescription("ask the model to think first")
  ),
  hideThinking: Options.boolean("hide-thinking").pipe(
    Options.withDescription("do not show the model's thinking (it is never written off a terminal)")
  ),
  once: Options.text("once").pipe(
    Options.withDescription("send one message (- reads it from stdin), print the streamed answer, exit"),
    Options.optional
  )
}

const chat = Command.make("chat", chatOptions, (options) => {
  const params = {
    ...samplingParams(options),
    ...(options.enableThinking ? { enableThinking: true } : {})
  }
  const { model, ...rest } = params as { model?: string } & Record<string, unknown>
  const system = Option.getOrUndefined(options.system)
  const call = { timeout: options.timeout }
  const showThinking = outputIsTerminal() && !options.hideThinking
  return Effect.gen(function* () {
    yield* refuse(checkParams(rest) ?? checkModel(model))
    if (Option.isSome(options.once)) {
      const message = yield* textOrStdin(options.once.value)
      return yield* withClient(
        options,
        show(
          chatPieces(
            OpenAI.chatCompletionStream(
              {
                ...rest,
                ...(model !== undefined ? { model } : {}),
                messages: [
                  ...(system !== undefined ? [{ role: "system" as const, content: system }] : []),
                  { role: "user" as const, content: message }
                ]
              },
              call
            )
          ),
          { showThinking }
        )
      )
    }
    // One reader for the session: the question about the simulator, then every message.
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const reader = yield* makeReader
        const ask =
          process.stdin.isTTY === true && outputIsTerminal()
            ? (question: string) =>
                Effect.map(reader.read(question), (input) =>
                  input._tag === "Message" ? !/^\s*n/i.test(input.text) : false
                )
            : undefined
        const layer = yield* clientLayer(options, ask)
        return yield* Effect.provide(
          interactive({ system, model, params: rest, messages: [] }, reader, { showThinking, call }),
          layer
        )
      })
    )
  })
}).pipe(
  Command.withDescription(
    "talk with a model: interactive (on a terminal, or each line piped to stdin a message, until its end), or one message with --once"
  )
)

const complete = Command.make(
  "complete",
  { ...connection, ...sampling, prompt: Args.text({ name: "prompt" }).pipe(Args.atLeast(1)) },
  (options) =>
    Effect.gen(function* () {
      const params = samplingParams(options)
      yield* refuse(
        checkSchema(CompletionParams, { prompt: "", ...params }) ?? checkModel(params.model as string)
      )
      const prompt = yield* textOrStdin(options.prompt.join(" "))
      return yield* withClient(
        options,
        show(completionPieces(OpenAI.completionStream({ ...params, prompt }, { timeout: options.timeout })), {
          showThinking: false
        })
      )
    })
).pipe(Command.withDescription("continue a prompt (- reads it from stdin), streamed to stdout"))

const models = Command.make("models", connection, (options) =>
  withClient(
    options,
    Effect.flatMap(OpenAI.listModels({ timeout: options.timeout }), (list) =>
      Effect.sync(() => process.stdout.write(list.map((m) => `${oneLine(m.id)}\n`).join("")))
    )
  )
).pipe(Command.withDescription("list the models"))

const tokens = Command.make(
  "tokens",
  {
    ...connection,
    model: sampling.model,
    text: Args.text({ name: "text" }).pipe(Args.atLeast(1))
  },
  (options) =>
    Effect.gen(function* () {
      const model = Option.getOrUndefined(options.model)
      yield* refuse(checkSchema(TokenCountParams, { prompt: "", model }) ?? checkModel(model))
      const prompt = yield* textOrStdin(options.text.join(" "))
      const count = yield* withClient(
        options,
        OpenAI.tokenCount({ prompt, ...(model !== undefined ? { model } : {}) }, { timeout: options.timeout })
      )
      yield* Effect.sync(() => process.stdout.write(`${count}\n`))
    })
).pipe(Command.withDescription("count a text's tokens (- reads it from stdin)"))

const image = Command.make("image", { ...imageOptions, prompt: imageArgs }, (options) =>
  Effect.gen(function* () {
    const params = yield* withVibes(imageParams(options.prompt.join(" "), options), options)
    yield* refuse(checkImage(params))
    const prompt = yield* textOrStdin(params.prompt as string)
    return yield* Effect.scoped(
      Effect.gen(function* () {
        // A generation that costs Anlas is asked about on a terminal, unless --yes or --offline.
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
        return yield* Effect.provide(
          generateImage({ ...params, prompt }, { out: options.out, timeout: options.timeout, ask }),
          layer
        )
      })
    )
  })
).pipe(
  Command.withDescription(
    "generate an image (- reads the prompt from stdin): a progress bar on a terminal, the PNGs written, their files and seeds printed"
  )
)

const account = Command.make(
  "account",
  { ...connection, imageBaseUrl: imageOptions.imageBaseUrl },
  (options) =>
    withClient(
      options,
      Effect.flatMap(Account.subscription({ timeout: options.timeout }), (sub) =>
        Effect.sync(() =>
          process.stdout.write(
            `${oneLine(sub.tierName)}${sub.active ? "" : " (inactive)"}${sub.expiresAt ? `, until ${sub.expiresAt.toISOString().slice(0, 10)}` : ""}\n` +
              `${sub.anlas.total} Anlas (${sub.anlas.fixed} monthly, ${sub.anlas.purchased} purchased)\n` +
              (sub.battery === undefined
                ? ""
                : `V5 usage battery ${sub.battery.percent}%${sub.battery.negative ? " (exhausted)" : ""}\n`)
          )
        )
      )
    )
).pipe(Command.withDescription("the account's subscription and Anlas"))

const tags = Command.make(
  "tags",
  {
    ...connection,
    imageBaseUrl: imageOptions.imageBaseUrl,
    model: imageOptions.model,
    jp: Options.boolean("jp").pipe(Options.withDescription("Japanese tags")),
    prompt: Args.text({ name: "prompt" }).pipe(Args.atLeast(1))
  },
  (options) =>
    Effect.gen(function* () {
      const prompt = options.prompt.join(" ")
      const model = Option.getOrUndefined(options.model)
      yield* refuse(checkSchema(SuggestTagsParams, { prompt, model }))
      const list = yield* withClient(
        options,
        Image.suggestTags(prompt, { model, language: options.jp ? "jp" : "en", timeout: options.timeout })
      )
      yield* Effect.sync(() =>
        process.stdout.write(list.map((t) => `${oneLine(t.tag)}\t${t.count}\t${t.confidence}\n`).join(""))
      )
    })
).pipe(
  Command.withDescription("the tags NovelAI suggests for a prompt's last fragment: tag, count, confidence")
)

const root = Command.make("effect-novelai").pipe(
  Command.withDescription("NovelAI from the command line"),
  Command.withSubcommands([
    chat,
    complete,
    models,
    tokens,
    image,
    account,
    tags,
    upscaleCommand,
    augmentCommand
  ])
)

const PREFIX = "effect-novelai: "

const plain = (args: ReadonlyArray<unknown>) =>
  args.map((a) => (typeof a === "string" ? stripVTControlCharacters(a) : a))

/**
 * `@effect/cli`'s help without colours where it does not go to a terminal, and its messages (what is
 * wrong with the arguments) as ours are: one line on stderr, after our prefix.
 */
const ownConsole = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((base) => {
    const out = process.stdout.isTTY === true && !process.env.NO_COLOR
    const message = (args: ReadonlyArray<unknown>) => `${PREFIX}${oneLine(args.map(String).join(" "))}`
    const console: Console.Console = {
      ...base,
      log: (...args) => base.log(...(out ? args : plain(args))),
      error: (...args) => Effect.sync(() => process.stderr.write(`${message(args)}\n`)),
      unsafe: {
        ...base.unsafe,
        log: (...args) => base.unsafe.log(...(out ? args : plain(args))),
        error: (...args) => process.stderr.write(`${message(args)}\n`)
      }
    }
    return Console.withConsole(effect, console)
  })

/** The options that take a value, by command: `@effect/cli` calls one given without a value unknown. */
const VALUED: Readonly<Record<string, ReadonlyArray<string>>> = (() => {
  const flags = (options: object) =>
    Object.keys(options)
      .filter((name) => !["offline", "enableThinking", "hideThinking"].includes(name))
      .map((name) => `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`)
  const withModel = (options: object) => [...flags(options), ...("model" in options ? ["-m"] : [])]
  return {
    chat: withModel({ ...chatOptions }),
    complete: withModel({ ...connection, ...sampling }),
    models: flags(connection),
    tokens: withModel({ ...connection, model: sampling.model }),
    image: [...withModel(imageOptions)].filter((flag) => flag !== "--yes"),
    account: flags({ ...connection, imageBaseUrl: imageOptions.imageBaseUrl }),
    tags: [
      ...flags({ ...connection, imageBaseUrl: imageOptions.imageBaseUrl, model: imageOptions.model }),
      "-m"
    ],
    // The image tools (cli/tools.ts).
    upscale: [...withModel(upscaleOptions), "-o"].filter((flag) => flag !== "--yes"),
    augment: [...flags(augmentOptions), "-o"].filter((flag) => flag !== "--yes")
  }
})()

/** An option at the end of the command line that needs a value, said as such. */
const missingValue = (argv: ReadonlyArray<string>): string | undefined => {
  const args = argv.slice(2)
  const last = args.at(-1)
  const command = args.find((arg) => !arg.startsWith("-"))
  if (last === undefined || command === undefined || !VALUED[command]?.includes(last)) return undefined
  return last === "--once"
    ? "--once needs a value: the message to send, or - to read it from stdin"
    : `${last} needs a value (effect-novelai ${command} --help says which)`
}

/** Fails when nothing reads stdout any more (`| head`): the program ends there, quietly. */
const stdoutClosed: Effect.Effect<void, CliFailure> = Effect.async((resume) => {
  const onError = (error: NodeJS.ErrnoException) =>
    resume(error.code === "EPIPE" ? Effect.void : Effect.fail(new CliFailure(`stdout: ${error.message}`)))
  process.stdout.on("error", onError)
  return Effect.sync(() => {
    process.stdout.off("error", onError)
  })
})

/** Writes after the pipe closed fail again; once it has, there is nobody left to tell. */
const ignoreLaterErrors = Effect.sync(() => {
  if (!process.stdout.listeners("error").includes(ignore)) process.stdout.on("error", ignore)
})
const ignore = () => {}

/**
 * How the program ended, reported: a failure or a defect as one `effect-novelai: ...` line on stderr
 * and exit status 1, wrong arguments exit status 2 (`@effect/cli` has said what was wrong).
 *
 * @since 0.1.0
 */
export const report = <R>(program: Effect.Effect<void, unknown, R>): Effect.Effect<void, never, R> =>
  Effect.catchAllCause(program, (cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
    return Effect.sync(() => {
      const failure = Cause.failureOption(cause)
      const error = Option.isSome(failure) ? failure.value : Cause.squash(cause)
      if (ValidationError.isValidationError(error)) {
        process.exitCode = 2
        return
      }
      const line =
        error instanceof CliFailure
          ? error.message
          : isNovelAIError(error) || error instanceof ConfigurationError
            ? describeError(error)
            : `unexpected error, please report it: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`
      process.stderr.write(`${PREFIX}${oneLine(line)}\n`)
      process.exitCode = error instanceof CliFailure ? error.exitCode : 1
    })
  })

/**
 * The command line, for `process.argv`: the arguments checked before anything starts, then the
 * command. Failures are reported as one line and an exit status (see {@link report}); a closed
 * stdout ends it quietly.
 *
 * @since 0.1.0
 */
export const run = (argv: ReadonlyArray<string>) =>
  Effect.suspend(() => {
    const missing = missingValue(argv)
    if (missing !== undefined) return Effect.fail(new CliFailure(missing, 2))
    return Command.run(root, { name: "effect-novelai", version: VERSION })(argv).pipe(
      ownConsole,
      Effect.raceFirst(stdoutClosed),
      Effect.ensuring(ignoreLaterErrors)
    )
  }).pipe(report)
