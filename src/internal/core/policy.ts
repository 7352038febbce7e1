/**
 * The call policy: which timeouts and retry policy a call runs with, and how a call and a stream are
 * retried.
 *
 * Precedence, per setting: the call's own option, else the block's (`withCallOptions`), else the
 * client's. `maxRetries` caps whatever schedule is in effect: the default backoff takes it as its
 * count, a `retrySchedule` of your own is cut off after that many retries, and 0 turns retrying off.
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Errors from "../../Errors.js"
import { InvalidRequestError, type NovelAIError } from "../../Errors.js"
import {
  anlas,
  duration,
  lockWait,
  positiveInteger,
  type Resolved,
  retries,
  schedule,
  unknownName
} from "./options.js"
import type * as Pull from "./pull.js"
import * as Retry from "./retry.js"

/** The settings one call runs with. */
export interface CallSettings {
  /** Undefined: no retries. */
  readonly policy: Schedule.Schedule<unknown, NovelAIError> | undefined
  readonly timeout: Duration.Duration
  readonly idleTimeout: Duration.Duration
  /** Whether a chat or completion is answered by collecting a stream; undefined: the endpoint's default. */
  readonly collectStream: boolean | undefined
  /** The largest body the call reads; undefined: the endpoint's default. */
  readonly maxResponseBytes: number | undefined
  /** The most Anlas a paid call may cost, if bounded. */
  readonly maxAnlas: number | undefined
  /** Whether a paid call must be free. */
  readonly freeOnly: boolean
}

/** Call options for a block of code, read at call time (see `NovelAIClient.withCallOptions`). */
export class BlockOptions extends Context.Tag("effect-novelai/NovelAIClient/BlockOptions")<
  BlockOptions,
  Readonly<Record<string, unknown>>
>() {}

const KEYS = [
  "maxRetries",
  "retrySchedule",
  "timeout",
  "idleTimeout",
  "collectStream",
  "lockWait",
  "maxResponseBytes",
  "maxAnlas",
  "freeOnly"
] as const

/** The call options a call takes; `signal` is the facade's. */
const CALL_OPTIONS: ReadonlyArray<string> = [...KEYS, "signal"]

type Level = Readonly<Record<string, unknown>> | undefined

/**
 * The retry policy from the narrowest `retrySchedule` and `maxRetries` given (call, block, client).
 * A schedule given at a narrower level than `maxRetries` is used as it is; otherwise `maxRetries`
 * caps it.
 */
const policyOf = (levels: ReadonlyArray<Level>): Either.Either<CallSettings["policy"], string> => {
  const scheduleAt = levels.findIndex((level) => level?.retrySchedule !== undefined)
  const retriesAt = levels.findIndex((level) => level?.maxRetries !== undefined)
  const bad = retriesAt === -1 ? undefined : retries(levels[retriesAt]!.maxRetries)
  if (bad !== undefined) return Either.left(bad)
  const custom = scheduleAt === -1 ? Either.right(undefined) : schedule(levels[scheduleAt]!.retrySchedule)
  if (Either.isLeft(custom)) return Either.left(custom.left)
  const maxRetries = retriesAt === -1 ? undefined : (levels[retriesAt]!.maxRetries as number)
  if (custom.right === undefined) {
    const wait = lockWait(levels.find((level) => level?.lockWait !== undefined)?.lockWait)
    if (Either.isLeft(wait)) return Either.left(wait.left)
    return Either.right(maxRetries === 0 ? undefined : Retry.schedule({ maxRetries, lockWait: wait.right }))
  }
  if (maxRetries === undefined || retriesAt > scheduleAt) return Either.right(custom.right)
  return Either.right(
    maxRetries === 0 ? undefined : Schedule.intersect(custom.right, Schedule.recurs(maxRetries))
  )
}

