/**
 * Chat messages as the request schema encodes them, for the common case (see `Params.fastEncoder`):
 * each a `ChatMessage` whose content is a string, which encodes to itself.
 */
import * as Schema from "effect/Schema"
import { ChatMessage } from "../../ChatCompletions.js"
import { type FastFields, guardOf, isPlainObject } from "../core/params.js"

const isRole = guardOf(ChatMessage.fields.role.ast) ?? Schema.is(ChatMessage.fields.role)

/** `messages` encoded, or undefined for the schema to have: parts, an unknown key, a bad message. */
const messages = (value: unknown): unknown => {
  if (!Array.isArray(value) || value.length === 0) return undefined
  const encoded = new Array<unknown>(value.length)
  for (let i = 0; i < value.length; i++) {
    const message: unknown = value[i]
    // An object literal's own fields, each read once (a getter is not asked twice).
    if (!isPlainObject(message)) return undefined
    const keys = Object.keys(message).length
    const named = keys === 3
    if (
      (keys !== 2 && !named) ||
      !Object.hasOwn(message, "role") ||
      !Object.hasOwn(message, "content") ||
      (named && !Object.hasOwn(message, "name"))
    )
      return undefined
    const role = message.role
    const content = message.content
    const name = named ? message.name : undefined
    if (!isRole(role) || typeof content !== "string" || (named && typeof name !== "string")) return undefined
    encoded[i] = named ? { role, content, name } : { role, content }
  }
  return encoded
}

export const chatFastFields: FastFields = { messages }
