/**
 * The engine every ZEGOCLOUD server API action runs on: the public parameters and a fresh signature per attempt,
 * `IsTest` and the `zegotest-<AppId>-` prefix, the base URL and its https rule, the retry schedule and what is
 * retryable, the per-attempt time limit, clock-skew correction, the envelope and the body cap, the code table, the
 * span, the metrics and the rate budget. An action is a {@link Declaration}: data, not a copy of this machinery.
 *
 * The hot path (issue 11) is kept as it was for `RtmpDispatch`: no `Effect.gen`, synchronous signing, the query
 * built as one string, the retry machinery entered only after a first retryable failure, metrics updated directly,
 * the span made once, and a client's `DirectExchange` taking a whole attempt.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as Actions from "../Actions.js"
import * as DirectExchange from "../DirectExchange.js"
import { EnvelopeFromJson } from "../Envelope.js"
import type { Envelope } from "../Envelope.js"
import * as Sequence from "../internal/sequence.js"
import * as Timeout from "../internal/timeout.js"
import { Action, AppId, Region, regionBaseUrl, StreamId, testStreamPrefix } from "../Params.js"
import { hasLoneSurrogate } from "../Params.js"
import type { Sequence as SequenceNumber } from "../Params.js"
import * as RateLimit from "../RateLimit.js"
import * as Signature from "../Signature.js"
import * as Untrusted from "../Untrusted.js"
import {
  fromCode,
  InvalidRequestError,
  isRetryable,
  knownCodes,
  ResponseDecodeError,
  TransportError
} from "../ZegoError.js"
import type { CommonError, CommonServerError, ZegoError } from "../ZegoError.js"

/** Every error the engine deals in. */
type DispatchError = ZegoError

/** Per-call options. */
export interface CallOptions<E = ZegoError> {
  /** Overrides the layer's retry schedule for this call (`Schedule.stop` for no retry). */
  readonly retry?: Schedule.Schedule<unknown, E> | undefined
}

