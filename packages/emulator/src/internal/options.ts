/**
 * Options given in code, validated as a config file is: each duration decoded first (a `DurationInput`, which JSON
 * cannot carry), then the whole through `EmulatorConfig.OptionsSchema`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { OptionsSchema } from "../EmulatorConfig.js"
import type { Options } from "../EmulatorConfig.js"
import * as EmulatorError from "../EmulatorError.js"
import * as Bounded from "./bounded.js"

/** The options once valid: every duration decoded. */
export type ValidOptions = typeof OptionsSchema.Type

export const validate = (options: Options): Either.Either<ValidOptions, EmulatorError.InvalidOptionsError> => {
  const invalid = (detail: string) => Either.left(new EmulatorError.InvalidOptionsError({ detail }))
  let rateLimit: unknown = options.rateLimit
  if (options.rateLimit !== undefined && options.rateLimit !== false) {
    const window = Duration.decodeUnknown(options.rateLimit.window)
    if (window._tag === "None") return invalid("rateLimit.window: not a duration")
    rateLimit = { ...options.rateLimit, window: window.value }
  }
  let publishWindow: unknown = options.publishWindow
  if (options.publishWindow !== undefined) {
    const window = Duration.decodeUnknown(options.publishWindow)
    if (window._tag === "None") return invalid("publishWindow: not a duration")
    publishWindow = window.value
  }
  let streamHistory: unknown = options.streamHistory
  if (options.streamHistory !== undefined) {
    const window = Duration.decodeUnknown(options.streamHistory)
    if (window._tag === "None") return invalid("streamHistory: not a duration")
    streamHistory = window.value
  }
  let callbackTimeout: unknown = options.callbackTimeout
  if (options.callbackTimeout !== undefined) {
    const timeout = Duration.decodeUnknown(options.callbackTimeout)
    if (timeout._tag === "None") return invalid("callbackTimeout: not a duration")
    callbackTimeout = timeout.value
  }
  return Schema.validateEither(OptionsSchema, { errors: "all", onExcessProperty: "ignore" })({
    ...options,
    rateLimit,
    publishWindow,
    streamHistory,
    callbackTimeout
  }).pipe(Either.mapLeft((error) => new EmulatorError.InvalidOptionsError({ detail: Bounded.formatIssues(error) })))
}
