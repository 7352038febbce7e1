/**
 * The interactive chat: a conversation kept in memory, each reply streamed, and the slash commands
 * that change it (`/system`, `/model`, `/set`, `/reset`, `/save`, `/load`, `/tokens`, `/help`,
 * `/exit`).
 */
import * as Fs from "node:fs/promises"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { ChatCompletionParams, ChatMessage } from "../ChatCompletions.js"
import { isNovelAIError, type NovelAIError } from "../Errors.js"
import type { CallOptions } from "../internal/core/options.js"
import { namesOf } from "../internal/core/params.js"
import { models as nativeModels } from "../internal/native/models.js"
import type { NovelAIClient } from "../NovelAIClient.js"
import * as OpenAI from "../OpenAI.js"
import type { Reader } from "./input.js"
import { chatPieces, show } from "./reply.js"
import { oneLine } from "./sanitize.js"
import { checkSchema } from "./setup.js"
import { style, write } from "./terminal.js"

type Message = { readonly role: "system" | "user" | "assistant"; readonly content: string }

/** A conversation: its system prompt, model, parameters and messages. */
export interface Conversation {
  system: string | undefined
  model: string | undefined
  params: Record<string, unknown>
  messages: Array<Message>
}

/** The parameters `/set` takes: the chat's own, but the conversation and the escape hatch. */
const SETTABLE: ReadonlySet<string> = new Set(
  [...namesOf(ChatCompletionParams)].filter(
    (name) => name !== "messages" && name !== "extraBody" && name !== "model"
  )
)

const camel = (name: string) => name.replace(/[-_]([a-z])/g, (_, letter: string) => letter.toUpperCase())

