/**
 * An `@effect/ai` `Prompt` as NovelAI chat messages. NovelAI takes text only: system, user and
 * assistant text pass; a file, a tool call or a tool result is refused before anything is sent.
 * An assistant's reasoning is not sent back (GLM's template drops earlier thinking too).
 */
import * as AiError from "@effect/ai/AiError"
import type * as Prompt from "@effect/ai/Prompt"
import * as Either from "effect/Either"
import type { ChatMessage } from "../../ChatCompletions.js"

const refuse = (description: string) =>
  Either.left(
    new AiError.MalformedInput({ module: "NovelAILanguageModel", method: "prepareMessages", description })
  )

/** The prompt's messages, or the `MalformedInput` naming what NovelAI cannot take. */
export const toMessages = (
  prompt: Prompt.Prompt
): Either.Either<Array<ChatMessage>, AiError.MalformedInput> => {
  const messages: Array<ChatMessage> = []
  for (const [i, message] of prompt.content.entries()) {
    switch (message.role) {
      case "system":
        messages.push({ role: "system", content: message.content })
        break
      case "user":
      case "assistant": {
        const texts: Array<string> = []
        for (const part of message.content) {
          switch (part.type) {
            case "text":
              texts.push(part.text)
              break
            case "reasoning":
              break
            case "file":
              return refuse(
                `message ${i} (${message.role}) has a file part (${part.mediaType}): NovelAI's chat takes text only`
              )
            case "tool-call":
            case "tool-result":
              return refuse(
                `message ${i} (${message.role}) has a ${part.type} part: NovelAI does not support tools`
              )
          }
        }
        messages.push({ role: message.role, content: texts.join("\n") })
        break
      }
      case "tool":
        return refuse(`message ${i} is a tool message: NovelAI does not support tools`)
    }
  }
  if (messages.length === 0) return refuse("the prompt has no messages")
  return Either.right(messages)
}
