/**
 * The Promise facade, for code migrating from the Promise-based SDK (or not using Effect):
 * `new NovelAI({ apiKey })` and `client.openai.*`, built on the Effect client with one
 * `ManagedRuntime`. Errors thrown are the same classes the Effect API fails with.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Stream from "effect/Stream"
// The facade's default transport for this runtime: undici on Node, Fetch elsewhere (package.json's
// "imports" conditions pick the file, so a browser bundle never sees the Node-only client).
import { defaultHttpClient } from "#default-http"
import { ClientClosedError, ConfigurationError, isNovelAIError } from "./Errors.js"
import * as Image from "./Image.js"
import * as Client from "./internal/client.js"
import * as Pull from "./internal/core/pull.js"
import { makePromiseApi, type PromiseApi, type Runners } from "./internal/facade/api.js"
import { abortError, iterate, runExit, toThrown } from "./internal/facade/iterate.js"
import * as NovelAIClient from "./NovelAIClient.js"

/**
 * Options of {@link NovelAI}: those of the Effect client, with the key falling back to
 * `NOVELAI_API_KEY` and the host to `NOVELAI_BASE_URL`.
 *
 * @since 0.1.0
 * @category models
 */
export interface NovelAIOptions extends Omit<NovelAIClient.Options, "apiKey" | "transformClient"> {
  /** The API key; default `process.env.NOVELAI_API_KEY`. */
  readonly apiKey?: string | Redacted.Redacted | undefined
  /** A `fetch` to send requests with (a mock, a proxy-aware fetch); makes the client use the Fetch transport. */
  readonly fetch?: typeof globalThis.fetch | undefined
  /**
   * The transport: an `HttpClient` layer. Default: on Node, `@effect/platform-node`'s undici client
   * when it is installed (the faster one there), else the Fetch client; on Bun, Deno, in browsers
   * and edge workers, the Fetch client (chosen by the package's import conditions, so a browser
   * bundle never contains the Node client).
   */
  readonly httpClient?: Layer.Layer<HttpClient.HttpClient> | undefined
  /** The SDK's name for `baseUrl` (the text host), accepted as an alias. */
  readonly textBase?: string | undefined
  /** The SDK's name for `imageBaseUrl` (the image host), accepted as an alias. */
  readonly imageBase?: string | undefined
}

/**
 * Per-call options of the Promise methods.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions extends NovelAIClient.CallOptions {
  /**
   * Aborting rejects the call with the signal's reason, as fetch does (`abort()`: a DOMException
   * named `"AbortError"`), and closes the HTTP request.
   */
  readonly signal?: AbortSignal | undefined
}

/**
 * The `client.openai` calls, returning Promises and async iterables.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * import { NovelAI } from "effect-novelai"
 * import { startSimulator } from "effect-novelai/testing"
 *
 * // Against the local simulator here; against NovelAI, pass your key and no baseUrl.
 * const sim = await startSimulator()
 * const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url })
 * const reply = await client.openai.chatCompletion({ messages: [{ role: "user", content: "Hello!" }] })
 * console.log(reply.choices[0]?.message.content)
 * for await (const chunk of client.openai.chatCompletionStream({ messages: [{ role: "user", content: "A story" }] })) {
 *   process.stdout.write(chunk.choices[0]?.delta.content ?? "")
 * }
 * await client.close()
 * await sim.close()
 * ```
 */
export type OpenAIPromiseApi = PromiseApi<Client.Families["openai"], RequestOptions>

/**
 * The `client.text` calls (NovelAI's native API: Erato, Kayra), returning Promises and async
 * iterables.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * import { NovelAI } from "effect-novelai"
 * import { startSimulator } from "effect-novelai/testing"
 *
 * const sim = await startSimulator()
 * const client = new NovelAI({ apiKey: sim.apiKey, baseUrl: sim.url })
 * const { output } = await client.text.generate({ input: "The old lighthouse", maxLength: 30 })
 * console.log(output)
 * for await (const token of client.text.generateStream({ input: "Chapter One\n\n", stopSequences: ["\n\n"] })) {
 *   process.stdout.write(token.token)
 * }
 * await client.close()
 * await sim.close()
 * ```
 */
export type TextPromiseApi = PromiseApi<Client.Families["text"], RequestOptions>

/**
 * The `client.image` calls (NovelAI Diffusion): `generate` resolves to the images' bytes (`Buffer`s
 * on Node), `generateStream` yields events whose `image` is base64 text, as in the SDK.
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * import { writeFileSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import { NovelAI } from "effect-novelai"
 * import { startSimulator } from "effect-novelai/testing"
 *
 * const sim = await startSimulator()
 * const client = new NovelAI({ apiKey: sim.apiKey, imageBase: sim.url })
 * const images = await client.image.generate({ prompt: "1girl, cat ears", size: "portrait" })
 * writeFileSync(join(tmpdir(), "output.png"), images[0]!)
 * await client.close()
 * await sim.close()
 * ```
 */
