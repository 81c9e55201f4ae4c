/**
 * The errors of receiving a ZEGOCLOUD server callback, one per answer a receiver gives: `CallbackDecodeError` 400,
 * `CallbackSignatureError` and `CallbackExpiredError` 401, `CallbackUnavailableError` 503 (ZEGOCLOUD retries: the
 * nonce store is full or down, or an earlier delivery of the callback is still being applied), and
 * `CallbackReplayError` a 2xx (an earlier delivery was applied and committed). None carries the secret, the
 * signature or the body: only what the receiver decided and why.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The `signature` is missing or does not match the callback secret, `timestamp` and `nonce`. Answer 401.
 *
 * @since 0.1.0
 * @category errors
 */
export class CallbackSignatureError extends Schema.TaggedError<CallbackSignatureError>()("CallbackSignatureError", {
  reason: Schema.Literal("missing", "mismatch")
}) {
  override get message() {
    return this.reason === "missing"
      ? "CallbackSignatureError: the callback carries no signature, timestamp or nonce."
      : "CallbackSignatureError: the callback's signature does not match the callback secret: check the secret."
  }
}

/**
 * The callback's `timestamp` lies outside the freshness window (past or future). Answer 401.
 *
 * @since 0.1.0
 * @category errors
 */
export class CallbackExpiredError extends Schema.TaggedError<CallbackExpiredError>()("CallbackExpiredError", {
  /** The callback's `timestamp`, Unix seconds. */
  timestamp: Schema.Number,
  /** The receiver's clock when it checked, Unix seconds. */
  now: Schema.Number,
  /** The window, seconds either side of `now`. */
  windowSeconds: Schema.Number
}) {
  override get message() {
    return `CallbackExpiredError: the callback's timestamp ${this.timestamp} is more than ${this.windowSeconds} s ` +
      `from this receiver's clock (${this.now}).`
  }
}

/**
 * The callback's `nonce` was committed within the window: a replay (or a retry) of an event already applied.
 *
 * @since 0.1.0
 * @category errors
 */
export class CallbackReplayError extends Schema.TaggedError<CallbackReplayError>()("CallbackReplayError", {}) {
  override get message() {
    return "CallbackReplayError: this callback's nonce was already received within the freshness window."
  }
}

/**
 * The body is not a callback: not JSON or a form, too large or deep, or a field missing or malformed. Answer 400.
 *
 * @since 0.1.0
 * @category errors
 */
export class CallbackDecodeError extends Schema.TaggedError<CallbackDecodeError>()("CallbackDecodeError", {
  /** What is wrong, in our words (never the body's text). */
  reason: Schema.String
}) {
  override get message() {
    return `CallbackDecodeError: ${this.reason}`
  }
}

/**
 * The nonce store is full of unexpired nonces or unreachable, or an earlier delivery of the callback is still being
 * applied: refuse for now so that ZEGOCLOUD retries. 503.
 *
 * @since 0.1.0
 * @category errors
 */
export class CallbackUnavailableError
  extends Schema.TaggedError<CallbackUnavailableError>()("CallbackUnavailableError", {
    reason: Schema.String
  })
{
  override get message() {
    return `CallbackUnavailableError: ${this.reason}; ZEGOCLOUD will retry.`
  }
}

/**
 * Every error of receiving a callback.
 *
 * @example
 * ```ts
 * import type { CallbackError } from "@effect-zego/core"
 *
 * const httpStatus = (error: CallbackError.CallbackError): number => {
 *   switch (error._tag) {
 *     case "CallbackDecodeError":
 *       return 400
 *     case "CallbackSignatureError":
 *     case "CallbackExpiredError":
 *       return 401
 *     case "CallbackReplayError":
 *       return 200
 *     case "CallbackUnavailableError":
 *       return 503
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type CallbackError =
  | CallbackSignatureError
  | CallbackExpiredError
  | CallbackReplayError
  | CallbackDecodeError
  | CallbackUnavailableError

/**
 * What verifying can fail with (beyond invalid options).
 *
 * @since 0.1.0
 * @category errors
 */
export type VerifyError = CallbackSignatureError | CallbackExpiredError | CallbackReplayError | CallbackUnavailableError