/** The options of every service's `make` and `layer`. */
export interface Options {
  readonly appId: number
  readonly serverSecret: Redacted.Redacted<string>
  /** The API region; ignored when `baseUrl` is set. Default `unified` (`https://rtc-api.zego.im`). */
  readonly region?: Region | undefined
  /** Overrides the region's URL; must be https unless its host is loopback. */
  readonly baseUrl?: string | undefined
  /** `true` or `false` sends `IsTest`; `true` also prefixes stream ids with `zegotest-<AppId>-`. Unset sends nothing. */
  readonly isTest?: boolean | undefined
  /** Retry schedule for the retryable errors. Default {@link defaultRetrySchedule}. */
  readonly retry?: Schedule.Schedule<unknown, DispatchError> | undefined
  /** Time limit of one attempt. Default 5 seconds; at most {@link MAX_DURATION}. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Client-side rate limit of each of the service's actions, shared by every fiber using it (and, with a shared
   * `RateLimitStore`, by every process); `false` turns it off. Default: the action's own (40 per second for the
   * dispatch; see each service), its test-environment limit when `isTest` is true. The window is at most
   * {@link MAX_DURATION}.
   */
  readonly rateLimit?: RateLimit.RateLimit | false | undefined
  /** The largest response body read, in bytes. Default 256 KiB. */
  readonly maxResponseBytes?: number | undefined
  /** A last change to the `HttpClient` (tracing, proxies, …). */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/** Exponential back-off from 200 ms with jitter, each delay capped at 2 s, at most 3 retries. */
export const defaultRetrySchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("200 millis").pipe(
  Schedule.jittered,
  Schedule.union(Schedule.spaced("2 seconds")),
  Schedule.intersect(Schedule.recurs(3))
)

const SIGNATURE_EXPIRED = 100000004
const TIMESTAMP_INVALID = 100000003
// Global: a base URL whose path holds `&Signature=` must not leave the real one after it in view.
const SIGNATURE_PARAM = /([?&;]Signature=)[^&]*/g

/**
 * The largest clock offset adopted from a server's `Date`: ZEGOCLOUD tolerates 10 minutes of skew, and a machine
 * off by more than a day has a clock to fix, not to correct for. Past it, the `Date` is not believed.
 */
export const MAX_CLOCK_OFFSET = Duration.hours(24)
/** The longest per-attempt `timeout` and rate-limit `window` accepted (timers overflow past about 24.8 days). */
export const MAX_DURATION = Duration.hours(1)
/** An HTTP date as RFC 9110 sends it (IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`. */
const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/

// Incremental: it only goes up, so OpenTelemetry exports it as a monotonic COUNTER, not an UP_DOWN_COUNTER.
const responses = Metric.counter("zego_rtmp_dispatch_responses", {
  description: "RTMP dispatch attempts by action and return code (transport / decode when there was none)",
  incremental: true
})
// Effect metrics have no unit field: @effect/opentelemetry reads the unit from a `unit` tag (UCUM `ms`).
const latency = Metric.histogram(
  "zego_rtmp_dispatch_latency_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 14 }),
  "Round trip of one RTMP dispatch attempt, in milliseconds"
).pipe(Metric.tagged("unit", "ms"))
// Each tagged metric is built once. A metric tagged twice per update unions its labels into a new array every time,
// which misses Effect's per-labels cache and hashes the whole key into the registry on each update.
// The `action` label takes only the declared actions' names.
const latencyByAction = Object.fromEntries(
  Action.literals.map((action) => [action, Metric.tagged(latency, "action", action)])
) as Record<Action, Metric.Metric.Histogram<number>>
/**
 * The `code` label of a response: a code of the table (or 0) by value, any other under `other`. A server may send
 * any number of distinct codes, and each label value is a series kept for the life of the process.
 */
const codeLabel = (code: number | "transport" | "decode", answers: ReadonlyArray<number>): string =>
  typeof code === "string"
    ? code
    : code === 0 || knownCodes.includes(code) || answers.includes(code)
    ? String(code)
    : "other"
const responseCounters = new Map<string, Metric.Metric.Counter<number>>()
const responseCounter = (
  action: Action,
  code: number | "transport" | "decode",
  answers: ReadonlyArray<number>
): Metric.Metric.Counter<number> => {
  const label = codeLabel(code, answers)
  const key = `${action} ${label}`
  const cached = responseCounters.get(key)
  if (cached !== undefined) return cached
  const counter = Metric.taggedWithLabels(responses, [
    MetricLabel.make("action", action),
    MetricLabel.make("code", label)
  ])
  responseCounters.set(key, counter)
  return counter
}

const isLoopback = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname)

/** What failed underneath an HTTP client error, e.g. `connect ECONNREFUSED 127.0.0.1:1`. */
const causeText = (cause: unknown, depth = 0): string | undefined => {
  if (cause === undefined || cause === null || depth > 3) return undefined
  if (!(cause instanceof Error)) return String(cause).slice(0, 200)
  const code = (cause as { readonly code?: unknown }).code
  const own = cause.message || (typeof code === "string" ? code : cause.name)
  const inner = causeText((cause as { readonly cause?: unknown }).cause, depth + 1)
  return (inner === undefined || own.includes(inner) ? own : `${own}: ${inner}`).slice(0, 300)
}

export const invalid = (parameter: string, detail: string) => new InvalidRequestError({ parameter, detail })

/** Checks a base URL: https, or http on a loopback host; no query or fragment. Returns it without a trailing `/`. */
export const validateBaseUrl = (baseUrl: string): Either.Either<string, InvalidRequestError> => {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    // Not echoed: a URL that fails to parse may still hold `user:password@`.
    return Either.left(invalid("baseUrl", "not a URL (expected https://host[:port][/path])"))
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    return Either.left(invalid("baseUrl", `must be https (plain http only on a loopback host), got ${url.protocol}//`))
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    return Either.left(invalid("baseUrl", "must not carry a query, a fragment or credentials"))
  }
  return Either.right(url.href.replace(/\/+$/, ""))
}

export const formatIssue = (error: ParseResult.ParseError): { parameter: string; detail: string } => {
  const { message, path } = Untrusted.describeParseError(error)
  return { parameter: path || "request", detail: message }
}

