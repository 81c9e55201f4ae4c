/**
 * The run loop of every server API action: the engine made once from the options (the client transformed, the rate
 * budgets made, the clock offset shared), and each call's attempts: signed afresh, under the AppId's budget (and its
 * key's), through the client's own exchange or `execute` within the time limit, its clock corrected once on "signature
 * expired", retried on what is retryable, its span and metrics kept.
 *
 * The hot path is kept as it was for `RtmpDispatch`: no `Effect.gen`, synchronous signing, the query built as one
 * string, the retry machinery entered only after a first retryable failure, metrics updated directly, the span made
 * once, and a client's `DirectExchange` taking a whole attempt.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as Actions from "../Actions.js"
import * as DirectExchange from "../DirectExchange.js"
import type { Envelope } from "../Envelope.js"
import * as Sequence from "../internal/sequence.js"
import * as Timeout from "../internal/timeout.js"
import { maskCdnUrl, StreamId, testStreamPrefix } from "../Params.js"
import type { Action } from "../Params.js"
import * as RateLimit from "../RateLimit.js"
import type { CallOptions, Declaration, Options } from "../ServerApi.js"
import { MAX_CLOCK_OFFSET } from "../ServerApi.js"
import * as Signature from "../Signature.js"
import { isRetryable, ResponseDecodeError, TransportError } from "../ZegoError.js"
import type { CommonError, InvalidRequestError, ZegoError } from "../ZegoError.js"
import { formatIssue, invalid, invalidInput, readInput, validateOptions } from "./engineOptions.js"
import type { Exchange } from "./envelope.js"
import { failOnCode, interpretBody } from "./envelope.js"
import { record } from "./metrics.js"

/** Every error the engine deals in. */
type DispatchError = ZegoError

const SIGNATURE_EXPIRED = 100000004
const TIMESTAMP_INVALID = 100000003
// Global: a base URL whose path holds `&Signature=` must not leave the real one after it in view.
const SIGNATURE_PARAM = /([?&;]Signature=)[^&]*/g
// A relay's CDN URL holds the CDN's stream key, a secret.
const CDN_URL_PARAM = /([?&;]CDNUrl=)([^&]*)/gi

const decodedOr = (value: string): string => {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "))
  } catch {
    return value
  }
}

/** A query, or a text that holds one, fit for a log or an error: the signature hidden, a CDN URL masked. */
const redactQuery = (text: string): string =>
  text.replace(SIGNATURE_PARAM, "$1<redacted>").replace(
    CDN_URL_PARAM,
    (_, name: string, value: string) => name + encodeURIComponent(maskCdnUrl(decodedOr(value)))
  )

/** What failed underneath an HTTP client error, e.g. `connect ECONNREFUSED 127.0.0.1:1`. */
const causeText = (cause: unknown, depth = 0): string | undefined => {
  if (cause === undefined || cause === null || depth > 3) return undefined
  if (!(cause instanceof Error)) return String(cause).slice(0, 200)
  const code = (cause as { readonly code?: unknown }).code
  const own = cause.message || (typeof code === "string" ? code : cause.name)
  const inner = causeText((cause as { readonly cause?: unknown }).cause, depth + 1)
  return (inner === undefined || own.includes(inner) ? own : `${own}: ${inner}`).slice(0, 300)
}

const decodeStreamId = Schema.decodeUnknownEither(StreamId)

/** The built-in tracer, whose spans go nowhere: under it a call makes no span at all. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)
/** The live clock: the time limit of an attempt is a timer only under it (under `TestClock`, it follows that clock). */
const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

/** What the engine keeps per bound action. */
interface Bound {
  readonly action: Action
  readonly limiter: RateLimit.Limiter
  /** The declaration's answer codes (labelled by value in the metrics). */
  readonly answers: ReadonlyArray<number>
  /** The budget per value of a parameter (its row's `perKey`), unless rate limits are off. */
  readonly perKey: { readonly limit: number; readonly windowMillis: number } | undefined
}

/**
 * A limiter of one key of a per-key budget, and what says whether it may be forgotten: the callers holding or
 * waiting for its token, and when the last one ended (monotonic ms).
 */
interface KeyedLimiter {
  readonly limiter: RateLimit.Limiter
  readonly windowMillis: number
  users: number
  lastEnded: number
}

