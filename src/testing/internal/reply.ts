/** JSON answers, in NovelAI's shapes. */
import type * as Http from "node:http"

export const sendJson = (
  res: Http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

/**
 * An error in NovelAI's usual shape, `{ statusCode, message }`: as JSON, or framed as one SSE event
 * (`data: {...}`), as NovelAI answers a streaming request.
 */
export const sendError = (
  res: Http.ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
  sse = false
): void => {
  if (!sse) {
    sendJson(res, status, { statusCode: status, message }, headers)
    return
  }
  const text = `data: ${JSON.stringify({ statusCode: status, message })}\n\n`
  res.writeHead(status, {
    "content-type": "text/event-stream",
    "content-length": Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}