export const invalidInput = (error: ParseResult.ParseError): InvalidRequestError =>
  InvalidRequestError.fromParseError(error)

/**
 * Reads what a caller passed, even a value that fights back: a getter that throws or a Proxy whose traps do is an
 * `InvalidRequestError`, not a defect.
 */
export const readInput = <A>(what: string, read: () => Either.Either<A, InvalidRequestError>) => {
  try {
    return read()
  } catch {
    return Either.left(invalid(what, "could not be read (a getter or a Proxy trap threw)"))
  }
}

const decodeStreamId = Schema.decodeUnknownEither(StreamId)
const decodeEnvelope = Schema.decodeUnknownEither(EnvelopeFromJson)

/**
 * The envelope of a body. The usual shape (an object whose `Code` is an integer and whose `Message` and `RequestId`
 * are strings or absent) is read directly; anything else goes through the schema, for its exact error.
 */
const readEnvelope = (text: string): Either.Either<Envelope, ParseResult.ParseError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return decodeEnvelope(text)
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return decodeEnvelope(text)
  const { Code, Data, Message, RequestId } = json as Record<string, unknown>
  if (
    typeof Code !== "number" || !Number.isSafeInteger(Code) || (Message !== undefined && typeof Message !== "string") ||
    (RequestId !== undefined && typeof RequestId !== "string")
  ) return decodeEnvelope(text)
  const envelope: { -readonly [K in keyof Envelope]: Envelope[K] } = {
    Code,
    Message: Message ?? "",
    RequestId: RequestId ?? ""
  }
  if ("Data" in json) envelope.Data = Data
  return Either.right(envelope)
}

interface ValidOptions {
  readonly appId: number
  readonly serverSecret: Redacted.Redacted<string>
  readonly baseUrl: string
  readonly isTest: boolean | undefined
  readonly timeout: Duration.Duration
  /** `undefined`: each action's own limit. */
  readonly rateLimit: RateLimit.RateLimit | false | undefined
  readonly maxResponseBytes: number
  readonly retry: Schedule.Schedule<unknown, DispatchError>
  /** `undefined` when none was given: the client is then used as it is (and its own exchange, if it has one). */
  readonly transformClient: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

const validateOptions = (options: Options): Either.Either<ValidOptions, InvalidRequestError> =>
  readInput("options", () => validateOptionsUnsafe(options))

/** A duration option: positive, and at most {@link MAX_DURATION}. */
export const boundedDuration = (
  parameter: string,
  input: unknown
): Either.Either<Duration.Duration, InvalidRequestError> => {
  const duration = Duration.decodeUnknown(input)
  if (Option.isNone(duration) || !Duration.greaterThan(duration.value, Duration.zero)) {
    return Either.left(invalid(parameter, "must be a positive duration"))
  }
  if (Duration.greaterThan(duration.value, MAX_DURATION)) {
    return Either.left(invalid(parameter, `must be at most ${Duration.format(MAX_DURATION)}`))
  }
  return Either.right(duration.value)
}

const validateOptionsUnsafe = (options: Options): Either.Either<ValidOptions, InvalidRequestError> =>
  Either.gen(function*() {
    // The types say what an option is; these checks are for callers the types do not reach (JavaScript, JSON).
    if (typeof options !== "object" || options === null) {
      return yield* Either.left(invalid("options", "must be an object"))
    }
    if (!Redacted.isRedacted(options.serverSecret)) {
      return yield* Either.left(invalid("serverSecret", "must be Redacted (Redacted.make or Config.redacted)"))
    }
    const secret = Redacted.value(options.serverSecret)
    if (typeof secret !== "string" || secret === "" || hasLoneSurrogate(secret)) {
      // A lone surrogate has no UTF-8 form, so runtimes disagree on its md5: no real secret holds one.
      return yield* Either.left(invalid("serverSecret", "must be a non-empty string of well-formed text"))
    }
    if (options.isTest !== undefined && typeof options.isTest !== "boolean") {
      return yield* Either.left(invalid("isTest", "must be true, false or unset"))
    }
    const retry = options.retry ?? defaultRetrySchedule
    if (!Schedule.isSchedule(retry)) {
      return yield* Either.left(invalid("retry", "must be a Schedule"))
    }
    const transformClient = options.transformClient
    if (transformClient !== undefined && typeof transformClient !== "function") {
      return yield* Either.left(invalid("transformClient", "must be a function"))
    }
    const appId = yield* Schema.decodeUnknownEither(AppId)(options.appId).pipe(
      Either.mapLeft((e) => invalid("appId", formatIssue(e).detail))
    )
    const region = yield* Schema.decodeUnknownEither(Region)(options.region ?? "unified").pipe(
      Either.mapLeft((e) => invalid("region", formatIssue(e).detail))
    )
    const baseUrl = yield* validateBaseUrl(options.baseUrl ?? regionBaseUrl(region))
    const timeout = yield* boundedDuration("timeout", options.timeout ?? "5 seconds")
    const rateLimitOption = options.rateLimit
    let rateLimit: RateLimit.RateLimit | false | undefined = rateLimitOption === undefined ? undefined : false
    if (rateLimitOption !== false && rateLimitOption !== undefined) {
      if (typeof rateLimitOption !== "object" || rateLimitOption === null) {
        return yield* Either.left(invalid("rateLimit", "must be { limit, window } or false"))
      }
      const limit = rateLimitOption.limit
      if (!Number.isSafeInteger(limit) || limit < 1) {
        return yield* Either.left(invalid("rateLimit.limit", "must be a positive integer"))
      }
      rateLimit = { limit, window: yield* boundedDuration("rateLimit.window", rateLimitOption.window) }
    }
    const maxResponseBytes = options.maxResponseBytes ?? 256 * 1024
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1) {
      return yield* Either.left(invalid("maxResponseBytes", "must be a positive integer"))
    }
    return {
      appId,
      serverSecret: options.serverSecret,
      baseUrl,
      isTest: options.isTest,
      timeout,
      rateLimit,
      maxResponseBytes,
      retry: retry as Schedule.Schedule<unknown, DispatchError>,
      transformClient
    }
  })

