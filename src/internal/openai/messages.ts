/**
 * Chat messages as the request schema encodes them, for the common case (see `Params.fastEncoder`):
 * each a `ChatMessage` whose content is a string, which encodes to itself.
 */
import * as Schema from "effect/Schema"
import { ChatMessage } from "../../ChatCompletions.js"
import type { FastFields } from "../core/params.js"

const isMessage = Schema.is(ChatMessage)

/** `messages` encoded, or undefined for the schema to have: parts, an unknown key, a bad message. */
const messages = (value: unknown): unknown => {
  if (!Array.isArray(value) || value.length === 0) return undefined
  const encoded = new Array<unknown>(value.length)
  for (let i = 0; i < value.length; i++) {
    const message: unknown = value[i]
    if (!isMessage(message) || typeof message.content !== "string") return undefined
    const { role, content, name } = message
    if (Object.keys(message).length !== (name === undefined ? 2 : 3)) return undefined
    encoded[i] = name === undefined ? { role, content } : { role, content, name }
  }
  return encoded
}

export const chatFastFields: FastFields = { messages }
