/**
 * A family of endpoints (the `/oa/v1` API, the native text API, images), declared once as an object
 * of operations; the service's methods, the accessors and the facade's methods are derived from it,
 * types and all, so an endpoint added to a family appears in each of them.
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { NovelAIError } from "../../Errors.js"
import type { Collector } from "./collect.js"
import type { ArchiveEndpoint, CallEndpoint, FrameStreamEndpoint, StreamEndpoint } from "./endpoint.js"
import type { CallOptions } from "./options.js"
import * as Pull from "./pull.js"

/** A call answered by one document; `collected`: or, when the call's `collectStream` says so, by collecting a stream. */
export interface CallOp<P, A, S> {
  readonly kind: "call"
  readonly endpoint: CallEndpoint<P, A, S>
  readonly collected?:
    | {
        readonly stream: StreamEndpoint<P, any, S>
        readonly collector: (params: Record<string, unknown>) => Collector<any, A>
        /** Whether the call collects a stream when neither it nor the client says. */
        readonly byDefault: boolean
      }
    | undefined
}

/** A streaming call. */
export interface StreamOp<P, A, S> {
  readonly kind: "stream"
  readonly endpoint: StreamEndpoint<P, A, S>
}

/** An operation answered in the client, without a request (a count with a local tokenizer). */
export interface LocalOp<P, A, S> {
  readonly kind: "local"
  readonly run: (settings: S) => (params: P, options?: CallOptions) => Effect.Effect<A, NovelAIError>
}

/**
 * A call answered by a ZIP archive. `F`: what the facade resolves to (its `facade` maps the
 * result), when not the result itself.
 */
export interface ArchiveOp<P, A, S, F = A> {
  readonly kind: "archive"
  readonly endpoint: ArchiveEndpoint<P, A, S>
  readonly facade: ((result: A) => F) | undefined
}

/** A stream of frames. `F`: what the facade's iterator yields (its `facade` maps each chunk). */
export interface FramesOp<P, A, S, F = A> {
  readonly kind: "frames"
  readonly endpoint: FrameStreamEndpoint<P, A, S>
  readonly facade: ((chunk: A) => F) | undefined
}

export type Operation<S> =
  | CallOp<any, any, S>
  | StreamOp<any, any, S>
  | LocalOp<any, any, S>
  | ArchiveOp<any, any, S, any>
  | FramesOp<any, any, S, any>

/** A family's operations, by method name. */
export type Family<S> = Readonly<Record<string, Operation<S>>>

/** A call of `endpoint`. */
export const call = <P, A, S>(
  endpoint: CallEndpoint<P, A, S>,
  collected?: CallOp<P, A, S>["collected"]
): CallOp<P, A, S> => ({ kind: "call", endpoint, collected })

/** A stream of `endpoint`. */
export const stream = <P, A, S>(endpoint: StreamEndpoint<P, A, S>): StreamOp<P, A, S> => ({
  kind: "stream",
  endpoint
})

/** A call of an endpoint answered by a ZIP archive; `facade`: the facade's result from the call's. */
export const archive = <P, A, S, F = A>(
  endpoint: ArchiveEndpoint<P, A, S>,
  facade?: (result: A) => F
): ArchiveOp<P, A, S, F> => ({ kind: "archive", endpoint, facade })

/** A stream of an endpoint answered by frames; `facade`: the facade's chunk from the stream's. */
export const frames = <P, A, S, F = A>(
  endpoint: FrameStreamEndpoint<P, A, S>,
  facade?: (chunk: A) => F
): FramesOp<P, A, S, F> => ({ kind: "frames", endpoint, facade })

/** An operation answered in the client. */
export const local = <P, A, S>(run: LocalOp<P, A, S>["run"]): LocalOp<P, A, S> => ({ kind: "local", run })

