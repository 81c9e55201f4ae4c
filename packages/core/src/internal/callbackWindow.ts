/**
 * The freshness window's default and its check, shared by the callback receiver and the in-memory nonce store
 * (which holds each nonce for the window).
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import { boundedDuration } from "../ServerApi.js"
import type { InvalidRequestError } from "../ZegoError.js"

/** The default freshness window (public as `CallbackReceiver.DEFAULT_WINDOW`). */
export const DEFAULT_WINDOW = Duration.minutes(5)

/** The window in milliseconds; `InvalidRequestError` when it is not positive or longer than an hour. */
export const validateWindow = (input: Duration.DurationInput | undefined): Either.Either<number, InvalidRequestError> =>
  Either.map(boundedDuration("window", input ?? DEFAULT_WINDOW), Duration.toMillis)
