/**
 * The errors of the ZEGOCLOUD server API calls: one tagged class per ZEGOCLOUD return-code family, plus the failures that
 * happen before or around the server (invalid input, transport, undecodable response).
 *
 * The tags are public API: handle them with `Effect.catchTag("RateLimitedError", …)`.
 *
 * @since 0.1.0
 */
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Actions from "./Actions.js"
import { Action } from "./Params.js"
import { describeParseError, quote } from "./Untrusted.js"

/** What every error that carries a ZEGOCLOUD return code keeps. */
const serverFields = {
  /** The ZEGOCLOUD return code. */
  code: Schema.Int,
  /** The server's `Message`. */
  serverMessage: Schema.String,
  /** The server's `RequestId`: quote it to ZEGOCLOUD support. */
  requestId: Schema.String,
  action: Action,
  /** Whether the default retry policy tries the call again. */
  retryable: Schema.Boolean
}

interface ServerFields {
  readonly _tag: string
  readonly code: number
  readonly serverMessage: string
  readonly requestId: string
  readonly action: Action
}

// A server's string is quoted in a message as one line of at most so many characters (the field keeps it whole).
const describe = (error: ServerFields, hint: string): string =>
  `${error._tag}: ZEGO code ${error.code} (${quote(error.serverMessage, 200) || "no message"}) from ` +
  `${error.action}, RequestId ${quote(error.requestId, 100) || "none"}. ${hint}`

/**
 * 1010, 30002, 5007: called too often. Retried with back-off.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitedError extends Schema.TaggedError<RateLimitedError>()("RateLimitedError", serverFields) {
  override get message() {
    const perKey = Actions.row(this.action).perKey
    const perValue = perKey === undefined
      ? ""
      : `, and ${perKey.limit} per ${perKey.windowSeconds} seconds per ${perKey.parameter}`
    return describe(this, `Slow down: the limit is ${Actions.rateHint(this.action)} per second per AppId${perValue}.`)
  }
}

/**
 * 1001: dispatch failed. Retried a few times.
 *
 * @since 0.1.0
 * @category errors
 */
export class DispatchFailedError
  extends Schema.TaggedError<DispatchFailedError>()("DispatchFailedError", serverFields)
{
  override get message() {
    return describe(this, "Retry later; if it persists, contact ZEGOCLOUD support with the RequestId.")
  }
}

/**
 * 1002 (or an empty answer to a push): no publish node.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoPublishNodeError extends Schema.TaggedError<NoPublishNodeError>()("NoPublishNodeError", serverFields) {
  override get message() {
    return describe(this, "No publish node is available: contact ZEGOCLOUD support with the RequestId.")
  }
}

/**
 * 1003 (or an empty answer to a pull): no pull node.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoPullNodeError extends Schema.TaggedError<NoPullNodeError>()("NoPullNodeError", serverFields) {
  override get message() {
    return describe(this, "No pull node is available: contact ZEGOCLOUD support with the RequestId.")
  }
}

/**
 * 1005: the app is not online.
 *
 * @since 0.1.0
 * @category errors
 */
export class AppNotOnlineError extends Schema.TaggedError<AppNotOnlineError>()("AppNotOnlineError", serverFields) {
  override get message() {
    return describe(this, "The app is not online for RTMP dispatch: ask ZEGOCLOUD support to enable it.")
  }
}