/** Resolves call settings for one client; the settings without any override are built once. */
export const makeSettings = (client: Resolved) => {
  const clientLevel = {
    maxRetries: client.maxRetries,
    retrySchedule: client.retrySchedule,
    lockWait: client.lockWait
  }
  const defaults: CallSettings = {
    policy: Either.getOrUndefined(policyOf([clientLevel])),
    timeout: client.timeout,
    idleTimeout: client.idleTimeout,
    collectStream: client.collectStream,
    maxResponseBytes: client.maxResponseBytes,
    maxAnlas: client.maxAnlas,
    freeOnly: client.freeOnly === true
  }

  const resolve = (
    endpoint: string,
    call: Level,
    block: Level
  ): Either.Either<CallSettings, InvalidRequestError> => {
    const pick = (key: (typeof KEYS)[number]) => call?.[key] ?? block?.[key]
    const invalid = (message: string) =>
      Either.left(new InvalidRequestError({ message: `${endpoint}: ${message}`, endpoint }))
    const policy = policyOf([call, block, clientLevel])
    if (Either.isLeft(policy)) return invalid(policy.left)
    const timeout = duration("timeout", pick("timeout"), client.timeout)
    if (Either.isLeft(timeout)) return invalid(timeout.left)
    const idleTimeout = duration("idleTimeout", pick("idleTimeout"), client.idleTimeout)
    if (Either.isLeft(idleTimeout)) return invalid(idleTimeout.left)
    const collectStream = pick("collectStream") ?? client.collectStream
    if (collectStream !== undefined && typeof collectStream !== "boolean") {
      return invalid(`collectStream must be true or false (got ${JSON.stringify(collectStream)})`)
    }
    const maxResponseBytes = positiveInteger("maxResponseBytes", pick("maxResponseBytes"))
    if (Either.isLeft(maxResponseBytes)) return invalid(maxResponseBytes.left)
    const maxAnlas = anlas("maxAnlas", pick("maxAnlas"))
    if (Either.isLeft(maxAnlas)) return invalid(maxAnlas.left)
    const freeOnly = pick("freeOnly") ?? client.freeOnly
    if (freeOnly !== undefined && typeof freeOnly !== "boolean") {
      return invalid(`freeOnly must be true or false (got ${JSON.stringify(freeOnly)})`)
    }
    return Either.right({
      policy: policy.right,
      timeout: timeout.right,
      idleTimeout: idleTimeout.right,
      collectStream,
      maxResponseBytes: maxResponseBytes.right ?? client.maxResponseBytes,
      maxAnlas: maxAnlas.right ?? client.maxAnlas,
      freeOnly: freeOnly === true
    })
  }

  /** The settings of one call: `options` as given to the call, over the block's, over the client's. */
  return (endpoint: string, options: unknown): Effect.Effect<CallSettings, InvalidRequestError> =>
    Effect.flatMap(Effect.serviceOption(BlockOptions), (block) => {
      if (options !== undefined && (typeof options !== "object" || options === null)) {
        return Effect.fail(
          new InvalidRequestError({ message: `${endpoint}: call options must be an object`, endpoint })
        )
      }
      const call = options as Level
      if (call !== undefined) {
        for (const name of Object.keys(call)) {
          if (!CALL_OPTIONS.includes(name) && call[name] !== undefined) {
            return Effect.fail(
              new InvalidRequestError({
                message: `${endpoint}: ${unknownName("call option", name, CALL_OPTIONS)}`,
                endpoint,
                field: name
              })
            )
          }
        }
      }
      if (Option.isNone(block) && (call === undefined || KEYS.every((key) => call[key] === undefined))) {
        return Effect.succeed(defaults)
      }
      return resolve(endpoint, call, Option.getOrUndefined(block))
    })
}

/** Runs the retrying part of a call so that closing the client ends it at once, backoff included. */
export type Guard = <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E | Errors.ClientClosedError>

/**
 * Retries a call by `policy`. The schedule's driver is only set up once a first attempt has failed:
 * most calls succeed, and should not pay for it. The first error is fed to the schedule as usual.
 */
export const retryCall = <A, E>(
  attempt: Effect.Effect<A, E>,
  policy: Schedule.Schedule<unknown, E> | undefined,
  guard: Guard
): Effect.Effect<A, E | Errors.ClientClosedError> =>
  policy === undefined
    ? attempt
    : Effect.catchAll(attempt, (first) => {
        let failedOnce = false
        return guard(
          Effect.retry(
            Effect.suspend(() => {
              if (failedOnce) return attempt
              failedOnce = true
              return Effect.fail(first)
            }),
            policy
          )
        )
      })

/**
 * Retries a stream by `policy`, but only while it has emitted nothing: generated text is never
 * repeated or spliced. As one pull: each attempt opens in a scope of its own inside the stream's,
 * closed (its request aborted) before the next one, and the first attempt opens on the first
 * pull. A failure once a chunk has been emitted ends the stream.
 */
export const retryPull = <A, E>(
  open: Pull.Open<A, E>,
  policy: Schedule.Schedule<unknown, E> | undefined,
  guard: Guard
): Pull.Open<A, E | Errors.ClientClosedError> =>
  policy === undefined
    ? open
    : Effect.map(Effect.scope, (outer) => {
        let emitted = false
        let driver: Schedule.ScheduleDriver<unknown, E, never> | undefined
        let attempt: { readonly scope: Scope.CloseableScope; readonly pull: Pull.Pull<A, E> } | undefined
        // An attempt's opening fails with E, as its pull does with Some(E).
        const fresh: Pull.Pull<A, E> = Effect.flatMap(
          Scope.fork(outer, ExecutionStrategy.sequential),
          (scope) =>
            Effect.flatMap(
              Effect.mapError(
                Effect.onError(Scope.extend(open, scope), (cause) =>
                  Scope.close(scope, Exit.failCause(cause))
                ),
                Option.some
              ),
              (pull) => {
                attempt = { scope, pull }
                return pull
              }
            )
        )
        const retry = (error: E): Pull.Pull<A, E | Errors.ClientClosedError> => {
          const failed = attempt
          attempt = undefined
          return Effect.zipRight(
            failed === undefined ? Effect.void : Scope.close(failed.scope, Exit.fail(error)),
            Effect.flatMap(
              Effect.mapError(
                guard(
                  Effect.flatMap(
                    driver === undefined ? Schedule.driver(policy) : Effect.succeed(driver),
                    (made) => {
                      driver = made
                      return made.next(error)
                    }
                  )
                ),
                // The schedule is done: the error stands.
                (closed) => Option.some(closed instanceof Errors.ClientClosedError ? closed : error)
              ),
              () => pull
            )
          )
        }
        const pull: Pull.Pull<A, E | Errors.ClientClosedError> = Effect.suspend(() =>
          emitted
            ? attempt!.pull
            : Effect.matchEffect(attempt === undefined ? fresh : attempt.pull, {
                onSuccess: (chunk) => {
                  if (chunk.length > 0) emitted = true
                  return Effect.succeed(chunk)
                },
                // None: the stream ended.
                onFailure: (error) => (Option.isNone(error) ? Effect.fail(error) : retry(error.value))
              })
        )
        return pull
      })