export type ImagePromiseApi = PromiseApi<Client.Families["image"], RequestOptions> & {
  /**
   * The Anlas a call will cost (see `Image.cost`): computed here, nothing sent.
   *
   * @since 0.1.0
   */
  readonly cost: typeof Image.cost
  /**
   * What NovelAI embedded in one of its PNGs, or undefined for a PNG it did not make; rejects with
   * an `ImageMetadataError` for bytes that are not a sound PNG (see `Image.readMetadata`).
   *
   * @since 0.1.0
   */
  readonly readMetadata: (bytes: Uint8Array | ArrayBuffer) => Promise<Image.ImageMetadata | undefined>
}

/**
 * The `client.account` calls: `subscription()` resolves to the account's tier, expiry, Anlas and
 * V5 usage battery (read on the image host).
 *
 * @since 0.1.0
 * @category models
 * @example
 * ```ts
 * import { NovelAI } from "effect-novelai"
 * import { startSimulator } from "effect-novelai/testing"
 *
 * const sim = await startSimulator()
 * const client = new NovelAI({ apiKey: sim.apiKey, imageBase: sim.url })
 * const { tierName, anlas } = await client.account.subscription()
 * console.log(`${tierName}: ${anlas.total} Anlas`)
 * await client.close()
 * await sim.close()
 * ```
 */
export type AccountPromiseApi = PromiseApi<Client.Families["account"], RequestOptions>

const env = (name: string): string | undefined =>
  typeof process !== "undefined" && typeof process.env === "object"
    ? process.env[name] || undefined
    : undefined

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom")

const closedError = () =>
  new ClientClosedError({ message: "This NovelAI client was closed (client.close()): create a new one" })

const isSignal = (u: unknown): u is AbortSignal =>
  typeof AbortSignal !== "undefined" && u instanceof AbortSignal

/**
 * A NovelAI client with Promise methods, as in the spec's SDK.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { NovelAI } from "effect-novelai"
 *
 * const client = new NovelAI({ apiKey: process.env.NOVELAI_API_KEY })
 * const response = await client.openai.chatCompletion({ messages: [{ role: "user", content: "Hello!" }] })
 * console.log(response.choices[0].message.content)
 * await client.close()
 * ```
 */
export class NovelAI {
  /**
   * The `/oa/v1` calls.
   *
   * @since 0.1.0
   */
  readonly openai: OpenAIPromiseApi
  /**
   * The native text API (Erato, Kayra).
   *
   * @since 0.1.0
   */
  readonly text: TextPromiseApi
  /**
   * Image generation (NovelAI Diffusion), on the image host.
   *
   * @since 0.1.0
   */
  readonly image: ImagePromiseApi
  /**
   * The account behind the key: its subscription and Anlas.
   *
   * @since 0.1.0
   */
  readonly account: AccountPromiseApi
  /**
   * The host this client talks to.
   *
   * @since 0.1.0
   */
  readonly baseUrl: string
  /**
   * The model used when a call names none.
   *
   * @since 0.1.0
   */
  readonly defaultModel: string
  /** @internal */
  readonly #runtime: ManagedRuntime.ManagedRuntime<NovelAIClient.NovelAIClient, ConfigurationError>
  /** @internal */
  #closed = false
  /** @internal The iterations whose streams are open. */
  readonly #streams = new Set<{ abandon(error: unknown): Promise<void> }>()

  /**
   * @throws {ConfigurationError} when no key is given or found in `NOVELAI_API_KEY`, or an option is refused.
   */
  constructor(options: NovelAIOptions = {}) {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new ConfigurationError({
        message: `new NovelAI(options): options must be an object such as { apiKey } (got ${options === null ? "null" : Array.isArray(options) ? "an array" : typeof options})`
      })
    }
    const apiKey = options.apiKey ?? env("NOVELAI_API_KEY")
    if (apiKey === undefined) {
      throw new ConfigurationError({
        message: "No API key: pass new NovelAI({ apiKey }) or set NOVELAI_API_KEY (keys look like pst-...)"
      })
    }
    const { fetch, httpClient, textBase, imageBase, ...rest } = options
    if (fetch !== undefined && typeof fetch !== "function") {
      throw new ConfigurationError({
        message: `fetch must be a function such as globalThis.fetch (got ${typeof fetch})`
      })
    }
    if (httpClient !== undefined && !Layer.isLayer(httpClient)) {
      throw new ConfigurationError({
        message: "httpClient must be a Layer of HttpClient, such as FetchHttpClient.layer"
      })
    }
    for (const [alias, name] of [
      [textBase, "baseUrl"],
      [imageBase, "imageBaseUrl"]
    ] as const) {
      if (alias !== undefined && options[name] !== undefined && alias !== options[name]) {
        throw new ConfigurationError({
          message: `give ${name} or its alias ${name === "baseUrl" ? "textBase" : "imageBase"}, not both`
        })
      }
    }
    const clientOptions: NovelAIClient.Options = {
      ...rest,
      apiKey: typeof apiKey === "string" ? Redacted.make(apiKey) : apiKey,
      baseUrl: options.baseUrl ?? textBase ?? env("NOVELAI_BASE_URL"),
      imageBaseUrl: options.imageBaseUrl ?? imageBase ?? env("NOVELAI_IMAGE_BASE_URL")
    }
    // Refuse bad options here, synchronously, rather than at the first call.
    const resolved = Client.resolve(clientOptions)
    if (Either.isLeft(resolved)) throw resolved.left
    this.baseUrl = resolved.right.baseUrl
    this.defaultModel = resolved.right.defaultModel