/**
 * 1006: the server found a parameter invalid.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidParameterError
  extends Schema.TaggedError<InvalidParameterError>()("InvalidParameterError", serverFields)
{
  override get message() {
    return describe(this, "Check the parameters; if they look right, contact ZEGOCLOUD support with the RequestId.")
  }
}

/**
 * 30003, 3001, 5000–5002, 5006: internal error on ZEGOCLOUD's side. Retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class ZegoInternalError extends Schema.TaggedError<ZegoInternalError>()("ZegoInternalError", serverFields) {
  override get message() {
    return describe(this, "A ZEGOCLOUD internal error: retry later, or contact support with the RequestId.")
  }
}

/**
 * 30004: wrong `IsTest`.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidIsTestError extends Schema.TaggedError<InvalidIsTestError>()("InvalidIsTestError", serverFields) {
  override get message() {
    return describe(this, "Check isTest (ZEGO_IS_TEST): it must match the app's environment.")
  }
}

/**
 * 30005: the AppId is not valid for this service.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidAppIdError extends Schema.TaggedError<InvalidAppIdError>()("InvalidAppIdError", serverFields) {
  override get message() {
    return describe(this, "Check the AppId (ZEGO_APP_ID).")
  }
}

/**
 * 30009: the server refused the stream id (in the test environment: the `zegotest-<AppId>-` prefix).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidStreamIdError
  extends Schema.TaggedError<InvalidStreamIdError>()("InvalidStreamIdError", serverFields)
{
  override get message() {
    return describe(this, "Check the StreamId: 1-256 of A-Z a-z 0-9 - _, prefixed zegotest-<AppId>- in test.")
  }
}

/**
 * 30010: the server refused the dispatch type.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidDispatchTypeError
  extends Schema.TaggedError<InvalidDispatchTypeError>()("InvalidDispatchTypeError", serverFields)
{
  override get message() {
    return describe(this, "Check the Type: push or pull.")
  }
}

/**
 * 30011: the server refused the client IP.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidClientIpError
  extends Schema.TaggedError<InvalidClientIpError>()("InvalidClientIpError", serverFields)
{
  override get message() {
    return describe(this, "Check the ClientIP: an IPv4 dotted quad.")
  }
}

/**
 * 100000004: the signature expired, usually because this machine's clock is off.
 *
 * @since 0.1.0
 * @category errors
 */
export class SignatureExpiredError
  extends Schema.TaggedError<SignatureExpiredError>()("SignatureExpiredError", serverFields)
{
  override get message() {
    return describe(this, "This machine's clock is more than 10 minutes off: synchronise it (NTP).")
  }
}

/**
 * 100000005: the signature is wrong, usually a wrong server secret.
 *
 * @since 0.1.0
 * @category errors
 */
export class SignatureInvalidError
  extends Schema.TaggedError<SignatureInvalidError>()("SignatureInvalidError", serverFields)
{
  override get message() {
    return describe(this, "Check the server secret (ZEGO_SERVER_SECRET) and the AppId.")
  }
}

/**
 * Any other gateway code (1000000xx): host, AppId format, missing parameters, app config, service.
 *
 * @since 0.1.0
 * @category errors
 */
export class GatewayError extends Schema.TaggedError<GatewayError>()("GatewayError", serverFields) {
  override get message() {
    return describe(this, gatewayHints[this.code] ?? "See the ZEGOCLOUD gateway return codes.")
  }
}

// From ZEGOCLOUD's global return codes page.
const gatewayHints: Record<number, string> = {
  100000000: "The Host header is wrong: check the API host (region or base URL).",
  100000001: "Check the AppId format.",
  100000002: "The Timestamp parameter is missing.",
  100000003: "The Timestamp must be Unix seconds.",
  100000006: "The Action parameter is missing.",
  100000007: "The Action is not supported.",
  100000008: "The SignatureNonce parameter is missing.",
  100000009: "The Signature parameter is missing.",
  100000010: "The AppId's server secret was not found: check the AppId.",
  100000011: "The app's configuration was not found: check the AppId, or ask ZEGOCLOUD support.",
  100000013: "The SignatureVersion parameter is missing.",
  100000014: "Only SignatureVersion 2.0 is supported.",
  100000015: "A gateway internal error: retry later, or ask ZEGOCLOUD support.",
  100000016: "The app has no production environment: set isTest (ZEGO_IS_TEST=true) or enable production.",
  100000017: "The service is not enabled for this app: ask ZEGOCLOUD support."
}

