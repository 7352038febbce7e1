/**
 * Per-stream rewrites of `/oa/v1` chunks: GLM's thinking split out of a chat's content, stray
 * `</think>` tags dropped from a completion's text, whatever the chunk boundaries.
 */
import type { ChatCompletionChunk } from "../../ChatCompletions.js"
import type { CompletionChunk } from "../../Completions.js"
import type { Rewrite } from "../core/endpoint.js"
import { ThinkingSplitter } from "./thinking.js"

/**
 * Chat chunks with the thinking split out of `delta.content` into `delta.reasoning_content`,
 * whatever the chunk boundaries (see `thinking.ts`). Text held back at a boundary goes out with the
 * choice's finishing chunk (or, if none comes, in a last chunk of its own).
 */
export const chatThinking = (): Rewrite<ChatCompletionChunk> => {
  const splitters = new Map<number, ThinkingSplitter>()
  let last: ChatCompletionChunk | undefined
  const rewriteChoice = (choice: ChatCompletionChunk["choices"][number]) => {
    const content = choice.delta.content
    let splitter = splitters.get(choice.index)
    if (splitter === undefined && (content === undefined || content === "")) return choice
    if (splitter === undefined) {
      splitter = new ThinkingSplitter()
      splitters.set(choice.index, splitter)
    }
    const split =
      content === undefined || content === "" ? { content: "", reasoning: "" } : splitter.push(content)
    if (choice.finish_reason !== null) {
      const rest = splitter.end()
      split.content += rest.content
      split.reasoning += rest.reasoning
      splitters.delete(choice.index)
    }
    if (split.content === (content ?? "") && split.reasoning === "") return choice
    const { content: _, reasoning_content, ...delta } = choice.delta
    const reasoning = (reasoning_content ?? "") + split.reasoning
    return {
      ...choice,
      delta: {
        ...delta,
        ...(split.content !== "" ? { content: split.content } : {}),
        ...(reasoning !== "" ? { reasoning_content: reasoning } : {})
      }
    }
  }
  return {
    map: (chunk) => {
      last = chunk
      let choices: Array<ChatCompletionChunk["choices"][number]> | undefined
      chunk.choices.forEach((choice, i) => {
        const rewritten = rewriteChoice(choice)
        if (rewritten === choice && choices === undefined) return
        choices ??= chunk.choices.slice(0, i)
        choices.push(rewritten)
      })
      return choices === undefined ? chunk : { ...chunk, choices }
    },
    flush: () => {
      const held = [...splitters.entries()].flatMap(([index, splitter]) => {
        const rest = splitter.end()
        return rest.content === "" && rest.reasoning === ""
          ? []
          : [
              {
                index,
                delta: {
                  ...(rest.content !== "" ? { content: rest.content } : {}),
                  ...(rest.reasoning !== "" ? { reasoning_content: rest.reasoning } : {})
                },
                finish_reason: null
              }
            ]
      })
      splitters.clear()
      if (held.length === 0 || last === undefined) return []
      const { usage: _, ...head } = last
      return [{ ...head, choices: held }]
    }
  }
}

/** Completion chunks with stray `</think>` tags dropped from their text, across chunk boundaries. */
export const completionStrayClose = (): Rewrite<CompletionChunk> => {
  const splitters = new Map<number, ThinkingSplitter>()
  let last: CompletionChunk | undefined
  return {
    map: (chunk) => {
      last = chunk
      let choices: Array<CompletionChunk["choices"][number]> | undefined
      chunk.choices.forEach((choice, i) => {
        let splitter = splitters.get(choice.index)
        if (splitter === undefined) {
          splitter = new ThinkingSplitter(true)
          splitters.set(choice.index, splitter)
        }
        let text = splitter.push(choice.text).content
        if (choice.finish_reason !== null) {
          text += splitter.end().content
          splitters.delete(choice.index)
        }
        if (text === choice.text && choices === undefined) return
        choices ??= chunk.choices.slice(0, i)
        choices.push(text === choice.text ? choice : { ...choice, text })
      })
      return choices === undefined ? chunk : { ...chunk, choices }
    },
    flush: () => {
      const held = [...splitters.entries()].flatMap(([index, splitter]) => {
        const text = splitter.end().content
        return text === "" ? [] : [{ index, text, finish_reason: null }]
      })
      splitters.clear()
      if (held.length === 0 || last === undefined) return []
      const { usage: _, ...head } = last
      return [{ ...head, choices: held }]
    }
  }
}
