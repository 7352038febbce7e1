/**
 * Server-Sent Events framing: bytes in, events out. `eventsource-parser` does the framing (any line
 * ending, any chunk boundary, comments, `id:` and `retry:` fields) and a streaming `TextDecoder`
 * the UTF-8; what the events mean to NovelAI is `events.ts`.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser"

export type { EventSourceMessage }

/** One stream's framer. */
export interface Framer {
  /** Frames the next bytes of the body. */
  readonly feed: (bytes: Uint8Array) => void
  /** The body ended: a last event that is whole but lacks its closing blank line is framed too. */
  readonly end: () => void
  /** The next framed event, in order, or `undefined` when none is waiting. */
  readonly next: () => EventSourceMessage | undefined
  /** Whether an event outgrew the limit; nothing more is framed after it. */
  readonly overflowed: () => boolean
  /** Whether `event` was framed only by `end()` (the body ended inside it). */
  readonly unterminated: (event: EventSourceMessage) => boolean
}

/** A framer refusing any event longer than `maxEventChars` characters. */
export const makeFramer = (maxEventChars: number): Framer => {
  const decoder = new TextDecoder()
  let events: Array<EventSourceMessage> = []
  let head = 0
  let overflow = false
  let last: EventSourceMessage | undefined
  const parser = createParser({
    maxBufferSize: maxEventChars,
    onEvent: (event) => {
      events.push(event)
    },
    onError: (error) => {
      if (error.type === "max-buffer-size-exceeded") overflow = true
    }
  })
  // After an oversized event the parser throws on any further input: feed nothing more.
  const feedText = (text: string) => {
    if (!overflow && text !== "") parser.feed(text)
  }
  return {
    feed: (bytes) => feedText(decoder.decode(bytes, { stream: true })),
    end: () => {
      feedText(decoder.decode())
      // The SSE spec drops an event the input ends inside. A last event that is whole but lacks its
      // blank line (`data: [DONE]` at the very end) still counts; `unterminated` tells it apart.
      const framed = events.length
      feedText("\n\n")
      if (events.length > framed) last = events[framed]
    },
    next: () => {
      if (head === events.length) return undefined
      const event = events[head++]!
      if (head === events.length) {
        events = []
        head = 0
      }
      return event
    },
    overflowed: () => overflow,
    unterminated: (event) => event === last
  }
}
