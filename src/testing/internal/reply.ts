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

/** An error in NovelAI's usual shape: `{ statusCode, message }`. */
export const sendError = (
  res: Http.ServerResponse,
  status: number,
  message: string,
  headers?: Record<string, string>
): void => sendJson(res, status, { statusCode: status, message }, headers)
