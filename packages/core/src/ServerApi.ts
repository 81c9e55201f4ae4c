/**
 * What every ZEGOCLOUD server API service shares, as a caller meets it: the {@link Options} of each service's `make`
 * and `layer`, the per-call {@link CallOptions}, the options read from the environment ({@link configFromEnv} and
 * its parts), the limits an option is checked against ({@link MAX_DURATION}, {@link boundedDuration}), the default
 * retry schedule, and the {@link Declaration} an action is: data the engine runs, not a copy of its machinery.
 *
 * `RtmpDispatch` re-exports the values, as it always has; each service's `Options` is this module's.
 *
 * @example
 * ```ts
 * import { ServerApi, StreamControl, StreamState } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 *
 * // The environment read once, for two services.
 * const ServicesLive = Layer.unwrapEffect(
 *   Effect.map(ServerApi.configFromEnv, (options) => Layer.merge(StreamState.layer(options), StreamControl.layer(options)))
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type * as Tracer from "effect/Tracer"
import type { Envelope } from "./Envelope.js"
import type { Action, Region } from "./Params.js"
import type { Sequence as SequenceNumber } from "./Params.js"
import * as RateLimit from "./RateLimit.js"
import * as Untrusted from "./Untrusted.js"
import { InvalidRequestError } from "./ZegoError.js"
import type { ZegoError } from "./ZegoError.js"

const invalid = (parameter: string, detail: string) => new InvalidRequestError({ parameter, detail })

/**
 * Per-call options of a service's methods: a retry schedule for this call only.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions<E = ZegoError> {
  /** Overrides the layer's retry schedule for this call (`Schedule.stop` for no retry). */
  readonly retry?: Schedule.Schedule<unknown, E> | undefined
}

/**
 * The options of every service's `make` and `layer`: the AppId and its secret, where calls go, the test environment,
 * the retry schedule, the time limit of an attempt, the rate limit, the body cap and a last change to the client.
 *
 * @since 0.1.0
 * @category models
 */
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
  readonly retry?: Schedule.Schedule<unknown, ZegoError> | undefined
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
/**
 * Exponential back-off from 200 ms with jitter, each delay capped at 2 s, at most 3 retries.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRetrySchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("200 millis").pipe(
  Schedule.jittered,
  Schedule.union(Schedule.spaced("2 seconds")),
  Schedule.intersect(Schedule.recurs(3))
)
/**
 * The largest clock offset adopted from a server's `Date`: ZEGOCLOUD tolerates 10 minutes of skew, and a machine
 * off by more than a day has a clock to fix, not to correct for. Past it, the `Date` is not believed.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_CLOCK_OFFSET = Duration.hours(24)

/**
 * The longest per-attempt `timeout` and rate-limit `window` accepted (timers overflow past about 24.8 days).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_DURATION = Duration.hours(1)

const isLoopback = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname)
/**
 * Checks a base URL: https, or http on a loopback host; no query, fragment or credentials. Returns it without a
 * trailing `/`.
 *
 * @example
 * ```ts
 * import { ServerApi } from "@effect-zego/core"
 * import * as Either from "effect/Either"
 *
 * console.log(Either.getOrNull(ServerApi.validateBaseUrl("http://127.0.0.1:8080/")))
 * // Output: http://127.0.0.1:8080
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
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

/**
 * Checks a duration option as the services check theirs: a `DurationInput` that decodes, positive and at most
 * {@link MAX_DURATION}; otherwise an `InvalidRequestError` naming the parameter (never a defect).
 *
 * @example
 * ```ts
 * import { ServerApi } from "@effect-zego/core"
 * import * as Either from "effect/Either"
 *
 * console.log(Either.isRight(ServerApi.boundedDuration("timeout", "500 millis")))
 * // Output: true
 * console.log(Either.isLeft(ServerApi.boundedDuration("timeout", "2 hours")))
 * // Output: true
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
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
/**
 * An action, declared as data: what the engine needs to call it and to read its answer.
 *
 * `I` is the decoded request, `A` what a call succeeds with, `E` the errors its answer can amount to beyond the
 * code table (a decode error, an empty answer, …).
 *
 * @since 0.1.0
 * @category models
 */
export interface Declaration<I, A, E extends ZegoError> {
  readonly action: Action
  /** The span's name, e.g. `RtmpDispatch.RTMPDispatchV2`. */
  readonly spanName: string
  /** The request's schema: what a caller may pass (decoded with excess properties refused). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly parameters: Schema.Schema<I, any>
  /**
   * A faster read of a request in its usual shape, giving what `parameters` decodes it to; `undefined` for anything
   * else, which `parameters` then decodes (with its exact error). It must not accept what the schema refuses.
   */
  readonly readParameters?: ((request: unknown) => I | undefined) | undefined
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
/**
 * A variable holding a non-negative integer written in decimal digits only (`Config.integer` would also take
 * `0x10`, `1e3`, ` 12` and, for an empty variable, 0). An empty variable is an error that says it is empty; an
 * unset one is the usual missing-data error, so `Config.option` and `Config.withDefault` still apply.
 *
 * @example
 * ```ts
 * import { ServerApi } from "@effect-zego/core"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 *
 * const port = ServerApi.decimalConfig("PORT").pipe(
 *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["PORT", "8080"]])))
 * )
 * Effect.runPromise(port).then(console.log)
 * // Output: 8080
 * ```
 *
 * @since 0.1.0
 * @category config
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
 *
 * @example
 * ```ts
 * import { ServerApi } from "@effect-zego/core"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 *
 * const rateLimit = ServerApi.rateLimitFromEnv.pipe(
 *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["ZEGO_RATE_LIMIT", "off"]])))
 * )
 * Effect.runPromise(rateLimit).then(console.log)
 * // Output: false
 * ```
 *
 * @since 0.1.0
 * @category config
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
 * `ZEGO_RATE_LIMIT` and `ZEGO_RATE_LIMIT_WINDOW`: every service's `layerConfig()` default.
 *
 * @example
 * ```ts
 * import { ServerApi } from "@effect-zego/core"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 *
 * const options = ServerApi.configFromEnv.pipe(
 *   Effect.withConfigProvider(
 *     ConfigProvider.fromMap(new Map([["ZEGO_APP_ID", "1234567890"], ["ZEGO_SERVER_SECRET", "secret"]]))
 *   )
 * )
 * Effect.runPromise(options).then((o) => console.log(o.appId, o.region))
 * // Output: 1234567890 unified
 * ```
 *
 * @since 0.1.0
 * @category config
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
