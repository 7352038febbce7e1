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
import { describeIssues } from "../internal/core/decode.js"
import { namesOf } from "../internal/core/params.js"
import type { NovelAIClient } from "../NovelAIClient.js"
import * as OpenAI from "../OpenAI.js"
import { chatPieces, show } from "./reply.js"
import { readMessage, style, write } from "./terminal.js"

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

/** Why the parameters would be refused by the API, if they would. */
export const checkParams = (params: Record<string, unknown>): string | undefined => {
  for (const name of Object.keys(params)) {
    if (!SETTABLE.has(name)) return `unknown parameter ${name}: one of ${[...SETTABLE].join(", ")}`
  }
  const result = Schema.encodeUnknownEither(ChatCompletionParams)(
    { messages: [{ role: "user", content: "x" }], ...params },
    { errors: "first" }
  )
  if (Either.isRight(result)) return undefined
  const [issue] = describeIssues(result.left, 1)
  return `${issue?.field ?? "parameters"} ${issue?.message ?? "is invalid"}`
}

const SavedConversation = Schema.Struct({
  system: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  params: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  messages: Schema.Array(ChatMessage)
})

const HELP = `Commands:
  /system <text>        set the system prompt (empty: none)
  /model <id>           use another model
  /set <param> <value>  set a sampling parameter (e.g. /set temperature 0.8); /set alone lists them,
                        /set <param> alone unsets it
  /reset                forget the conversation (the system prompt and settings stay)
  /save <file>          save the conversation as JSON
  /load <file>          load a conversation saved with /save
  /tokens               the conversation's token count (the token-count endpoint)
  /help                 this help
  /exit                 leave (or Ctrl-D, or Ctrl-C at an empty prompt)
End a line with \\ to go on on the next one; a paste is sent whole. Ctrl-C during a reply stops it.`

const say = (text: string) => write(`${text}\n`)

/** The messages sent: the system prompt, then the conversation. */
const messagesOf = (conversation: Conversation): Array<Message> =>
  conversation.system === undefined
    ? conversation.messages
    : [{ role: "system", content: conversation.system }, ...conversation.messages]

/** One slash command: whether to go on. */
const command = (
  conversation: Conversation,
  line: string
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
        const refused = checkParams({ ...loaded.right.params })
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
        const count = yield* OpenAI.tokenCount({
          prompt,
          ...(conversation.model !== undefined ? { model: conversation.model } : {})
        })
        yield* say(s.dim(`(${count} tokens in ${messagesOf(conversation).length} messages)`))
        return true
      }
      default:
        yield* say(s.red(`unknown command /${name}: /help lists them`))
        return true
    }
  })

/** The interactive chat, until `/exit`, Ctrl-D, or Ctrl-C at an empty prompt. */
export const interactive = (
  conversation: Conversation,
  options: { readonly showThinking: boolean }
): Effect.Effect<void, never, NovelAIClient> =>
  Effect.gen(function* () {
    const s = style()
    const history: Array<string> = []
    yield* say(
      s.dim(`Chatting with ${conversation.model ?? "glm-4-6"}. /help for commands, Ctrl-D to leave.`)
    )
    while (true) {
      const input = yield* readMessage(s.bold("> "), history)
      if (input._tag !== "Message") return
      const text = input.text
      if (text.trim() === "") continue
      if (text.startsWith("/")) {
        const goOn = yield* Effect.catchAll(command(conversation, text), (error) =>
          Effect.as(say(s.red(error.message)), true)
        )
        if (!goOn) return
        continue
      }
      conversation.messages.push({ role: "user", content: text })
      const reply = yield* Effect.either(
        show(
          chatPieces(
            OpenAI.chatCompletionStream({
              ...conversation.params,
              ...(conversation.model !== undefined ? { model: conversation.model } : {}),
              messages: messagesOf(conversation)
            })
          ),
          { showThinking: options.showThinking, cancellable: true }
        )
      )
      if (Either.isLeft(reply)) {
        // The message stays out of the conversation: nothing answered it.
        conversation.messages.pop()
        yield* say(
          s.red(isNovelAIError(reply.left) ? `${reply.left._tag}: ${reply.left.message}` : String(reply.left))
        )
        continue
      }
      if (reply.right.content !== "")
        conversation.messages.push({ role: "assistant", content: reply.right.content })
      else conversation.messages.pop()
    }
  })