/**
 * 3003, 40005: authentication failed, or the app has no token configured for the server API.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError
  extends Schema.TaggedError<AuthenticationError>()("AuthenticationError", serverFields)
{
  override get message() {
    return describe(this, "Check the AppId and server secret, and that the app is configured for the server API.")
  }
}

/**
 * 41004 (`DescribeRTCStreamState`): no stream with this id is known.
 *
 * @since 0.1.0
 * @category errors
 */
export class StreamNotFoundError
  extends Schema.TaggedError<StreamNotFoundError>()("StreamNotFoundError", serverFields)
{
  override get message() {
    return describe(this, "No such stream: check the StreamId (with its zegotest-<AppId>- prefix in test).")
  }
}

/**
 * 138 (`DeleteStream`): the stream's information does not exist in the room.
 *
 * @since 0.1.0
 * @category errors
 */
export class StreamInfoNotFoundError
  extends Schema.TaggedError<StreamInfoNotFoundError>()("StreamInfoNotFoundError", serverFields)
{
  override get message() {
    return describe(this, "The stream is not announced in this room (already withdrawn, or another RoomId).")
  }
}

/**
 * 104, 5024, 50001 (`AddStream`, `DeleteStream`): the room does not exist. `AddStream` cannot create one: a room
 * exists while an SDK user is in it.
 *
 * @since 0.1.0
 * @category errors
 */
export class RoomNotFoundError extends Schema.TaggedError<RoomNotFoundError>()("RoomNotFoundError", serverFields) {
  override get message() {
    return describe(
      this,
      "The room must exist: AddStream cannot create one (a room lives while an SDK user is in it). On the local " +
        "emulator, use a demo room (lobby, match-room) or start it with --room ID."
    )
  }
}

/**
 * 1012 (`AddStream`, `DeleteStream`): several users operate one stream (withdrawing one another user announced, too).
 *
 * @since 0.1.0
 * @category errors
 */
export class StreamConflictError
  extends Schema.TaggedError<StreamConflictError>()("StreamConflictError", serverFields)
{
  override get message() {
    return describe(this, "Another user operates this stream: announce and withdraw it with one server UserId only.")
  }
}

/**
 * 123 (`AddStream`: setting the stream info failed), 124 (`DeleteStream`: deleting it failed). Retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class StreamUpdateFailedError
  extends Schema.TaggedError<StreamUpdateFailedError>()("StreamUpdateFailedError", serverFields)
{
  override get message() {
    return describe(this, "ZEGOCLOUD could not update the room's stream list: retry later.")
  }
}

/**
 * 154 (`DescribeSimpleStreamList`): the server failed to get the room's stream list. Retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class StreamListFailedError
  extends Schema.TaggedError<StreamListFailedError>()("StreamListFailedError", serverFields)
{
  override get message() {
    return describe(this, "ZEGOCLOUD could not read the room's stream list: retry later (one call per room per 10 s).")
  }
}

/**
 * 5004, 30001 (`CreatCDNTransferRule`, `DeleteCDNTransferRule`): the server refused the CDN address of a relay.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCdnUrlError extends Schema.TaggedError<InvalidCdnUrlError>()("InvalidCdnUrlError", serverFields) {
  override get message() {
    return describe(this, "Check the CDN URL: the whole rtmp:// ingest address, application and stream key included.")
  }
}

/**
 * Any code this library does not know: the code, message and request id are kept.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownCodeError extends Schema.TaggedError<UnknownCodeError>()("UnknownCodeError", serverFields) {
  override get message() {
    return describe(this, "An undocumented code: contact ZEGOCLOUD support with the RequestId.")
  }
}

/**
 * No usable response: the connection failed, the attempt timed out, or an HTTP error status came without an envelope.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  action: Action,
  reason: Schema.Literal("Connection", "Timeout", "HttpStatus"),
  /** The HTTP status, for `HttpStatus`. */
  status: Schema.optional(Schema.Int),
  detail: Schema.String,
  retryable: Schema.Boolean
}) {
  override get message() {
    return `TransportError (${this.reason}) calling ${this.action}: ${quote(this.detail, 400)}`
  }
}