/** What one HTTP exchange gave: the envelope, the HTTP status and the server's clock from `Date`. */
interface Exchange {
  readonly envelope: Envelope
  readonly status: number
  readonly serverTimeMillis: number | undefined
}

/** The built-in tracer, whose spans go nowhere: under it a call makes no span at all. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)
/** The live clock: the time limit of an attempt is a timer only under it (under `TestClock`, it follows that clock). */
const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

/**
 * An action, declared as data: what the engine needs to call it and to read its answer.
 *
 * `I` is the decoded request, `A` what a call succeeds with, `E` the errors its answer can amount to beyond the
 * code table (a decode error, an empty answer, …).
 */
export interface Declaration<I, A, E extends ZegoError> {
  readonly action: Action
  /** The span's name, e.g. `RtmpDispatch.RTMPDispatchV2`. */
  readonly spanName: string
  /** The request's schema: what a caller may pass (decoded with excess properties refused). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly parameters: Schema.Schema<I, any>
  /** The schema of a successful answer's `Data` (a declaration may read it faster in `answer`, to the same result). */
  readonly data: Schema.Schema.AnyNoContext
  /** The stream id of a request (before the test prefix); `undefined` for an action without a `StreamId`. */
  readonly streamId: ((request: I) => string) | undefined
  /**
   * The value of the row's `perKey` parameter in a request (the `RoomId` of `DescribeSimpleStreamList`): what its
   * second budget is keyed by. Required when the action's row has a `perKey`.
   */
  readonly perKeyValue?: ((request: I) => string) | undefined
  /**
   * Whether the action takes a `Sequence`, and the caller's, if any. Each attempt sends its own: without the caller's,
   * drawn from the process's strictly increasing millisecond counter (`internal/sequence.ts`); with it, the caller's
   * and then the numbers just above it (`Sequence.ofAttempt`).
   */
  readonly sequence: false | ((request: I) => SequenceNumber | undefined)
  /** The rest of the query after `Action`, `StreamId` and `Sequence`, each value escaped: `&Type=push`. */
  readonly query: (request: I) => string
  /** Extra span attributes of a request. */
  readonly annotate?: ((span: Tracer.Span, request: I) => void) | undefined
  /** What the envelope of a successful code gives (`streamId` as sent; `""` for an action without one). */
  readonly answer: (envelope: Envelope, request: I, streamId: string) => Either.Either<A, E>
}