/**
 * How many per-key limiters an engine keeps before it forgets the idle ones (no caller, the last call ended a window
 * ago or more: a new limiter for that key then behaves as the old one would). The keys are caller input (room ids),
 * so without this bound a stream of distinct ones would grow the map for the life of the process.
 */
const KEYED_LIMITERS_SWEEP_AT = 256

/** A call of one action, bound to an engine. */
export type Caller<A, E> = (request: unknown, options?: CallOptions<E>) => Effect.Effect<A, E>

/** The engine: the options checked once, the client transformed once, the clock offset shared by every action. */
export interface Engine {
  readonly appId: number
  readonly baseUrl: string
  /** A stream id with the test prefix when `isTest` is true (once): as ZEGOCLOUD knows it. */
  readonly streamIdAsSent: (streamId: string) => string
  /** The call of an action, its rate budget made (in the `RateLimitStore`, if one is provided). */
  readonly bind: <I, A, E extends ZegoError>(
    declaration: Declaration<I, A, E>
  ) => Effect.Effect<Caller<A, E | CommonError>>
}

/** Sets the attributes of a failed call on its span. */
const annotateFailure = (span: Tracer.Span, error: DispatchError): void => {
  span.attribute("zego.error", error._tag)
  if ("code" in error) span.attribute("zego.code", error.code)
  if ("requestId" in error && error.requestId) span.attribute("zego.request_id", error.requestId)
}

/**
 * Retries `self` after its first failure `first`, as `Effect.retry({ schedule, while: isRetryable })` would have
 * from the start: the schedule's driver is made only once a call has failed, so a call that succeeds at once
 * costs nothing of it.
 */
const retryAfter = <A, E extends DispatchError>(
  self: Effect.Effect<A, E>,
  schedule: Schedule.Schedule<unknown, E>,
  first: E
): Effect.Effect<A, E> =>
  Effect.flatMap(Schedule.driver(Schedule.whileInput(schedule, isRetryable)), (driver) => {
    const again = (error: E): Effect.Effect<A, E> =>
      Effect.matchEffect(driver.next(error), {
        onFailure: () => Effect.fail(error),
        onSuccess: () => Effect.catchAll(self, again)
      })
    return again(first)
  })