/**
 * The body is not the ZEGOCLOUD envelope, or its `Data` is malformed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseDecodeError extends Schema.TaggedError<ResponseDecodeError>()("ResponseDecodeError", {
  action: Action,
  status: Schema.Int,
  /** The server's `RequestId`, when the envelope itself could be read. */
  requestId: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  override get message() {
    return `ResponseDecodeError from ${this.action} (HTTP ${this.status}${
      this.requestId ? `, RequestId ${quote(this.requestId, 100)}` : ""
    }): ${quote(this.detail, 400)}`
  }
}

/**
 * The caller's input failed validation; nothing was sent.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // Rejected before anything is sent: a stream id holds only letters, digits, `-` and `_`.
 * const program = Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "room 1", type: "push" })).pipe(
 *   Effect.catchTag("InvalidRequestError", (error) => Effect.succeed(error.parameter)),
 *   Effect.provide(ZegoMock.layerDispatch({ appId: 1234567890, serverSecret: Redacted.make("secret") }))
 * )
 * Effect.runPromise(program).then((parameter) => assert.strictEqual(parameter, "streamId"))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>()("InvalidRequestError", {
  /** Which input: a request field (`streamId`, …) or an option (`baseUrl`, …). */
  parameter: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `InvalidRequestError: ${quote(this.parameter, 100)}: ${quote(this.detail, 400)} (nothing was sent)`
  }

  /**
   * The error for input a schema refused: the first issue's path as the parameter (`parameter` when it has none)
   * and its message, both bounded, never the value itself.
   *
   * @example
   * ```ts
   * import { Params, ZegoError } from "@effect-zego/core"
   * import * as Either from "effect/Either"
   * import * as Schema from "effect/Schema"
   *
   * const decoded = Schema.decodeUnknownEither(Params.DispatchRequest)({ streamId: "a b", type: "push" })
   * if (Either.isLeft(decoded)) {
   *   assert.strictEqual(ZegoError.InvalidRequestError.fromParseError(decoded.left).parameter, "streamId")
   * }
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  static fromParseError(error: ParseResult.ParseError, parameter = "request"): InvalidRequestError {
    const { message, path } = describeParseError(error)
    return new InvalidRequestError({ parameter: path || parameter, detail: message })
  }
}

/**
 * The classes of the errors that carry a ZEGOCLOUD return code.
 *
 * @since 0.1.0
 * @category errors
 */
export const ServerErrors = [
  RateLimitedError,
  DispatchFailedError,
  NoPublishNodeError,
  NoPullNodeError,
  AppNotOnlineError,
  InvalidParameterError,
  ZegoInternalError,
  InvalidIsTestError,
  InvalidAppIdError,
  InvalidStreamIdError,
  InvalidDispatchTypeError,
  InvalidClientIpError,
  SignatureExpiredError,
  SignatureInvalidError,
  GatewayError,
  AuthenticationError,
  StreamNotFoundError,
  StreamInfoNotFoundError,
  RoomNotFoundError,
  StreamConflictError,
  StreamUpdateFailedError,
  StreamListFailedError,
  InvalidCdnUrlError,
  UnknownCodeError
] as const

/**
 * An error that carries a ZEGOCLOUD return code.
 *
 * @since 0.1.0
 * @category errors
 */
export type ZegoServerError = InstanceType<(typeof ServerErrors)[number]>

/**
 * The server errors every action may answer (the global table).
 *
 * @since 0.1.0
 * @category errors
 */
