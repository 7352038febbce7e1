/**
 * Structured output without a JSON mode: NovelAI has neither `response_format` nor tools, so the
 * model is told, in a system message, to write one JSON value matching the JSON Schema of the
 * caller's Schema, and the reply is made to start as JSON with `generationPrefix`. What comes back
 * is lightly cleaned (a code fence or a sentence around the JSON dropped) and left to `@effect/ai`
 * to decode: a reply that does not decode is its `MalformedOutput`.
 */
import * as Tool from "@effect/ai/Tool"
import type * as Schema from "effect/Schema"
import type { ChatMessage } from "../../ChatCompletions.js"

/** The instruction and the prefix for a schema. */
export const instruct = (
  objectName: string,
  schema: Schema.Schema.Any
): { readonly instruction: string; readonly prefix: string | undefined } => {
  const jsonSchema = Tool.getJsonSchemaFromSchemaAst(schema.ast) as { readonly type?: unknown }
  const description = Tool.getDescriptionFromSchemaAst(schema.ast)
  const instruction = [
    `Reply with a single JSON value${description ? ` (${description})` : ""}, named "${objectName}", that matches this JSON Schema.`,
    "Write only the JSON: no explanation, no code fence, nothing before or after it.",
    "",
    JSON.stringify(jsonSchema)
  ].join("\n")
  const prefix = jsonSchema.type === "object" ? "{" : jsonSchema.type === "array" ? "[" : undefined
  return { instruction, prefix }
}

/** The messages with the instruction added to the first system message, or in one of its own. */
export const withInstruction = (
  messages: ReadonlyArray<ChatMessage>,
  instruction: string
): Array<ChatMessage> => {
  const [first, ...rest] = messages
  if (first !== undefined && first.role === "system" && typeof first.content === "string") {
    return [{ ...first, content: `${first.content}\n\n${instruction}` }, ...rest]
  }
  return [{ role: "system", content: instruction }, ...messages]
}

const FENCE = /^```[a-zA-Z]*\s*\n?([\s\S]*?)\n?\s*```$/

const parses = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * The reply as JSON text: the prefix put back if the server left it out, a code fence around it
 * dropped, and if it still does not parse, the span from the first `{` or `[` to the last `}` or `]`.
 */
export const cleanReply = (text: string, prefix: string | undefined): string => {
  let out = text.trim()
  if (prefix !== undefined && !out.startsWith(prefix) && !out.startsWith("```")) out = prefix + out
  const fenced = FENCE.exec(out)
  if (fenced !== null) out = fenced[1]!.trim()
  if (parses(out)) return out
  const start = out.search(/[{[]/)
  const end = Math.max(out.lastIndexOf("}"), out.lastIndexOf("]"))
  if (start !== -1 && end > start) {
    const inner = out.slice(start, end + 1)
    if (parses(inner)) return inner
  }
  return out
}