/** Builds the engine; fails with `InvalidRequestError` when an option is invalid. */
export const make = (options: Options): Effect.Effect<Engine, InvalidRequestError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const valid = yield* validateOptions(options)
    const { appId, baseUrl, maxResponseBytes, serverSecret, timeout } = valid
    const given = yield* HttpClient.HttpClient
    // The client's own exchange, only on the client as given: any transformation is a new client, which goes through
    // `execute` (and then this module keeps the time limit and the body cap itself).
    const exchangeOf = valid.transformClient === undefined ? DirectExchange.get(given) : undefined
    const mapped = given.pipe(
      HttpClient.mapRequest((request) => HttpClientRequest.acceptJson(HttpClientRequest.prependUrl(request, baseUrl))),
      // Our own span covers the call; the platform's would record the full URL, Signature included, and send
      // trace headers to ZEGOCLOUD, for a cost per call.
      HttpClient.withTracerDisabledWhen(() => true),
      HttpClient.withTracerPropagation(false)
    )
    const client = valid.transformClient === undefined ? mapped : valid.transformClient(mapped)
    const store = Option.getOrElse(yield* Effect.serviceOption(RateLimit.RateLimitStore), () => RateLimit.inProcess)
    const limiters = new Map<string, RateLimit.Limiter>()
    const keyedLimiters = new Map<string, KeyedLimiter>()
    let sweepAt = KEYED_LIMITERS_SWEEP_AT
    const monotonicMillis = (clock: Clock.Clock) => Number(clock.unsafeCurrentTimeNanos()) / 1_000_000

    /**
     * The limiter of one value of an action's per-key budget (`${appId}:${action}:${value}` in the store, so that a
     * shared store shares it too), counting its caller until the call ends. When the map reaches its sweep size, the
     * idle limiters are forgotten first; the ones left are in use (bounded by the calls waiting or made within a
     * window), and the next sweep waits until the map has doubled.
     */
    const withKeyPermit = <X, Y>(
      bound: Bound,
      perKey: NonNullable<Bound["perKey"]>,
      value: string,
      clock: Clock.Clock,
      call: Effect.Effect<X, Y>
    ): Effect.Effect<X, Y> =>
      Effect.suspend(() => {
        const key = `${appId}:${bound.action}:${value}`
        const known = keyedLimiters.get(key)
        const entry = known !== undefined
          ? Effect.succeed(known)
          : Effect.map(store.limiter({ key, limit: perKey.limit, windowMillis: perKey.windowMillis }), (limiter) => {
            // Made concurrently by another caller meanwhile: use that one.
            const raced = keyedLimiters.get(key)
            if (raced !== undefined) return raced
            if (keyedLimiters.size >= sweepAt) {
              const now = monotonicMillis(clock)
              for (const [old, held] of keyedLimiters) {
                if (held.users === 0 && held.lastEnded + held.windowMillis <= now) keyedLimiters.delete(old)
              }
              sweepAt = Math.max(KEYED_LIMITERS_SWEEP_AT, 2 * keyedLimiters.size)
            }
            const made: KeyedLimiter = { limiter, windowMillis: perKey.windowMillis, users: 0, lastEnded: -Infinity }
            keyedLimiters.set(key, made)
            return made
          })
        return Effect.flatMap(entry, (held) => {
          held.users++
          return Effect.ensuring(
            held.limiter.withPermit(call),
            Effect.sync(() => {
              held.users--
              held.lastEnded = monotonicMillis(clock)
            })
          )
        })
      })
    /** The server's clock minus ours, learnt from a "signature expired" answer with a believable `Date`. */
    let clockOffset = 0
    const defaultRetry = valid.retry
    const prefix = valid.isTest === true ? testStreamPrefix(appId) : ""
    const isTestParam = valid.isTest === undefined ? "" : `&IsTest=${valid.isTest}`
    const timeoutMillis = Duration.toMillis(timeout)
    const timeoutDetail = `no complete answer within ${Duration.format(timeout)}`
    const target = new URL(`${baseUrl}/`)
    const origin = target.origin
    const pathPrefix = `${target.pathname}?`

    const timeoutError = (action: Action) =>
      new TransportError({ action, reason: "Timeout", detail: timeoutDetail, retryable: true })

    const connectionError = (action: Action, parts: ReadonlyArray<string | undefined>) =>
      new TransportError({
        action,
        reason: "Connection",
        detail: redactQuery(parts.filter(Boolean).join(": ")),
        retryable: true
      })

    const transportError = (action: Action, error: HttpClientError.HttpClientError) =>
      connectionError(action, [error.reason, error.description, causeText(error.cause)])

    const tooLarge = (action: Action, status: number) =>
      new ResponseDecodeError({ action, status, detail: `the response body is larger than ${maxResponseBytes} bytes` })

    const readBody = (action: Action, response: HttpClientResponse.HttpClientResponse) => {
      const length = Number(response.headers["content-length"] ?? NaN)
      if (length > maxResponseBytes) return Effect.fail(tooLarge(action, response.status))
      const body: Effect.Effect<string, HttpClientError.ResponseError | ResponseDecodeError> = Number.isFinite(length)
        ? response.text
        : response.stream.pipe(
          Stream.runFoldEffect({ parts: [] as Array<Uint8Array>, size: 0 }, (read, chunk) => {
            const size = read.size + chunk.length
            if (size > maxResponseBytes) return Effect.fail(tooLarge(action, response.status))
            read.parts.push(chunk)
            return Effect.succeed({ parts: read.parts, size })
          }),
          Effect.map(({ parts }) => {
            const decoder = new TextDecoder()
            return parts.map((part) => decoder.decode(part, { stream: true })).join("") + decoder.decode()
          })
        )
      return Effect.catchTag(body, "ResponseError", (error) => Effect.fail(transportError(action, error)))
    }

    /** One attempt through `HttpClient.execute`: the time limit kept here, as a fiber a timer interrupts. */
    const viaExecute = (action: Action, query: string) => {
      const request = HttpClientRequest.get("/", { urlParams: new URLSearchParams(query) })
      return Timeout.timeoutFail(
        Effect.flatMap(
          Effect.mapError(client.execute(request), (error) => transportError(action, error)),
          (response) =>
            Effect.flatMap(
              readBody(action, response),
              (text) => interpretBody(action, response.status, response.headers["date"], text)
            )
        ),
        timeout,
        () => timeoutError(action)
      )
    }

    const fromDirect = (action: Action, result: DirectExchange.Result) => {
      switch (result._tag) {
        case "Response":
          return interpretBody(action, result.status, result.date, result.body)
        case "Timeout":
          return Either.left(timeoutError(action))
        case "TooLarge":
          return Either.left(tooLarge(action, result.status))
        case "Failed":
          return Either.left(connectionError(action, [result.reason, causeText(result.cause)]))
      }
    }

    /**
     * One attempt through the client's own exchange, on the live clock: the time limit and the body cap kept inside
     * the client, the metrics updated as the answer arrives (or the attempt is interrupted). No fiber, no frame.
     */
    const viaDirect = (
      exchange: DirectExchange.DirectExchange,
      action: Action,
      answers: ReadonlyArray<number>,
      query: string,
      clock: Clock.Clock,
      labels: ReadonlyArray<MetricLabel.MetricLabel>,
      started: number
    ) =>
      Effect.async<Exchange, TransportError | ResponseDecodeError>((resume) => {
        let ended = false
        const abort = exchange.get(
          { origin, path: pathPrefix + query, timeoutMillis, maxBodyBytes: maxResponseBytes },
          (result) => {
            ended = true
            const outcome = fromDirect(action, result)
            record(action, answers, labels, clock.unsafeCurrentTimeMillis() - started, outcome)
            resume(outcome)
          }
        )
        return Effect.sync(() => {
          if (ended) return
          ended = true
          abort()
          record(action, answers, labels, clock.unsafeCurrentTimeMillis() - started, undefined)
        })
      })

    /**
     * One attempt through the client's own exchange under another clock (`TestClock`): the time limit follows that
     * clock, so it is kept here.
     */
    const viaDirectTimed = (exchange: DirectExchange.DirectExchange, action: Action, query: string) =>
      Timeout.timeoutFail(
        Effect.async<Exchange, TransportError | ResponseDecodeError>((resume) =>
          Effect.sync(exchange.get(
            { origin, path: pathPrefix + query, timeoutMillis: undefined, maxBodyBytes: maxResponseBytes },
            (result) => resume(fromDirect(action, result))
          ))
        ),
        timeout,
        () => timeoutError(action)
      )

    /** An attempt's query signed at `nowMillis` (a fresh nonce; the clock offset learnt so far applied). */
    const signedQuery = (callQuery: string, nowMillis: number) => {
      const signed = Signature.publicParamsAt({ appId, serverSecret, clockOffsetMillis: clockOffset }, nowMillis)
      return `${callQuery}&AppId=${signed.AppId}&SignatureNonce=${signed.SignatureNonce}` +
        `&Timestamp=${signed.Timestamp}&SignatureVersion=${signed.SignatureVersion}&Signature=${signed.Signature}`
    }

    /**
     * One signed HTTP exchange, under the rate limit (and, for an action with a per-key budget, under its key's
     * first: a caller waiting for its room's turn holds no token of the AppId's); its outcome counted and its
     * latency recorded as it ends.
     */
    const exchange = (bound: Bound, callQuery: string, keyValue: string | undefined, clock: Clock.Clock) =>
      bound.perKey === undefined || keyValue === undefined
        ? limitedExchange(bound, callQuery)
        : withKeyPermit(bound, bound.perKey, keyValue, clock, limitedExchange(bound, callQuery))

    const limitedExchange = (bound: Bound, callQuery: string) =>
      bound.limiter.withPermit(Effect.withFiberRuntime<Exchange, TransportError | ResponseDecodeError>((fiber) => {
        const clock = Context.get(fiber.getFiberRef(DefaultServices.currentServices), Clock.Clock)
        const labels = fiber.getFiberRef(FiberRef.currentMetricLabels)
        const started = clock.unsafeCurrentTimeMillis()
        const query = signedQuery(callQuery, started)
        const { action, answers } = bound
        const measured = exchangeOf !== undefined && clock === liveClock
          ? viaDirect(exchangeOf, action, answers, query, clock, labels, started)
          : Effect.onExit(
            exchangeOf === undefined ? viaExecute(action, query) : viaDirectTimed(exchangeOf, action, query),
            (exit) => {
              const outcome = Exit.isSuccess(exit)
                ? Either.right(exit.value)
                : exit.cause._tag === "Fail"
                ? Either.left(exit.cause.error)
                : undefined
              record(action, answers, labels, clock.unsafeCurrentTimeMillis() - started, outcome)
              return Effect.void
            }
          )
        if (LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), LogLevel.Debug)) return measured
        return Effect.zipRight(
          Effect.logDebug("ZEGOCLOUD request").pipe(
            Effect.annotateLogs("url", redactQuery(`${baseUrl}/?${query}`))
          ),
          measured
        )
      }))

    /**
     * The second exchange of an attempt, when the server says our clock is off and tells us its time: the offset
     * adopted (if believable), the call signed again (same Sequence: a refused signature applied nothing).
     */
    const correctClock = (
      bound: Bound,
      callQuery: string,
      keyValue: string | undefined,
      clock: Clock.Clock,
      first: Exchange,
      serverTimeMillis: number
    ) =>
      Effect.gen(function*() {
        const offset = serverTimeMillis - (yield* Clock.currentTimeMillis)
        if (Math.abs(offset) > Duration.toMillis(MAX_CLOCK_OFFSET)) {
          yield* Effect.logWarning(
            `ZEGOCLOUD says the signature expired, but its Date is more than ${
              Duration.format(MAX_CLOCK_OFFSET)
            } from this machine's clock: not believed, the clock offset is unchanged`
          )
          return first
        }
        clockOffset = offset
        yield* Effect.logWarning("ZEGOCLOUD says the signature expired: correcting the clock offset and signing again")
          .pipe(Effect.annotateLogs("clockOffsetMillis", offset))
        const second = yield* exchange(bound, callQuery, keyValue, clock)
        if (second.envelope.Code === SIGNATURE_EXPIRED || second.envelope.Code === TIMESTAMP_INVALID) {
          // The corrected time did not help: the Date was wrong, so later calls must not keep using it.
          clockOffset = 0
          yield* Effect.logWarning("The corrected timestamp was refused too: the clock offset is dropped")
        }
        return second
      })

    /**
     * A call, its span already made (or none, under the built-in tracer). With `fast` (the client's own exchange, when
     * nothing stands between the call and it: see `bind`), the first attempt is one `Effect.async` around that
     * exchange, and the retry, the clock correction and the errors' paths are entered only from its answer.
     */
    const run = <I, A, E extends ZegoError>(
      declaration: Declaration<I, A, E>,
      bound: Bound,
      decodeRequest: (request: unknown) => Either.Either<I, InvalidRequestError>,
      request: unknown,
      callOptions: CallOptions<E | CommonError> | undefined,
      clock: Clock.Clock,
      span: Tracer.Span | undefined,
      fast: DirectExchange.DirectExchange | undefined,
      labels: ReadonlyArray<MetricLabel.MetricLabel>
    ): Effect.Effect<A, E | CommonError> => {
      const action = declaration.action
      const refuse = (error: E | CommonError) => {
        if (span !== undefined) annotateFailure(span, error)
        return Effect.fail(error)
      }
      const decoded = decodeRequest(request)
      if (Either.isLeft(decoded)) return refuse(decoded.left)
      const retryRead = callOptions === undefined
        ? undefined
        : readInput("retry", () => Either.right(callOptions.retry ?? defaultRetry))
      if (retryRead !== undefined && Either.isLeft(retryRead)) return refuse(retryRead.left)
      const retry = retryRead === undefined ? defaultRetry : retryRead.right
      if (!Schedule.isSchedule(retry)) return refuse(invalid("retry", "must be a Schedule"))
      const input = decoded.right
      const streamIdOf = declaration.streamId
      let streamId = streamIdOf === undefined ? "" : streamIdOf(input)
      if (streamIdOf !== undefined && !streamId.startsWith(prefix)) {
        streamId = prefix + streamId
        const checked = decodeStreamId(streamId)
        if (Either.isLeft(checked)) {
          return refuse(invalid("streamId", `with the test prefix ${prefix}: ${formatIssue(checked.left).detail}`))
        }
      }
      const keyValue = bound.perKey === undefined ? undefined : declaration.perKeyValue?.(input)
      const sequenceOf = declaration.sequence
      const callerSequence = sequenceOf === false ? undefined : sequenceOf(input)
      // Every value is checked (or escaped by the declaration) to need no further escaping.
      const head = streamIdOf === undefined ? `Action=${action}` : `Action=${action}&StreamId=${streamId}`
      const tail = declaration.query(input) + isTestParam
      // Each attempt has a Sequence of its own: an earlier attempt may have been applied, and the server refuses a
      // Sequence that does not increase.
      const queryOf = (attempt: number) =>
        sequenceOf === false ? head + tail : `${head}&Sequence=${
          callerSequence === undefined
            ? Sequence.nextAt(clock.unsafeCurrentTimeMillis())
            : Sequence.ofAttempt(callerSequence, attempt)
        }${tail}`
      if (span !== undefined) {
        if (streamIdOf !== undefined) span.attribute("zego.stream_id", streamId)
        if (declaration.annotate !== undefined) declaration.annotate(span, input)
      }

      let attempts = 0
      const succeeded = (envelope: Envelope): Effect.Effect<A, E | CommonError> => {
        const answered = declaration.answer(envelope, input, streamId)
        if (Either.isLeft(answered)) return refuse(answered.left)
        if (span !== undefined) {
          span.attribute("zego.code", envelope.Code)
          span.attribute("zego.request_id", envelope.RequestId)
        }
        return answered
      }
      /** The attempts after a first, the clock correction and the retry: made when a call needs them. */
      const paths = () => {
        /** What an attempt's first exchange amounts to: its envelope, after the clock correction if it needs one. */
        const afterExchange = (callQuery: string, first: Exchange) => {
          if (first.envelope.Code !== SIGNATURE_EXPIRED || first.serverTimeMillis === undefined) {
            return failOnCode(action, bound.answers, first.envelope)
          }
          return Effect.flatMap(
            correctClock(bound, callQuery, keyValue, clock, first, first.serverTimeMillis),
            (exchanged) => failOnCode(action, bound.answers, exchanged.envelope)
          )
        }
        const attempt = Effect.suspend(() => {
          attempts++
          if (span !== undefined) span.attribute("zego.attempts", attempts)
          const callQuery = queryOf(attempts)
          return Effect.flatMap(exchange(bound, callQuery, keyValue, clock), (first) => afterExchange(callQuery, first))
        })
        // The retry machinery is entered only after a first failure worth retrying.
        const failed = (error: E | CommonError) =>
          isRetryable(error)
            ? Effect.matchEffect(retryAfter(attempt, retry, error), { onFailure: refuse, onSuccess: succeeded })
            : refuse(error)
        return { afterExchange, attempt, failed }
      }
      if (fast === undefined) {
        const { attempt, failed } = paths()
        return Effect.matchEffect(attempt, { onFailure: failed, onSuccess: succeeded })
      }

      // The first attempt through the client's own exchange, as `viaDirect` makes it, its answer read here.
      attempts = 1
      if (span !== undefined) span.attribute("zego.attempts", 1)
      const callQuery = queryOf(1)
      return Effect.async<A, E | CommonError>((resume) => {
        const started = clock.unsafeCurrentTimeMillis()
        let ended = false
        const abort = fast.get(
          { origin, path: pathPrefix + signedQuery(callQuery, started), timeoutMillis, maxBodyBytes: maxResponseBytes },
          (result) => {
            ended = true
            const outcome = fromDirect(action, result)
            record(action, bound.answers, labels, clock.unsafeCurrentTimeMillis() - started, outcome)
            if (Either.isLeft(outcome)) return resume(paths().failed(outcome.left))
            const first = outcome.right
            if (first.envelope.Code === SIGNATURE_EXPIRED && first.serverTimeMillis !== undefined) {
              const { afterExchange, failed } = paths()
              return resume(
                Effect.matchEffect(afterExchange(callQuery, first), { onFailure: failed, onSuccess: succeeded })
              )
            }
            const checked = failOnCode(action, bound.answers, first.envelope)
            resume(Either.isLeft(checked) ? paths().failed(checked.left) : succeeded(checked.right))
          }
        )
        return Effect.sync(() => {
          if (ended) return
          ended = true
          abort()
          record(action, bound.answers, labels, clock.unsafeCurrentTimeMillis() - started, undefined)
        })
      })
    }

    const bind = <I, A, E extends ZegoError>(
      declaration: Declaration<I, A, E>
    ): Effect.Effect<Caller<A, E | CommonError>> =>
      Effect.map(
        Effect.suspend(() => {
          // The action's own limit (its row of the action table) unless the options set one for every action.
          const own = Actions.row(declaration.action).limit
          const rateLimit = valid.rateLimit === undefined
            ? { limit: valid.isTest === true ? own.test : own.production, window: Duration.seconds(1) }
            : valid.rateLimit
          if (rateLimit === false) return Effect.succeed(RateLimit.unlimited)
          const key = Actions.budgetKey(declaration.action, appId)
          const windowMillis = Duration.toMillis(Duration.decode(rateLimit.window))
          // Actions sharing a budget key share one bucket here too (the in-process store makes one per `limiter`).
          const id = `${key} ${rateLimit.limit}/${windowMillis}`
          const known = limiters.get(id)
          if (known !== undefined) return Effect.succeed(known)
          return Effect.tap(
            store.limiter({ key, limit: rateLimit.limit, windowMillis }),
            (limiter) => Effect.sync(() => limiters.set(id, limiter))
          )
        }),
        (limiter): Caller<A, E | CommonError> => {
          const row = Actions.row(declaration.action)
          if (row.perKey !== undefined && declaration.perKeyValue === undefined) {
            throw new Error(`${declaration.action} has a budget per ${row.perKey.parameter}: declare its perKeyValue`)
          }
          const bound: Bound = {
            action: declaration.action,
            limiter,
            answers: row.answers,
            // Rate limits turned off turn this one off too; a `rateLimit` option replaces only the AppId's.
            perKey: row.perKey === undefined || valid.rateLimit === false
              ? undefined
              : { limit: row.perKey.limit, windowMillis: row.perKey.windowSeconds * 1000 }
          }
          const decodeSchema = Schema.decodeUnknownEither(declaration.parameters, { onExcessProperty: "error" })
          const readUsual = declaration.readParameters
          const decodeRequest = (request: unknown) =>
            readInput("request", () => {
              const usual = readUsual?.(request)
              return usual !== undefined ? Either.right(usual) : Either.mapLeft(decodeSchema(request), invalidInput)
            })
          // Nothing stands between a call and the client's own exchange: no budget to take a token from (rate limits
          // off), no key budget, the live clock (under `TestClock` the time limit follows that clock, so it is kept
          // by the engine).
          const direct = exchangeOf !== undefined && limiter === RateLimit.unlimited && bound.perKey === undefined
            ? exchangeOf
            : undefined
          const spanOptions: Tracer.SpanOptions = {
            kind: "client",
            attributes: { "zego.action": declaration.action },
            // A stack frame inside this module tells a trace reader nothing, and costs a capture per call.
            captureStackTrace: false
          }
          /** A call under its span: made once, its attributes set directly; none under the built-in tracer. */
          return (request, callOptions) =>
            Effect.withFiberRuntime((fiber) => {
              const services = fiber.getFiberRef(DefaultServices.currentServices)
              const clock = Context.get(services, Clock.Clock)
              // The request's debug line is logged by the usual path.
              const fast = direct !== undefined && clock === liveClock &&
                  LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), LogLevel.Debug)
                ? direct
                : undefined
              const labels = fiber.getFiberRef(FiberRef.currentMetricLabels)
              if (Context.get(services, Tracer.Tracer) === nativeTracer) {
                return run(declaration, bound, decodeRequest, request, callOptions, clock, undefined, fast, labels)
              }
              return Effect.useSpan(
                declaration.spanName,
                spanOptions,
                (span) =>
                  Effect.withParentSpan(
                    run(declaration, bound, decodeRequest, request, callOptions, clock, span, fast, labels),
                    span
                  )
              )
            })
        }
      )

    const streamIdAsSent = (streamId: string) => streamId.startsWith(prefix) ? streamId : prefix + streamId
    return { appId, baseUrl, streamIdAsSent, bind }
  })
