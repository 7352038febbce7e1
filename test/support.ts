import { createHash } from "node:crypto"
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { fileURLToPath } from "node:url"
import {
  FetchHttpClient,
  HttpClient,
  HttpClientError,
  type HttpClientRequest,
  HttpClientResponse
} from "@effect/platform"
import { type Duration, Effect, type Exit, Fiber, Layer, TestClock, Tracer } from "effect"
import { NovelAIClient } from "effect-novelai"
import { type Simulator, type SimulatorOptions, startSimulator } from "effect-novelai/testing"

export const API_KEY = "pst-test-secret-key-0123456789"

/** What a test client saw of one request. */
export interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

export type Responder = (request: HttpClientRequest.HttpClientRequest) => Response | Promise<Response>

/**
 * A test HttpClient that records every request and answers with `respond`, plus a NovelAIClient on
 * top of it.
 */
export const makeTestClient = (respond: Responder, options?: Partial<NovelAIClient.Options>) => {
  const recorded: Array<Recorded> = []
  const http = HttpClient.make((request) =>
    Effect.tryPromise({
      try: async () => {
        const body =
          request.body._tag === "Uint8Array"
            ? JSON.parse(new TextDecoder().decode(request.body.body))
            : undefined
        recorded.push({ method: request.method, url: request.url, headers: { ...request.headers }, body })
        return HttpClientResponse.fromWeb(request, await respond(request))
      },
      // A responder that throws stands for a network failure, as fetch rejecting would.
      catch: (cause) => new HttpClientError.RequestError({ request, reason: "Transport", cause })
    })
  )
  // Retries off unless a test asks for them: these tests are about one exchange each.
  const layer = NovelAIClient.layer({ apiKey: API_KEY, maxRetries: 0, ...options }).pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, http))
  )
  return { recorded, layer }
}

export const json = (body: unknown, init?: ResponseInit) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status: 200,
    ...init,
    headers: { "content-type": "application/json", ...(init?.headers as Record<string, string>) }
  })

export const sse = (text: string | ReadableStream<Uint8Array>, init?: ResponseInit) =>
  new Response(text, {
    status: 200,
    ...init,
    headers: { "content-type": "text/event-stream", ...(init?.headers as Record<string, string>) }
  })

/**
 * A response body the test writes to by hand (`push`, `end`), recording whether it was cancelled
 * or its request aborted: for streams whose timing the test drives (on the TestClock).
 */
export const controlledBody = () => {
  const state = { cancelled: false, aborted: false }
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
    cancel() {
      state.cancelled = true
    }
  })
  const encoder = new TextEncoder()
  return {
    state,
    body,
    push: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
    /** Fails the body as a reset connection would. */
    fail: (error: Error) => controller.error(error),
    /** A test HttpClient answering every request with this body as an event stream. */
    client: () => {
      const requests: Array<HttpClientRequest.HttpClientRequest> = []
      const http = HttpClient.make((request, _url, signal) => {
        requests.push(request)
        signal.addEventListener("abort", () => {
          state.aborted = true
          try {
            controller.error(new Error("aborted"))
          } catch {}
        })
        return Effect.succeed(
          HttpClientResponse.fromWeb(
            request,
            new Response(body, { headers: { "content-type": "text/event-stream" } })
          )
        )
      })
      return { requests, http: Layer.succeed(HttpClient.HttpClient, http) }
    }
  }
}

/** A chat chunk as NovelAI sends it. */
export const chatChunk = (content: string, finish: string | null = null, index = 0) =>
  `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"glm-4-6","choices":[{"index":${index},"delta":{"content":${JSON.stringify(content)}},"finish_reason":${JSON.stringify(finish)}}]}\n\n`