/** A `ResponseDecodeError` for `Data` that did not decode. */
export const dataError = (action: Action, envelope: Envelope, detail: string): ResponseDecodeError =>
  new ResponseDecodeError({ action, status: 200, requestId: envelope.RequestId, detail })

/** Decodes `Data` with a schema: a value that does not fit is a `ResponseDecodeError`, never a defect. */
export const decodeData = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (action: Action, envelope: Envelope): Either.Either<A, ResponseDecodeError> => {
    let decoded: Either.Either<A, ParseResult.ParseError>
    try {
      decoded = decode(envelope.Data)
    } catch {
      return Either.left(dataError(action, envelope, "Data: could not be read"))
    }
    return Either.mapLeft(decoded, (error) => dataError(action, envelope, `Data: ${formatIssue(error).detail}`))
  }
}

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
    const direct = valid.transformClient === undefined ? DirectExchange.get(given) : undefined
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
        detail: parts.filter(Boolean).join(": ").replace(SIGNATURE_PARAM, "$1<redacted>"),
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

    /**
     * Counts an attempt's outcome (its return code, `transport` or `decode`; nothing when it was interrupted) and
     * records its latency, under the fiber's metric labels.
     */
    const record = (
      action: Action,
      answers: ReadonlyArray<number>,
      labels: ReadonlyArray<MetricLabel.MetricLabel>,
      latencyMillis: number,
      outcome: Either.Either<Exchange, TransportError | ResponseDecodeError> | undefined
    ): void => {
      if (outcome !== undefined) {
        responseCounter(
          action,
          Either.isRight(outcome)
            ? outcome.right.envelope.Code
            : outcome.left._tag === "TransportError"
            ? "transport"
            : "decode",
          answers
        ).unsafeUpdate(1, labels)
      }
      latencyByAction[action].unsafeUpdate(latencyMillis, labels)
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
        const signed = Signature.publicParamsAt({ appId, serverSecret, clockOffsetMillis: clockOffset }, started)
        const query = `${callQuery}&AppId=${signed.AppId}&SignatureNonce=${signed.SignatureNonce}` +
          `&Timestamp=${signed.Timestamp}&SignatureVersion=${signed.SignatureVersion}&Signature=${signed.Signature}`
        const { action, answers } = bound
        const measured = direct !== undefined && clock === liveClock
          ? viaDirect(direct, action, answers, query, clock, labels, started)
          : Effect.onExit(
            direct === undefined ? viaExecute(action, query) : viaDirectTimed(direct, action, query),
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
            Effect.annotateLogs("url", `${baseUrl}/?${query}`.replace(SIGNATURE_PARAM, "$1<redacted>"))
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

    /** A call, its span already made (or none, under the built-in tracer). */
    const run = <I, A, E extends ZegoError>(
      declaration: Declaration<I, A, E>,
      bound: Bound,
      decodeRequest: (request: unknown) => Either.Either<I, InvalidRequestError>,
      request: unknown,
      callOptions: CallOptions<E | CommonError> | undefined,
      clock: Clock.Clock,
      span: Tracer.Span | undefined
    ): Effect.Effect<A, E | CommonError> => {
      const action = declaration.action
      const refuse = (error: E | CommonError) => {
        if (span !== undefined) annotateFailure(span, error)
        return Effect.fail(error)
      }
      const decoded = decodeRequest(request)
      if (Either.isLeft(decoded)) return refuse(decoded.left)
      const retryRead = readInput("retry", () => Either.right(callOptions?.retry ?? defaultRetry))
      if (Either.isLeft(retryRead)) return refuse(retryRead.left)
      const retry = retryRead.right
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
      const attempt = Effect.suspend(() => {
        attempts++
        if (span !== undefined) span.attribute("zego.attempts", attempts)
        const callQuery = queryOf(attempts)
        return Effect.flatMap(exchange(bound, callQuery, keyValue, clock), (first) => {
          if (first.envelope.Code !== SIGNATURE_EXPIRED || first.serverTimeMillis === undefined) {
            return failOnCode(action, bound.answers, first.envelope)
          }
          return Effect.flatMap(
            correctClock(bound, callQuery, keyValue, clock, first, first.serverTimeMillis),
            (exchanged) => failOnCode(action, bound.answers, exchanged.envelope)
          )
        })
      })
      const succeeded = (envelope: Envelope): Effect.Effect<A, E | CommonError> => {
        const answered = declaration.answer(envelope, input, streamId)
        if (Either.isLeft(answered)) return refuse(answered.left)
        if (span !== undefined) {
          span.attribute("zego.code", envelope.Code)
          span.attribute("zego.request_id", envelope.RequestId)
        }
        return Effect.succeed(answered.right)
      }
      // The retry machinery is entered only after a first failure worth retrying.
      return Effect.matchEffect(attempt, {
        onFailure: (error) =>
          isRetryable(error)
            ? Effect.matchEffect(retryAfter(attempt, retry, error), { onFailure: refuse, onSuccess: succeeded })
            : refuse(error),
        onSuccess: succeeded
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
          const decodeRequest = (request: unknown) =>
            readInput("request", () => Either.mapLeft(decodeSchema(request), invalidInput))
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
              if (Context.get(services, Tracer.Tracer) === nativeTracer) {
                return run(declaration, bound, decodeRequest, request, callOptions, clock, undefined)
              }
              return Effect.useSpan(
                declaration.spanName,
                spanOptions,
                (span) =>
                  Effect.withParentSpan(
                    run(declaration, bound, decodeRequest, request, callOptions, clock, span),
                    span
                  )
              )
            })
        }
      )

    const streamIdAsSent = (streamId: string) => streamId.startsWith(prefix) ? streamId : prefix + streamId
    return { appId, baseUrl, streamIdAsSent, bind }
  })

