/**
 * The options of every server API service, checked once when a service is made: what a caller passed, read even when
 * it fights back, each invalid value an `InvalidRequestError` naming its option.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { AppId, hasLoneSurrogate, Region, regionBaseUrl } from "../Params.js"
import type * as RateLimit from "../RateLimit.js"
import { boundedDuration, defaultRetrySchedule, validateBaseUrl } from "../ServerApi.js"
import type { Options } from "../ServerApi.js"
import * as Untrusted from "../Untrusted.js"
import { InvalidRequestError } from "../ZegoError.js"
import type { ZegoError } from "../ZegoError.js"

/** Every error the engine deals in. */
type DispatchError = ZegoError

export const invalid = (parameter: string, detail: string) => new InvalidRequestError({ parameter, detail })

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

export interface ValidOptions {
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

export const validateOptions = (options: Options): Either.Either<ValidOptions, InvalidRequestError> =>
  readInput("options", () => validateOptionsUnsafe(options))
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