/** A simulator for the test, and a client on it over Fetch. */
export const withSimulator = <A, E>(
  simOptions: SimulatorOptions,
  clientOptions: Partial<NovelAIClient.Options>,
  body: (sim: Simulator) => Effect.Effect<A, E, NovelAIClient.NovelAIClient>
) =>
  Effect.acquireRelease(
    Effect.promise(() => startSimulator(simOptions)),
    (sim) => Effect.promise(() => sim.close())
  ).pipe(
    Effect.flatMap((sim) =>
      body(sim).pipe(
        Effect.provide(
          NovelAIClient.layer({ apiKey: sim.apiKey, baseUrl: sim.url, ...clientOptions }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
    ),
    Effect.scoped
  )

/** Lets sockets and promises outside the fiber runtime move (5 ms). */
export const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))

/** Forks `effect`, then advances the TestClock step by step; whether it was done after each step. */
export const runFor = <A, E, R>(effect: Effect.Effect<A, E, R>, ...steps: Array<Duration.DurationInput>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    yield* settle
    const done: Array<boolean> = []
    for (const step of steps) {
      yield* TestClock.adjust(step)
      yield* settle
      done.push(fiber.unsafePoll() !== null)
    }
    return { done, exit: yield* Fiber.await(fiber) }
  })

/** Runs `effect` under a tracer that records every span it starts. */
export const traced = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const base = yield* Effect.tracer
    const spans: Array<Tracer.Span> = []
    const tracer = Tracer.make({
      span: (...args) => {
        const span = base.span(...args)
        spans.push(span)
        return span
      },
      context: (f, fiber) => base.context(f, fiber)
    })
    const exit: Exit.Exit<A, E> = yield* effect.pipe(Effect.withTracer(tracer), Effect.exit)
    return { spans, exit }
  })

/** The repository's root folder. */
export const repository = fileURLToPath(new URL("..", import.meta.url))

/** The markdown pages whose snippets are checked and run: the README and every guide in `docs/`. */
export const markdownPages = (): ReadonlyArray<string> => [
  "README.md",
  ...readdirSync(join(repository, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`)
]

/** The ```ts blocks of a markdown page of the repository (`README.md`, `docs/openai.md`), in order. */
export const markdownSnippets = (page: string): ReadonlyArray<string> =>
  [...readFileSync(join(repository, page), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)

/**
 * The one ```ts block of `page` that contains `marker`. A test finds the snippet it runs by its
 * content, so it follows the snippet wherever it moves on the page, and fails if it is gone.
 */
export const markdownSnippet = (page: string, marker: string): string => {
  const found = markdownSnippets(page).filter((code) => code.includes(marker))
  if (found.length !== 1) {
    throw new Error(`${page}: ${found.length} snippets contain ${JSON.stringify(marker)}, expected one`)
  }
  return found[0]!
}

/**
 * Imports a snippet of a page as a module, so a test runs the very text a reader copies. A fragment
 * (a snippet without imports of its own) runs after `given`: the imports and names the page has
 * introduced before it. `exports` are the snippet's top-level names the test reads. The module is
 * written to `.scratch/snippets/` (ignored by git), inside the repository so that its imports
 * resolve as the suite's do.
 */
export const importSnippet = async <A = Record<string, any>>(
  page: string,
  marker: string,
  options: { readonly given?: string; readonly exports?: ReadonlyArray<string> } = {}
): Promise<A> => {
  const source = [
    options.given ?? "",
    markdownSnippet(page, marker),
    `export { ${(options.exports ?? []).join(", ")} }`
  ].join("\n")
  const dir = join(repository, ".scratch", "snippets")
  mkdirSync(dir, { recursive: true })
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12)
  const path = join(dir, `${basename(page, ".md")}-${hash}.ts`)
  writeFileSync(path, source)
  return import(/* @vite-ignore */ path)
}

/** A generation gate of the user's own that never waits and records how each generation ended. */
export const recordingGate = (): { gate: NovelAIClient.GenerationGate; outcomes: Array<string> } => {
  const outcomes: Array<string> = []
  const gate: NovelAIClient.GenerationGate = {
    _tag: "effect-novelai/GenerationGate",
    concurrency: 1,
    acquire: () => Effect.succeed({ release: (outcome) => Effect.sync(() => void outcomes.push(outcome)) }),
    close: () => Promise.resolve()
  }
  return { gate, outcomes }
}