/** The service method of an operation. */
export type Method<O> =
  O extends CallOp<infer P, infer A, any>
    ? [P] extends [void]
      ? (options?: CallOptions) => Effect.Effect<A, NovelAIError>
      : (params: P, options?: CallOptions) => Effect.Effect<A, NovelAIError>
    : O extends StreamOp<infer P, infer A, any>
      ? (params: P, options?: CallOptions) => Stream.Stream<A, NovelAIError>
      : O extends LocalOp<infer P, infer A, any>
        ? (params: P, options?: CallOptions) => Effect.Effect<A, NovelAIError>
        : O extends ArchiveOp<infer P, infer A, any, any>
          ? (params: P, options?: CallOptions) => Effect.Effect<A, NovelAIError>
          : O extends FramesOp<infer P, infer A, any, any>
            ? (params: P, options?: CallOptions) => Stream.Stream<A, NovelAIError>
            : never

/** A family's methods on the service. */
export type Api<F> = { readonly [K in keyof F]: Method<F[K]> }

/** The accessor of an operation: the method, taking the client from the context. */
export type Accessor<O, R> =
  Method<O> extends (...args: infer Args) => Effect.Effect<infer A, infer E>
    ? (...args: Args) => Effect.Effect<A, E, R>
    : Method<O> extends (...args: infer Args) => Stream.Stream<infer A, infer E>
      ? (...args: Args) => Stream.Stream<A, E, R>
      : never

/** A family's accessors. */
export type Accessors<F, R> = { readonly [K in keyof F]: Accessor<F[K], R> }

/** What the client gives a family to make its methods: calls and streams of its endpoints. */
export interface Runner<S> {
  readonly settings: S
  readonly call: <P, A>(
    endpoint: CallEndpoint<P, A, S>,
    collected?: CallOp<P, A, S>["collected"]
  ) => (params: unknown, options: unknown) => Effect.Effect<A, NovelAIError>
  readonly stream: <P, A>(
    endpoint: StreamEndpoint<P, A, S>
  ) => (params: unknown, options: unknown) => Stream.Stream<A, NovelAIError>
  readonly archive: <P, A>(
    endpoint: ArchiveEndpoint<P, A, S>
  ) => (params: unknown, options: unknown) => Effect.Effect<A, NovelAIError>
  readonly frames: <P, A>(
    endpoint: FrameStreamEndpoint<P, A, S>
  ) => (params: unknown, options: unknown) => Stream.Stream<A, NovelAIError>
}

/** The service methods of a family, made once per client. */
export const makeApi = <S, F extends Family<S>>(runner: Runner<S>, family: F): Api<F> => {
  const api: Record<string, unknown> = {}
  for (const [name, op] of Object.entries(family)) {
    if (op.kind === "local") {
      api[name] = op.run(runner.settings)
    } else if (op.kind === "stream") {
      api[name] = runner.stream(op.endpoint)
    } else if (op.kind === "archive") {
      api[name] = runner.archive(op.endpoint)
    } else if (op.kind === "frames") {
      api[name] = runner.frames(op.endpoint)
    } else {
      const call = runner.call(op.endpoint, op.collected)
      api[name] = op.endpoint.params === undefined ? (options?: unknown) => call(undefined, options) : call
    }
  }
  return api as Api<F>
}

/** A family's accessors: each method, taking the service from the context through `select`. */
export const makeAccessors = <I, Service, F extends Family<any>>(
  tag: Context.Tag<I, Service>,
  select: (service: Service) => Api<F>,
  family: F
): Accessors<F, I> => {
  const accessors: Record<string, unknown> = {}
  for (const [name, op] of Object.entries(family)) {
    const method = (service: Service) =>
      (select(service) as Record<string, (...args: Array<unknown>) => any>)[name]!
    accessors[name] =
      op.kind === "stream" || op.kind === "frames"
        ? (...args: Array<unknown>) =>
            Pull.fromOpen<unknown, unknown, I>(
              Effect.flatMap(tag, (service) =>
                Pull.openOf(method(service)(...args) as Stream.Stream<unknown, unknown>)
              )
            )
        : (...args: Array<unknown>) => Effect.flatMap(tag, (service) => method(service)(...args))
  }
  return accessors as Accessors<F, I>
}
