/** What `/oa/v1` chunks (chat and completions) say about their generation, for the stream's progress. */
import type { Usage } from "../../Sampling.js"
import type { Progress } from "../core/progress.js"

/** What the OpenAI-compatible chunks (chat and completions) say about their generation. */
export const observeChoices = (
  chunk: {
    readonly id: string
    readonly model: string
    readonly usage?: Usage | undefined
    readonly choices: ReadonlyArray<{ readonly index: number; readonly finish_reason: string | null }>
  },
  progress: Progress
): void => {
  if (progress.id === undefined && chunk.id !== "") progress.id = chunk.id
  if (progress.model === undefined && chunk.model !== "") progress.model = chunk.model
  if (chunk.usage !== undefined) progress.usage = chunk.usage
  for (const choice of chunk.choices) {
    if (choice.finish_reason !== null) progress.finished.set(choice.index, choice.finish_reason)
  }
}