    const transport =
      httpClient ??
      (fetch !== undefined
        ? FetchHttpClient.layer.pipe(Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetch)))
        : defaultHttpClient)
    const runtime = ManagedRuntime.make(NovelAIClient.layer(clientOptions).pipe(Layer.provide(transport)))
    this.#runtime = runtime

    const run = <A, E>(
      f: (api: NovelAIClient.NovelAIClient.Service) => Effect.Effect<A, E>,
      signal: AbortSignal | undefined
    ): Promise<A> => {
      if (signal?.aborted) return Promise.reject(abortError(signal))
      if (this.#closed) return Promise.reject(closedError())
      return runExit(runtime, Effect.flatMap(NovelAIClient.NovelAIClient, f), signal).then((exit) => {
        if (Exit.isSuccess(exit)) return exit.value
        const thrown = toThrown(exit.cause, signal)
        // Closing the client ends calls in flight with a ClientClosedError; whatever else the
        // closing runtime did to them (an interruption) says the same.
        throw this.#closed && !isNovelAIError(thrown) ? closedError() : thrown
      })
    }

    const stream = <A>(
      f: (
        api: NovelAIClient.NovelAIClient.Service,
        options: RequestOptions | undefined
      ) => Stream.Stream<A, unknown>,
      signalOrOptions: AbortSignal | RequestOptions | undefined
    ) => {
      const options = isSignal(signalOrOptions) ? { signal: signalOrOptions } : signalOrOptions
      return iterate(
        runtime,
        Pull.fromOpen(
          Effect.flatMap(NovelAIClient.NovelAIClient, (client) => Pull.openOf(f(client, options)))
        ),
        options?.signal,
        () => (this.#closed ? closedError() : undefined),
        this.#streams
      )
    }

    const runners: Runners<NovelAIClient.NovelAIClient.Service, RequestOptions> = {
      run: (f, options) => run(f, options?.signal),
      stream: (f, signalOrOptions) => stream(f, signalOrOptions)
    }
    this.openai = makePromiseApi(Client.families.openai, (api) => api.openai, runners)
    this.text = makePromiseApi(Client.families.text, (api) => api.text, runners)
    this.image = {
      ...makePromiseApi(Client.families.image, (api) => api.image, runners),
      cost: Image.cost,
      readMetadata: async (bytes) => {
        // The error itself is thrown, as the calls' are (runPromise would wrap it).
        const read = await Effect.runPromise(
          Effect.either(Image.readMetadata(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)))
        )
        if (Either.isLeft(read)) throw read.left
        return Option.getOrUndefined(read.right)
      }
    }
    this.account = makePromiseApi(Client.families.account, (api) => api.account, runners)
  }

  /**
   * Releases the client's resources (connections, the runtime). Calls in flight, and calls made
   * after it, fail with a `ClientClosedError`.
   *
   * @since 0.1.0
   */
  close(): Promise<void> {
    this.#closed = true
    // Open streams first: each gives back its generation slot, which may be a shared gate's.
    const streams = [...this.#streams]
    this.#streams.clear()
    return Promise.all(streams.map((stream) => stream.abandon(closedError()))).then(() =>
      this.#runtime.dispose()
    )
  }

  /**
   * `await using client = new NovelAI()` closes it at the end of the block.
   *
   * @since 0.1.0
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /**
   * Shows the host and model, never the key.
   *
   * @since 0.1.0
   */
  toJSON(): { readonly baseUrl: string; readonly defaultModel: string } {
    return { baseUrl: this.baseUrl, defaultModel: this.defaultModel }
  }

  /**
   * What `console.log(client)` shows: the host and model, never the key.
   *
   * @since 0.1.0
   */
  [inspectSymbol](): string {
    return `NovelAI { baseUrl: ${JSON.stringify(this.baseUrl)}, defaultModel: ${JSON.stringify(this.defaultModel)} }`
  }
}