export type CommonServerError =
  | RateLimitedError
  | InvalidParameterError
  | ZegoInternalError
  | InvalidIsTestError
  | InvalidAppIdError
  | InvalidStreamIdError
  | SignatureExpiredError
  | SignatureInvalidError
  | GatewayError
  | AuthenticationError
  | UnknownCodeError

/**
 * The errors every action may fail with: the global table's, and those before or around the server.
 *
 * @since 0.1.0
 * @category errors
 */
export type CommonError = CommonServerError | TransportError | ResponseDecodeError | InvalidRequestError

/**
 * Every error of this library (the union of every action's errors).
 *
 * @example
 * ```ts
 * import { ZegoError } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * // Sent over the wire and read back as the same class.
 * const error = new ZegoError.InvalidRequestError({ parameter: "streamId", detail: "must not be empty" })
 * const decoded = Schema.decodeUnknownSync(ZegoError.ZegoError)(Schema.encodeSync(ZegoError.ZegoError)(error))
 * assert.ok(decoded instanceof ZegoError.InvalidRequestError)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type ZegoError = ZegoServerError | TransportError | ResponseDecodeError | InvalidRequestError

/**
 * The schema of every error a dispatch can fail with (to send them over the wire or persist them).
 *
 * @since 0.1.0
 * @category errors
 */
export const ZegoError: Schema.Union<
  [...typeof ServerErrors, typeof TransportError, typeof ResponseDecodeError, typeof InvalidRequestError]
> = Schema.Union(...ServerErrors, TransportError, ResponseDecodeError, InvalidRequestError)

/**
 * Whether a value is one of this library's errors.
 *
 * @example
 * ```ts
 * import { ZegoError } from "@effect-zego/core"
 *
 * assert.strictEqual(ZegoError.isZegoError(new ZegoError.InvalidRequestError({ parameter: "appId", detail: "" })), true)
 * assert.strictEqual(ZegoError.isZegoError(new Error("other")), false)
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isZegoError = (u: unknown): u is ZegoError => ZegoError.members.some((member) => u instanceof member)

type ServerErrorClass = (typeof ServerErrors)[number]

/**
 * A table from return codes to error classes, with the retry decision of each code.
 *
 * @since 0.1.0
 * @category codes
 */
export type CodeTable = ReadonlyMap<number, readonly [ServerErrorClass, boolean]>

/**
 * The global table: the codes every action shares. Each action adds its own (see {@link actionCodes}): a code
 * another action defines (1002 "no publish node") is an `UnknownCodeError` from an action that does not.
 */
const codeTable = new Map<number, readonly [ServerErrorClass, boolean]>()
const entry = (codes: ReadonlyArray<number>, errorClass: ServerErrorClass, retryable: boolean) => {
  for (const code of codes) codeTable.set(code, [errorClass, retryable])
}
entry([1010, 30002, 5007], RateLimitedError, true)
entry([1006], InvalidParameterError, false)
// Shared by the stream APIs (LIFECYCLE.md): 3000 invalid app, 3002 timestamp error, 3003 no token, 40005 auth.
entry([3000], InvalidAppIdError, false)
entry([3002], SignatureExpiredError, false)
entry([3003, 40005], AuthenticationError, false)
entry([30003, 3001, 5000, 5001, 5002, 5006], ZegoInternalError, true)
entry([30004], InvalidIsTestError, false)
entry([30005], InvalidAppIdError, false)
entry([30009], InvalidStreamIdError, false)
entry([30010], InvalidDispatchTypeError, false)
entry([30011], InvalidClientIpError, false)
// Retried once by the dispatch service itself, after it corrects the clock offset.
entry([100000004], SignatureExpiredError, false)
entry([100000005], SignatureInvalidError, false)
for (let code = 100000000; code <= 100000099; code++) {
  if (!codeTable.has(code)) entry([code], GatewayError, code === 100000015)
}