/** A value as typed: true/false, a number, JSON for lists and objects, else the text. */
const parseValue = (text: string): unknown => {
  const trimmed = text.trim()
  if (trimmed === "true" || trimmed === "false") return trimmed === "true"
  if (trimmed !== "" && !Number.isNaN(Number(trimmed))) return Number(trimmed)
  if (/^[[{"]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed)
    } catch {}
  }
  return text
}

/**
 * Why the chat cannot use `model`, if it cannot: the chat (like `complete` and `tokens`) talks to
 * the OpenAI-compatible API, which does not serve NovelAI's native models (Erato, Kayra, Clio).
 *
 * @since 0.1.0
 */
export const checkModel = (model: string | undefined): string | undefined =>
  model !== undefined && nativeModels.owns(model)
    ? `${model} is a model of NovelAI's native text API, which the command line does not talk to: use glm-4-6 or glm-4-5 (\`effect-novelai models\` lists them)`
    : undefined

/**
 * An error as one plain line: its tag and the server's words, cleaned of control sequences.
 *
 * @since 0.1.0
 */
export const describeError = (error: unknown): string =>
  oneLine(isNovelAIError(error) ? `${error._tag}: ${error.message}` : String(error))

/** Why the parameters would be refused by the API, if they would. */
export const checkParams = (params: Record<string, unknown>): string | undefined => {
  for (const name of Object.keys(params)) {
    if (!SETTABLE.has(name)) return `unknown parameter ${name}: one of ${[...SETTABLE].join(", ")}`
  }
  return checkSchema(ChatCompletionParams, { messages: [{ role: "user", content: "x" }], ...params })
}

const SavedConversation = Schema.Struct({
  system: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  params: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  messages: Schema.Array(ChatMessage)
})

const HELP = `Commands:
  /system <text>        set the system prompt (empty: none)
  /model <id>           use another model (glm-4-6, glm-4-5: the native Erato and Kayra are not chat models here)
  /set <param> <value>  set a sampling parameter (e.g. /set temperature 0.8); /set alone lists them,
                        /set <param> alone unsets it
  /reset                forget the conversation (the system prompt and settings stay)
  /save <file>          save the conversation as JSON
  /load <file>          load a conversation saved with /save
  /tokens               the conversation's token count (the token-count endpoint)
  /help                 this help
  /exit                 leave (or Ctrl-D, or Ctrl-C at an empty prompt)
End a line with \\ to go on on the next one; a paste is sent whole. Ctrl-C during a reply stops it;
what you type during a reply is sent after it. Piped in, each line is a message (or a command).`

const say = (text: string) => write(`${text}\n`)

/** The messages sent: the system prompt, then the conversation. */
const messagesOf = (conversation: Conversation): Array<Message> =>
  conversation.system === undefined
    ? conversation.messages
    : [{ role: "system", content: conversation.system }, ...conversation.messages]

/** One slash command: whether to go on. */
const command = (
  conversation: Conversation,
  line: string,
  call: CallOptions
): Effect.Effect<boolean, NovelAIError, NovelAIClient> =>
  Effect.gen(function* () {
    const s = style()
    const [, name = "", rest = ""] = /^\/(\S*)\s*([\s\S]*)$/.exec(line) ?? []
    const arg = rest.trim()
    switch (name) {
      case "exit":
      case "quit":
        return false
      case "help":
        yield* say(HELP)
        return true
      case "system":
        conversation.system = arg === "" ? undefined : rest
        yield* say(s.dim(arg === "" ? "(no system prompt)" : "(system prompt set)"))
        return true
      case "model":
        if (arg === "") yield* say(s.dim(`(model: ${conversation.model ?? "the default, glm-4-6"})`))
        else {
          const refused = checkModel(arg)
          if (refused !== undefined) {
            yield* say(s.red(`/model: ${refused}`))
            return true
          }
          conversation.model = arg
          yield* say(s.dim(`(model: ${arg})`))
        }
        return true
      case "set": {
        if (arg === "") {
          const entries = Object.entries(conversation.params)
          yield* say(
            s.dim(
              entries.length === 0
                ? "(no parameters set)"
                : entries.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("\n")
            )
          )
          return true
        }
        const [, param = "", value = ""] = /^(\S+)\s*([\s\S]*)$/.exec(arg) ?? []
        const key = camel(param)
        const next = { ...conversation.params }
        if (value.trim() === "") delete next[key]
        else next[key] = parseValue(value)
        const refused = checkParams(next)
        if (refused !== undefined) {
          yield* say(s.red(`/set: ${refused}`))
          return true
        }
        conversation.params = next
        yield* say(s.dim(value.trim() === "" ? `(${key} unset)` : `(${key} = ${JSON.stringify(next[key])})`))
        return true
      }
      case "reset":
        conversation.messages = []
        yield* say(s.dim("(conversation cleared)"))
        return true
      case "save": {
        if (arg === "") return yield* Effect.as(say(s.red("/save: give a file name")), true)
        const saved = {
          ...(conversation.system !== undefined ? { system: conversation.system } : {}),
          ...(conversation.model !== undefined ? { model: conversation.model } : {}),
          params: conversation.params,
          messages: conversation.messages
        }
        const written = yield* Effect.either(
          Effect.tryPromise(() => Fs.writeFile(arg, `${JSON.stringify(saved, null, 2)}\n`))
        )
        yield* say(
          Either.isRight(written)
            ? s.dim(`(saved ${conversation.messages.length} messages to ${arg})`)
            : s.red(`/save: ${String((written.left.cause as Error)?.message ?? written.left)}`)
        )
        return true
      }
      case "load": {
        if (arg === "") return yield* Effect.as(say(s.red("/load: give a file name")), true)
        const loaded = yield* Effect.either(
          Effect.tryPromise(async () => {
            const json: unknown = JSON.parse(await Fs.readFile(arg, "utf8"))
            return Schema.decodeUnknownSync(SavedConversation)(json)
          })
        )
        if (Either.isLeft(loaded)) {
          const cause = loaded.left.cause as Error | undefined
          yield* say(s.red(`/load: ${arg}: ${cause?.message?.split("\n")[0] ?? "could not be read"}`))
          return true
        }
        const refused = checkParams({ ...loaded.right.params }) ?? checkModel(loaded.right.model)
        if (refused !== undefined) {
          yield* say(s.red(`/load: ${arg}: ${refused}`))
          return true
        }
        conversation.system = loaded.right.system
        conversation.model = loaded.right.model ?? conversation.model
        conversation.params = { ...loaded.right.params }
        conversation.messages = loaded.right.messages.map((m) => ({
          role: m.role,
          content: typeof m.content === "string" ? m.content : m.content.map((part) => part.text).join("\n")
        }))
        yield* say(s.dim(`(loaded ${conversation.messages.length} messages from ${arg})`))
        return true
      }
      case "tokens": {
        const prompt = messagesOf(conversation)
          .map((m) => m.content)
          .join("\n")
        const count = yield* OpenAI.tokenCount(
          { prompt, ...(conversation.model !== undefined ? { model: conversation.model } : {}) },
          call
        )
        yield* say(s.dim(`(${count} tokens in ${messagesOf(conversation).length} messages)`))
        return true
      }
      default:
        yield* say(s.red(`unknown command /${name}: /help lists them`))
        return true
    }
  })

/**
 * What a reply leaves in the conversation: its answer; a reply that got no further than thinking (cut
 * by `--max-tokens`, or by Ctrl-C) its thinking, as GLM writes it, so that the model can go on from
 * it; nothing when nothing came.
 *
 * @since 0.1.0
 */
export const replyMessage = (reply: {
  readonly content: string
  readonly reasoning: string
}): Message | undefined =>
  reply.content !== ""
    ? { role: "assistant", content: reply.content }
    : reply.reasoning !== ""
      ? { role: "assistant", content: `<think>${reply.reasoning}</think>` }
      : undefined

/** The interactive chat, until `/exit`, Ctrl-D (the end of stdin), or Ctrl-C at an empty prompt. */
export const interactive = (
  conversation: Conversation,
  reader: Reader,
  options: { readonly showThinking: boolean; readonly call: CallOptions }
): Effect.Effect<void, never, NovelAIClient> =>
  Effect.gen(function* () {
    const s = style()
    yield* say(
      s.dim(`Chatting with ${conversation.model ?? "glm-4-6"}. /help for commands, Ctrl-D to leave.`)
    )
    while (true) {
      const input = yield* reader.read(s.bold("> "))
      if (input._tag !== "Message") return
      const text = input.text
      if (text.trim() === "") continue
      if (text.startsWith("/")) {
        const goOn = yield* Effect.catchAll(command(conversation, text, options.call), (error) =>
          Effect.as(say(s.red(describeError(error))), true)
        )
        if (!goOn) return
        continue
      }
      conversation.messages.push({ role: "user", content: text })
      const reply = yield* Effect.either(
        show(
          chatPieces(
            OpenAI.chatCompletionStream(
              {
                ...conversation.params,
                ...(conversation.model !== undefined ? { model: conversation.model } : {}),
                messages: messagesOf(conversation)
              },
              options.call
            )
          ),
          { showThinking: options.showThinking, cancel: reader.interrupted }
        )
      )
      if (Either.isLeft(reply)) {
        // The message stays out of the conversation: nothing answered it.
        conversation.messages.pop()
        yield* say(s.red(describeError(reply.left)))
        continue
      }
      const answer = replyMessage(reply.right)
      if (answer !== undefined) conversation.messages.push(answer)
      else conversation.messages.pop()
    }
  })