/** Reads a body as the envelope; without one, an HTTP error status is a transport error, anything else a decode error. */
const interpretBody = (
  action: Action,
  status: number,
  date: string | undefined,
  text: string
): Either.Either<Exchange, TransportError | ResponseDecodeError> => {
  const decoded = readEnvelope(text)
  if (Either.isRight(decoded)) {
    // Only a well-formed HTTP date: `Date.parse` also reads "0" as the year 2000, and much else.
    const serverTime = date === undefined || !HTTP_DATE.test(date) ? NaN : Date.parse(date)
    return Either.right({
      envelope: decoded.right,
      status,
      serverTimeMillis: Number.isNaN(serverTime) ? undefined : serverTime
    })
  }
  if (status >= 400) {
    return Either.left(
      new TransportError({
        action,
        reason: "HttpStatus",
        status,
        detail: `HTTP ${status} without a ZEGOCLOUD envelope`,
        retryable: status >= 500 || status === 408 || status === 429
      })
    )
  }
  return Either.left(
    new ResponseDecodeError({
      action,
      status,
      detail: `the body is not the ZEGOCLOUD envelope: ${formatIssue(decoded.left).detail}`
    })
  )
}

const failOnCode = (
  action: Action,
  answers: ReadonlyArray<number>,
  envelope: Envelope
): Either.Either<Envelope, CommonError> =>
  envelope.Code === 0 || (answers.length !== 0 && answers.includes(envelope.Code))
    ? Either.right(envelope)
    // Typed as the global table's: a declaration's error type names the classes of its action's own codes.
    : Either.left(
      fromCode({
        code: envelope.Code,
        serverMessage: envelope.Message,
        requestId: envelope.RequestId,
        action
      }) as CommonServerError
    )

/**
 * A variable holding a non-negative integer written in decimal digits only (`Config.integer` would also take
 * `0x10`, `1e3`, ` 12` and, for an empty variable, 0). An empty variable is an error that says it is empty; an
 * unset one is the usual missing-data error, so `Config.option` and `Config.withDefault` still apply.
 */