/**
 * Builds an action's own code table.
 *
 * @example
 * ```ts
 * import { ZegoError } from "@effect-zego/core"
 *
 * const table = ZegoError.codes([[[1002], ZegoError.NoPublishNodeError, false]])
 * assert.deepStrictEqual(table.get(1002), [ZegoError.NoPublishNodeError, false])
 * ```
 *
 * @since 0.1.0
 * @category codes
 */
export const codes = (
  entries: ReadonlyArray<readonly [ReadonlyArray<number>, ServerErrorClass, boolean]>
): CodeTable => {
  const table = new Map<number, readonly [ServerErrorClass, boolean]>()
  for (const [codes, errorClass, retryable] of entries) {
    for (const code of codes) table.set(code, [errorClass, retryable])
  }
  return table
}

const serverErrorByTag = new Map<string, ServerErrorClass>(ServerErrors.map((errorClass) => [
  new errorClass({ code: 0, serverMessage: "", requestId: "", action: "RTMPDispatchV2", retryable: false })._tag,
  errorClass
]))

/** An action's own codes, from its row of the action table. */
const ownCodes = (action: Action): CodeTable =>
  codes(
    Object.entries(Actions.row(action).codes).map(([code, { error, retryable }]) => [
      [Number(code)],
      serverErrorByTag.get(error) ?? UnknownCodeError,
      retryable
    ])
  )

/**
 * Each action's own codes, beyond the global table.
 *
 * @example
 * ```ts
 * import { ZegoError } from "@effect-zego/core"
 *
 * assert.strictEqual(ZegoError.actionCodes.RTMPDispatchV2.has(1002), true)
 * assert.strictEqual(ZegoError.actionCodes.AddStream.has(1002), false)
 * ```
 *
 * @since 0.1.0
 * @category codes
 */
export const actionCodes: Readonly<Record<Action, CodeTable>> = Object.fromEntries(
  Actions.names.map((action) => [action, ownCodes(action)])
) as Record<Action, CodeTable>

/**
 * The codes the tables know (the global one and every action's), for tests and documentation.
 *
 * @example
 * ```ts
 * import { ZegoError } from "@effect-zego/core"
 *
 * assert.ok(ZegoError.knownCodes.includes(1010))
 * ```
 *
 * @since 0.1.0
 * @category codes
 */
export const knownCodes: ReadonlyArray<number> = [
  ...new Set([...codeTable.keys(), ...Object.values(actionCodes).flatMap((table) => [...table.keys()])])
]

/**
 * The error for a non-zero return code of an action: its own table first, then the global one.
 *
 * @example
 * ```ts
 * import { ZegoError } from "@effect-zego/core"
 *
 * // 1002 means "no publish node" from a dispatch, but nothing known from AddStream.
 * const fields = { code: 1002, serverMessage: "", requestId: "r1" } as const
 * assert.strictEqual(ZegoError.fromCode({ ...fields, action: "RTMPDispatchV2" })._tag, "NoPublishNodeError")
 * assert.strictEqual(ZegoError.fromCode({ ...fields, action: "AddStream" })._tag, "UnknownCodeError")
 * ```
 *
 * @since 0.1.0
 * @category codes
 */
export const fromCode = (fields: {
  readonly code: number
  readonly serverMessage: string
  readonly requestId: string
  readonly action: Action
}): ZegoServerError => {
  const [errorClass, retryable] = actionCodes[fields.action]?.get(fields.code) ?? codeTable.get(fields.code) ??
    [UnknownCodeError, false]
  return new errorClass({ ...fields, retryable })
}

/**
 * Whether the default policy retries an error.
 *
 * @example
 * ```ts
 * import { ZegoError } from "@effect-zego/core"
 *
 * const error = ZegoError.fromCode({ code: 1001, serverMessage: "", requestId: "r1", action: "RTMPDispatchV2" })
 * assert.strictEqual(ZegoError.isRetryable(error), true)
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (error: ZegoError): boolean => "retryable" in error && error.retryable
