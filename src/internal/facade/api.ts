/**
 * The facade's methods of a family, derived from its operations: a call becomes a function
 * returning a `Promise`, a stream one returning an async iterator (`for await`).
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { ArchiveOp, CallOp, Family, FramesOp, LocalOp, StreamOp } from "../core/family.js"
import * as Pull from "../core/pull.js"

/** A result as the facade gives it: arrays the caller may change. */
export type Plain<A> = A extends ReadonlyArray<infer T> ? Array<T> : A

/** The facade method of an operation; `O`: the facade's per-call options. */
export type PromiseMethod<Op, O> =
  Op extends CallOp<infer P, infer A, any>
    ? [P] extends [void]
      ? (options?: O) => Promise<Plain<A>>
      : (params: P, options?: O) => Promise<Plain<A>>
    : Op extends StreamOp<infer P, infer A, any>
      ? (params: P, signalOrOptions?: AbortSignal | O) => AsyncIterableIterator<A>
      : Op extends LocalOp<infer P, infer A, any>
        ? (params: P, options?: O) => Promise<Plain<A>>
        : Op extends ArchiveOp<infer P, any, any, infer F>
          ? (params: P, options?: O) => Promise<Plain<F>>
          : Op extends FramesOp<infer P, any, any, infer F>
            ? (params: P, signalOrOptions?: AbortSignal | O) => AsyncIterableIterator<F>
            : never

/** A family's facade methods. */
export type PromiseApi<F, O> = { readonly [K in keyof F]: PromiseMethod<F[K], O> }

/** How the facade runs an effect and a stream of its service (see `NovelAI.ts`). */
export interface Runners<Service, O> {
  readonly run: <A>(f: (service: Service) => Effect.Effect<A, unknown>, options: O | undefined) => Promise<A>
  readonly stream: <A>(
    f: (service: Service, options: O | undefined) => Stream.Stream<A, unknown>,
    signalOrOptions: AbortSignal | O | undefined
  ) => AsyncIterableIterator<A>
}

const plain = (value: unknown): unknown => (Array.isArray(value) ? [...value] : value)

/** A family's facade methods, each calling the service method `select` gives. */
export const makePromiseApi = <Service, F extends Family<any>, O>(
  family: F,
  select: (service: Service) => Readonly<Record<string, (...args: Array<any>) => any>>,
  runners: Runners<Service, O>
): PromiseApi<F, O> => {
  const api: Record<string, unknown> = {}
  for (const [name, op] of Object.entries(family)) {
    const method = (service: Service) => select(service)[name]!
    if (op.kind === "stream") {
      api[name] = (params: unknown, signalOrOptions?: AbortSignal | O) =>
        runners.stream((service, options) => method(service)(params, options), signalOrOptions)
    } else if (op.kind === "frames") {
      const facade = op.facade
      api[name] = (params: unknown, signalOrOptions?: AbortSignal | O) =>
        runners.stream((service, options) => {
          const chunks = method(service)(params, options) as Stream.Stream<unknown, unknown>
          return facade === undefined ? chunks : Pull.map(chunks, facade)
        }, signalOrOptions)
    } else if (op.kind === "archive") {
      const facade = op.facade ?? plain
      api[name] = (params: unknown, options?: O) =>
        runners
          .run((service) => method(service)(params, options) as Effect.Effect<unknown, unknown>, options)
          .then((result) => plain(facade(result)))
    } else if (op.kind === "call" && op.endpoint.params === undefined) {
      api[name] = (options?: O) =>
        runners
          .run((service) => method(service)(options) as Effect.Effect<unknown, unknown>, options)
          .then(plain)
    } else {
      api[name] = (params: unknown, options?: O) =>
        runners
          .run((service) => method(service)(params, options) as Effect.Effect<unknown, unknown>, options)
          .then(plain)
    }
  }
  return api as PromiseApi<F, O>
}
