/** GLM's thinking, sent inline as `<think>...</think>` at the start of the content. */

const THINK = /^\s*<think>([\s\S]*?)<\/think>\s*/

/** Splits a leading inline `<think>...</think>` block out of the content, after any `reasoning`. */
export const splitThinking = (
  content: string,
  reasoning: string | undefined
): { readonly content: string; readonly reasoning_content?: string } => {
  const match = THINK.exec(content)
  const inline = match?.[1]
  const rest = match === null ? content : content.slice(match[0].length)
  const joined = inline === undefined ? reasoning : reasoning === undefined ? inline : reasoning + inline
  return joined === undefined ? { content: rest } : { content: rest, reasoning_content: joined }
}