export const decimalConfig = (name: string): Config.Config<number> =>
  Config.string(name).pipe(
    Config.mapOrFail((text) =>
      text === ""
        ? Either.left(ConfigError.InvalidData([], "is set but empty: unset it or give a number"))
        : /^[0-9]{1,15}$/.test(text)
        ? Either.right(Number(text))
        : Either.left(
          ConfigError.InvalidData(
            [],
            `Expected decimal digits only (0-9, at most 15), got ${Untrusted.excerpt(text, 40)}`
          )
        )
    )
  )

/** `ZEGO_RATE_LIMIT`: calls per window (a positive integer in decimal digits), or `off`; unset: the default 40. */
const rateLimitConfig: Config.Config<number | false | undefined> = Config.string("ZEGO_RATE_LIMIT").pipe(
  Config.mapOrFail((text): Either.Either<number | false, ConfigError.ConfigError> => {
    if (text.trim().toLowerCase() === "off") return Either.right(false)
    const limit = /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN
    return limit > 0
      ? Either.right(limit)
      : Either.left(ConfigError.InvalidData([], "Expected a positive integer or off, in decimal digits"))
  }),
  Config.option,
  Config.map(Option.getOrUndefined)
)

/**
 * The `rateLimit` option read from `ZEGO_RATE_LIMIT` (a positive integer, or `off`) and `ZEGO_RATE_LIMIT_WINDOW` (a
 * duration): `undefined` (each action's own limit) when neither is set; either one alone keeps the default of the
 * other.
 */
export const rateLimitFromEnv: Config.Config<RateLimit.RateLimit | false | undefined> = Config.all({
  limit: rateLimitConfig,
  window: Config.option(Config.duration("ZEGO_RATE_LIMIT_WINDOW"))
}).pipe(
  Config.map(({ limit, window }) =>
    limit === false ? false : limit === undefined && Option.isNone(window) ? undefined : {
      limit: limit ?? RateLimit.defaultRateLimit.limit,
      window: Option.getOrElse(window, () => RateLimit.defaultRateLimit.window)
    }
  )
)

/**
 * The options read from `ZEGO_APP_ID`, `ZEGO_SERVER_SECRET`, `ZEGO_REGION`, `ZEGO_BASE_URL`, `ZEGO_IS_TEST`,
 * `ZEGO_RATE_LIMIT` and `ZEGO_RATE_LIMIT_WINDOW`.
 */
export const configFromEnv: Config.Config<Options> = Config.all({
  appId: decimalConfig("ZEGO_APP_ID"),
  serverSecret: Config.redacted("ZEGO_SERVER_SECRET"),
  region: Config.literal("unified", "sha", "hkg", "fra", "lax", "bom", "sgp")("ZEGO_REGION").pipe(
    Config.withDefault("unified" as const)
  ),
  baseUrl: Config.option(Config.string("ZEGO_BASE_URL")),
  isTest: Config.option(Config.boolean("ZEGO_IS_TEST")),
  rateLimit: rateLimitFromEnv
}).pipe(
  Config.map(({ baseUrl, isTest, ...rest }): Options => ({
    ...rest,
    baseUrl: Option.getOrUndefined(baseUrl),
    isTest: Option.getOrUndefined(isTest)
  }))
)

/**
 * A service's `layer` and `layerConfig` from its `make`: what a service costs is a declaration and a `make`, not a
 * copy of the options.
 */
export const layers = <I, S, O extends Options>(
  tag: Context.Tag<I, S>,
  make: (options: O) => Effect.Effect<S, InvalidRequestError, HttpClient.HttpClient>,
  defaultConfig: Config.Config<O>
) => ({
  /** The service as a layer; it needs an `HttpClient`. */
  layer: (options: O): Layer.Layer<I, InvalidRequestError, HttpClient.HttpClient> => Layer.effect(tag, make(options)),
  /** The service as a layer, its options read through Effect `Config` (by default from the environment). */
  layerConfig: (
    config: Config.Config.Wrap<O> = defaultConfig as Config.Config.Wrap<O>
  ): Layer.Layer<I, ConfigError.ConfigError | InvalidRequestError, HttpClient.HttpClient> =>
    Layer.effect(tag, Effect.flatMap(Config.unwrap(config), make))
})
