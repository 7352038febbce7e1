/**
 * `effect-novelai`: the command line, built with `@effect/cli`. `chat` (interactive, or `--once`),
 * `complete`, `models`, `tokens`. Everything is this library's Effect API, composed.
 */
import { stripVTControlCharacters } from "node:util"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { ConfigurationError, isNovelAIError } from "../Errors.js"
import { VERSION } from "../internal/core/version.js"
import type { NovelAIClient } from "../NovelAIClient.js"
import * as OpenAI from "../OpenAI.js"
import { checkParams, interactive } from "./chat.js"
import { chatPieces, completionPieces, show } from "./reply.js"
import { CliFailure, type Connection, clientLayer, connection, sampling, samplingParams } from "./setup.js"
import { outputIsTerminal } from "./terminal.js"

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
  options: Connection,
  interactiveUse: boolean,
  program: Effect.Effect<A, E, NovelAIClient>
) =>
  Effect.scoped(
    Effect.flatMap(clientLayer(options, interactiveUse), (layer) => Effect.provide(program, layer))
  )

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
  return Effect.gen(function* () {
    const refused = checkParams(rest)
    if (refused !== undefined) return yield* Effect.fail(new CliFailure(refused, 2))
    if (Option.isSome(options.once)) {
      const message = yield* textOrStdin(options.once.value)
      return yield* withClient(
        options,
        false,
        show(
          chatPieces(
            OpenAI.chatCompletionStream({
              ...rest,
              ...(model !== undefined ? { model } : {}),
              messages: [
                ...(system !== undefined ? [{ role: "system" as const, content: system }] : []),
                { role: "user" as const, content: message }
              ]
            })
          ),
          { showThinking: outputIsTerminal() && !options.hideThinking, cancellable: false }
        )
      )
    }
    return yield* withClient(
      options,
      true,
      interactive(
        { system, model, params: rest, messages: [] },
        { showThinking: outputIsTerminal() && !options.hideThinking }
      )
    )
  })
}).pipe(Command.withDescription("talk with a model: interactive, or one message with --once"))

const complete = Command.make(
  "complete",
  { ...connection, ...sampling, prompt: Args.text({ name: "prompt" }).pipe(Args.atLeast(1)) },
  (options) =>
    Effect.gen(function* () {
      const prompt = yield* textOrStdin(options.prompt.join(" "))
      return yield* withClient(
        options,
        false,
        show(completionPieces(OpenAI.completionStream({ ...samplingParams(options), prompt })), {
          showThinking: false,
          cancellable: false
        })
      )
    })
).pipe(Command.withDescription("continue a prompt (- reads it from stdin), streamed to stdout"))

const models = Command.make("models", connection, (options) =>
  withClient(
    options,
    false,
    Effect.flatMap(OpenAI.listModels(), (list) =>
      Effect.sync(() => process.stdout.write(list.map((m) => `${m.id}\n`).join("")))
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
      const prompt = yield* textOrStdin(options.text.join(" "))
      const model = Option.getOrUndefined(options.model)
      const count = yield* withClient(
        options,
        false,
        OpenAI.tokenCount({ prompt, ...(model !== undefined ? { model } : {}) })
      )
      yield* Effect.sync(() => process.stdout.write(`${count}\n`))
    })
).pipe(Command.withDescription("count a text's tokens (- reads it from stdin)"))

const root = Command.make("effect-novelai").pipe(
  Command.withDescription("NovelAI from the command line"),
  Command.withSubcommands([chat, complete, models, tokens])
)

const plain = (args: ReadonlyArray<unknown>) =>
  args.map((a) => (typeof a === "string" ? stripVTControlCharacters(a) : a))

/** `@effect/cli`'s help and messages without colours where they do not go to a terminal. */
const withoutColours = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((base) => {
    const out = process.stdout.isTTY === true && !process.env.NO_COLOR
    const err = process.stderr.isTTY === true && !process.env.NO_COLOR
    if (out && err) return effect
    const console: Console.Console = {
      ...base,
      log: (...args) => base.log(...(out ? args : plain(args))),
      error: (...args) => base.error(...(err ? args : plain(args))),
      unsafe: {
        ...base.unsafe,
        log: (...args) => base.unsafe.log(...(out ? args : plain(args))),
        error: (...args) => base.unsafe.error(...(err ? args : plain(args)))
      }
    }
    return Console.withConsole(effect, console)
  })

/** The command line, for `process.argv`. Failures are reported as one line and an exit status. */
export const run = (argv: ReadonlyArray<string>) =>
  Command.run(root, { name: "effect-novelai", version: VERSION })(argv).pipe(
    withoutColours,
    Effect.catchAll((error) =>
      Effect.sync(() => {
        if (error instanceof CliFailure) {
          process.stderr.write(`effect-novelai: ${error.message}\n`)
          process.exitCode = error.exitCode
        } else if (isNovelAIError(error) || error instanceof ConfigurationError) {
          process.stderr.write(`effect-novelai: ${error._tag}: ${error.message}\n`)
          process.exitCode = 1
        } else {
          // @effect/cli has printed what was wrong with the arguments.
          process.exitCode = 2
        }
      })
    )
  )
