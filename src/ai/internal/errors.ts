/**
 * A `NovelAIError` as the `AiError` `@effect/ai` expects, the original kept as `cause` (so a
 * `RateLimitError`'s `retryAfter` stays reachable): a refusal before sending is `MalformedInput`,
 * an answer with an error status `HttpResponseError`, a failure to get an answer
 * `HttpRequestError`, an answer that could not be read `MalformedOutput`.
 */
import * as AiError from "@effect/ai/AiError"
import * as Option from "effect/Option"
import type { NovelAIError } from "../../Errors.js"

const MODULE = "NovelAILanguageModel"

/** What an `AiError` says of the request: never its headers (the key). */
const requestDetails = (url: string) => ({
  method: "POST" as const,
  url,
  urlParams: [],
  hash: Option.none(),
  headers: {}
})

/** `error.cause`, the standard property, set where the error's schema has no field for it. */
const withCause = <E extends object>(error: E, cause: NovelAIError): E => {
  if ((error as { cause?: unknown }).cause !== cause) {
    Object.defineProperty(error, "cause", {
      value: cause,
      enumerable: false,
      writable: true,
      configurable: true
    })
  }
  return error
}

/** `error` as an `AiError` of `method`, for a request to `url`. */
export const toAiError = (error: NovelAIError, method: string, url: string): AiError.AiError => {
  const base = { module: MODULE, method, description: error.message }
  switch (error._tag) {
    case "InvalidRequestError":
      if (error.status === undefined) return new AiError.MalformedInput({ ...base, cause: error })
      break
    case "TransportError":
    case "ClientClosedError":
      return new AiError.HttpRequestError({
        ...base,
        reason: "Transport",
        request: requestDetails(url),
        cause: error
      })
    case "TimeoutError":
      if (error.phase !== "server") {
        return new AiError.HttpRequestError({
          ...base,
          reason: "Transport",
          request: requestDetails(url),
          cause: error
        })
      }
      break
    case "ResponseDecodeError":
    case "StreamTruncatedError":
      return new AiError.MalformedOutput({ ...base, cause: error })
  }
  if (error.status === undefined) return new AiError.UnknownError({ ...base, cause: error })
  return withCause(
    new AiError.HttpResponseError({
      ...base,
      reason: "StatusCode",
      request: requestDetails(url),
      response: { status: error.status, headers: error.requestId ? { "x-request-id": error.requestId } : {} }
    }),
    error
  )
}
