/**
 * ZEGOCLOUD's server callbacks (`stream_create`, `stream_close`, and any other event): their signature, a freshness
 * window and replay refusal (the signature covers neither the body nor a time limit), and their decoding into typed
 * events with every number kept whole (a `room_session_id` can exceed 2^53).
 *
 * The signature: sort the callback secret, `timestamp` and `nonce` as strings, concatenate, SHA-1, lowercase hex.
 * SHA-1 comes from `js-sha1` (the same author and shape as `js-md5`, no dependencies, every runtime): WebCrypto's
 * digest is asynchronous and the core must not import `node:crypto`.
 *
 * A receiver answers by the error: `CallbackDecodeError` 400, `CallbackSignatureError` and `CallbackExpiredError`
 * 401, `CallbackUnavailableError` 503 (ZEGOCLOUD retries: the store is full or down, or an earlier delivery of the
 * callback is still being applied), and `CallbackReplayError` a 2xx (an earlier delivery was applied and
 * committed). A received event is applied, then `commit`ted and answered 2xx; one that could not be applied is
 * `release`d and answered 5xx, so that ZEGOCLOUD's retry is let through.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { sha1 } from "js-sha1"
import { detach } from "./internal/detach.js"
import { boundedDuration, MAX_DURATION } from "./internal/engine.js"
import * as LosslessJson from "./internal/losslessJson.js"
import { utf8Bytes } from "./Params.js"
import { hasUnsafeCharacters } from "./Untrusted.js"
import { InvalidRequestError } from "./ZegoError.js"

// ---------------------------------------------------------------------------------------------------------------
// Errors. None carries the secret, the signature or the body: only what the receiver decided and why.
// ---------------------------------------------------------------------------------------------------------------

/**
 * The `signature` is missing or does not match the callback secret, `timestamp` and `nonce`. Answer 401.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // Signed with another secret: refused before anything else is looked at.
 * const program = Effect.gen(function*() {
 *   const receiver = yield* Callback.makeReceiver({ secret: Redacted.make("callback-secret") })
 *   const timestamp = String(Math.floor(Date.now() / 1000))
 *   const signature = Callback.signature(Redacted.make("wrong"), timestamp, "n1")
 *   return yield* Effect.flip(receiver.receive({ body: JSON.stringify({ event: "x", timestamp, nonce: "n1", signature }) }))
 * })
 * Effect.runPromise(program).then((error) => assert.strictEqual(error._tag, "CallbackSignatureError"))
 * ```
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
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * const error = new Callback.CallbackExpiredError({ timestamp: 1_700_000_000, now: 1_700_001_000, windowSeconds: 300 })
 * console.log(error.message)
 * ```
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
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * // An HTTP handler answers a replay as a success: the first delivery was applied.
 * const status = (error: Callback.CallbackError): number =>
 *   error._tag === "CallbackReplayError" ? 200 : error._tag === "CallbackUnavailableError" ? 503 : 400
 * assert.strictEqual(status(new Callback.CallbackReplayError()), 200)
 * ```
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
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.flip(Callback.parse({ body: "not a callback {", contentType: "application/json" }))
 * Effect.runPromise(program).then((error) => assert.strictEqual(error._tag, "CallbackDecodeError"))
 * ```
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
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * const error = new Callback.CallbackUnavailableError({ reason: "the nonce store is full" })
 * assert.strictEqual(error.message, "CallbackUnavailableError: the nonce store is full; ZEGOCLOUD will retry.")
 * ```
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
 * import type { Callback } from "@effect-zego/core"
 *
 * const httpStatus = (error: Callback.CallbackError): number => {
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

// ---------------------------------------------------------------------------------------------------------------
// Signature
// ---------------------------------------------------------------------------------------------------------------

/**
 * The signature ZEGOCLOUD puts in a callback: SHA-1 of the sorted secret, timestamp and nonce, lowercase hex.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Redacted from "effect/Redacted"
 *
 * // ZEGOCLOUD's own example.
 * assert.strictEqual(
 *   Callback.signature(Redacted.make("secret"), "1470820198", "123412"),
 *   "5bd59fd62953a8059fb7eaba95720f66d19e4517"
 * )
 * ```
 *
 * @since 0.1.0
 * @category signature
 */
export const signature = (secret: Redacted.Redacted<string>, timestamp: string, nonce: string): string =>
  sha1([Redacted.value(secret), timestamp, nonce].sort().join(""))

// ---------------------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------------------

/**
 * `stream_close`'s `type`, named: 0 … 5, and 100 (`DeleteStream`); any other code is `unknown`.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Callback.CloseReason)("heartbeatTimeout"), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const CloseReason = Schema.Literal(
  "normal",
  "heartbeatTimeout",
  "repeatedLogin",
  "kickedOut",
  "tcpDisconnect",
  "roomCleared",
  "deletedByServer",
  "unknown"
)
/**
 * A close reason, as a string.
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const expected = (reason: Callback.CloseReason): boolean => reason === "normal" || reason === "deletedByServer"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type CloseReason = typeof CloseReason.Type

/**
 * What every verified callback carries.
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const logLine = (event: Callback.Common): string => `${event.event} for AppId ${event.appId} at ${event.timestamp}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Common {
  /** The `event` field as sent (`stream_create`, `stream_close`, …). */
  readonly event: string
  readonly appId: number
  /** The callback's `timestamp`, Unix seconds. */
  readonly timestamp: number
  readonly nonce: string
}

/**
 * What both stream events carry.
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const where = (event: Callback.StreamFields): string => `${event.streamId} in room ${event.roomId || "(none)"}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamFields extends Common {
  readonly streamId: string
  /** `""` when the callback has none (a stream ingested over RTMP may have no room). */
  readonly roomId: string
  /** Kept whole: it can exceed 2^53. */
  readonly roomSessionId: bigint
  /** Within one room session, the larger wins. */
  readonly streamSeq: bigint
  readonly userId: string
  readonly userName: string
  readonly channelId: string
  readonly streamSid: string
  readonly streamAlias: string
}

/**
 * `stream_create`: a publisher started.
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const playback = (event: Callback.StreamCreated): string | undefined => event.hlsUrls[0] ?? event.rtmpUrls[0]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamCreated extends StreamFields {
  readonly _tag: "StreamCreated"
  /** `create_time_ms` (or `create_time` seconds when that is all there is). */
  readonly createdAt: Date
  /** `recreate` = 1: the same stream pushed again within 90 s. */
  readonly recreate: boolean
  readonly extraInfo: string
  readonly title: string
  /** `stream_attr`'s `cid`, when present: 0 H.264, 1 H.264 SVC, 2 VP8, 3 H.265. */
  readonly codec: number | undefined
  readonly rtmpUrls: ReadonlyArray<string>
  readonly hlsUrls: ReadonlyArray<string>
  readonly hdlUrls: ReadonlyArray<string>
  readonly picUrls: ReadonlyArray<string>
}

/**
 * `stream_close`: a stream ended.
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const dropped = (event: Callback.StreamClosed): boolean =>
 *   event.reason === "heartbeatTimeout" || event.reason === "tcpDisconnect"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamClosed extends StreamFields {
  readonly _tag: "StreamClosed"
  readonly reason: CloseReason
  /** `type` as sent. */
  readonly closeCode: number
  /** `destroy_timemillis`. */
  readonly closedAt: Date
  /** `create_time_ms` of the stream that closed, when sent. */
  readonly createdAt: Date | undefined
  readonly thirdDefineData: string
}

/**
 * Any other event: kept, not failed, with its fields as strings (bounded in number and length).
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const roomOf = (event: Callback.UnknownEvent): string | undefined => event.fields.room_id
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface UnknownEvent extends Common {
  readonly _tag: "UnknownEvent"
  readonly fields: Readonly<Record<string, string>>
}

/**
 * A verified, decoded callback.
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const describe = (event: Callback.Event): string => {
 *   switch (event._tag) {
 *     case "StreamCreated":
 *       return `${event.streamId} is live`
 *     case "StreamClosed":
 *       return `${event.streamId} closed (${event.reason})`
 *     case "UnknownEvent":
 *       return `ignored ${event.event}`
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Event = StreamCreated | StreamClosed | UnknownEvent

// ---------------------------------------------------------------------------------------------------------------
// Nonces
// ---------------------------------------------------------------------------------------------------------------

/**
 * What a {@link NonceStore} answers a delivery that asks for its nonce:
 *
 * - `Claimed`: this delivery holds the nonce. Apply its event, then `commit` (its replays are then acknowledged) or
 *   `release` (a retry is let through). A claim settled neither way lapses after the store's pending timeout, so
 *   that a process that died mid-apply does not lose the event: ZEGOCLOUD's next retry is applied.
 * - `Applied`: an earlier delivery's event was applied: a replay, to acknowledge (2xx).
 * - `Pending`: an earlier delivery holds the nonce and has not applied its event yet: answer 503, so that
 *   ZEGOCLOUD retries and learns the outcome (it must not get a 2xx for an event that may still fail).
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const status = (claim: Callback.Claim): number =>
 *   claim._tag === "Claimed" ? 202 : claim._tag === "Applied" ? 200 : 503
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Claim =
  | { readonly _tag: "Claimed"; readonly token: string }
  | { readonly _tag: "Applied" }
  | { readonly _tag: "Pending" }

/**
 * Where nonces are kept for the freshness window, each either claimed by a delivery that is being applied or
 * applied. The in-memory {@link memoryNonceStore} is the default; the Redis package offers one shared by several
 * processes.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // A store that keeps nothing: every delivery claims its nonce (replays get through: for a test only).
 * const forgetful: Callback.NonceStore = {
 *   claim: () => Effect.succeed({ _tag: "Claimed", token: "t" }),
 *   commit: () => Effect.void,
 *   release: () => Effect.void
 * }
 * const ReceiverTest = Callback.layer({ secret: Redacted.make("callback-secret"), nonces: forgetful })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface NonceStore {
  /** Claims `nonce` for one delivery, to be kept until `expiresAt` (epoch ms) once applied. See {@link Claim}. */
  readonly claim: (nonce: string, expiresAt: number) => Effect.Effect<Claim, CallbackUnavailableError>
  /** Marks the claim's event applied: until `expiresAt`, later deliveries of the nonce are `Applied`. */
  readonly commit: (nonce: string, token: string, expiresAt: number) => Effect.Effect<void, CallbackUnavailableError>
  /** Gives a claim back (its event could not be applied), so that ZEGOCLOUD's retry is let through. */
  readonly release: (nonce: string, token: string) => Effect.Effect<void>
}

// ---------------------------------------------------------------------------------------------------------------
// Receiving
// ---------------------------------------------------------------------------------------------------------------

/**
 * Options of {@link makeReceiver}.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Redacted from "effect/Redacted"
 *
 * const options: Callback.ReceiverOptions = {
 *   secret: Redacted.make("callback-secret"),
 *   window: "2 minutes",
 *   maxBodyBytes: 16 * 1024
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceiverOptions {
  /** The project's callback secret (ZEGOCLOUD console). */
  readonly secret: Redacted.Redacted<string>
  /** How far a `timestamp` may be from this clock, either way. Default 5 minutes. */
  readonly window?: Duration.DurationInput | undefined
  /**
   * Default: a {@link memoryNonceStore} sized for `rate` over the window (or the {@link CallbackNonceStore} service,
   * when provided).
   */
  readonly nonces?: NonceStore | undefined
  /**
   * The sustained callbacks per second the default in-memory nonce store takes: it holds `rate` × (the window's
   * seconds + 1) nonces (301 000 by default, about 35 MB), and answers 503 past that. Default
   * {@link DEFAULT_CALLBACK_RATE}. Not used with `nonces` or a provided store.
   */
  readonly rate?: number | undefined
  /** The largest body read, in bytes. Default 64 KiB. */
  readonly maxBodyBytes?: number | undefined
}

/**
 * A callback's body as it arrived.
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const fromForm = (body: string): Callback.Incoming => ({ body, contentType: "application/x-www-form-urlencoded" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Incoming {
  readonly body: string | Uint8Array
  /** The `Content-Type` header, if any. */
  readonly contentType?: string | undefined
}

/**
 * Receives callbacks: verifies (signature, freshness, nonce), then decodes.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const secret = Redacted.make("callback-secret")
 * const timestamp = String(Math.floor(Date.now() / 1000))
 * const body = JSON.stringify({
 *   event: "room_create",
 *   appid: "1234567890",
 *   timestamp,
 *   nonce: "123412",
 *   signature: Callback.signature(secret, timestamp, "123412")
 * })
 * const program = Effect.gen(function*() {
 *   const receiver: Callback.Receiver = yield* Callback.makeReceiver({ secret })
 *   const event = yield* receiver.receive({ body, contentType: "application/json" })
 *   // Applied it? Commit, so that its replays are acknowledged. Could not? Release, so that a retry gets through.
 *   yield* receiver.commit(event)
 *   return event
 * })
 * Effect.runPromise(program).then((event) => assert.strictEqual(event._tag, "UnknownEvent"))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Receiver {
  /**
   * Verified and decoded, its nonce claimed for this delivery; fails with the first check that does not hold. A
   * delivery whose nonce another is still applying fails with `CallbackUnavailableError` (503), one whose event
   * was applied with `CallbackReplayError` (2xx). Settle each event with `commit` or `release`; one settled neither
   * way lapses after the nonce store's pending timeout (and ZEGOCLOUD's retry is then received again).
   */
  readonly receive: (incoming: Incoming) => Effect.Effect<Event, CallbackError>
  /** The event was applied: later deliveries of it are replays. Ignores an event this receiver did not return. */
  readonly commit: (event: Event) => Effect.Effect<void, CallbackUnavailableError>
  /** The event could not be applied: gives its nonce back, so that ZEGOCLOUD's retry is let through. */
  readonly release: (event: Event) => Effect.Effect<void>
  /** The largest body `receive` reads: an HTTP server stops reading a body past it. */
  readonly maxBodyBytes: number
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing: a body (JSON, URL-encoded JSON or a form) into fields, every value as its exact text
// ---------------------------------------------------------------------------------------------------------------

/**
 * A callback's fields: each scalar as its exact text (a JSON number as written, `true` / `false` / `null` as those
 * words), a list (`rtmp_url[]`, a JSON array, a repeated form key) as an array. A key's trailing `[]` is dropped,
 * so `rtmp_url[]` and `rtmp_url` are the same field whichever way the body came. A nested object (or an object
 * in an array) is kept as its exact JSON text, so that `stream_attr` reads the same as an object or as a string.
 * The record has no prototype: `__proto__` is an ordinary key. Each value is a string of its own, so a field (or
 * an event) kept after the request does not keep the body in memory.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const fields: Callback.Fields = Effect.runSync(Callback.parse({ body: "rtmp_url[]=a&rtmp_url[]=b&stream_id=s1" }))
 * assert.deepStrictEqual(fields.rtmp_url, ["a", "b"])
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Fields = Readonly<Record<string, string | ReadonlyArray<string>>>

/**
 * Options of {@link parse}.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const options: Callback.ParseOptions = { maxBodyBytes: 8 * 1024 }
 * const result = Effect.runSync(Effect.either(Callback.parse({ body: "x".repeat(10_000) }, options)))
 * assert.strictEqual(result._tag, "Left")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ParseOptions {
  /** The largest body read, in bytes. Default 64 KiB. */
  readonly maxBodyBytes?: number | undefined
}

/**
 * The default of {@link ParseOptions.maxBodyBytes}.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * assert.strictEqual(Callback.DEFAULT_MAX_BODY_BYTES, 65536)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024
/**
 * The deepest nesting a JSON body may have (the body's own object is 1; `stream_attr` as an object is 2).
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const deep = "[".repeat(Callback.MAX_DEPTH + 1) + "]".repeat(Callback.MAX_DEPTH + 1)
 * const result = Effect.runSync(Effect.either(Callback.parse({ body: `{"a":${deep}}`, contentType: "application/json" })))
 * assert.strictEqual(result._tag, "Left")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_DEPTH = 8
/**
 * The most fields a body may have.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * const tooMany = Array.from({ length: Callback.MAX_FIELDS + 1 }, (_, i) => `f${i}=1`).join("&")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_FIELDS = 256
/**
 * The most values (fields, list items, nested values) in one body.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * assert.strictEqual(Callback.MAX_VALUES, 4096)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_VALUES = 4096

const decodeError = (reason: string) => new CallbackDecodeError({ reason })

const JSON_LIMITS: LosslessJson.Limits = { maxDepth: MAX_DEPTH, maxValues: MAX_VALUES }

const bodyText = (body: string | Uint8Array, maxBytes: number): Either.Either<string, CallbackDecodeError> => {
  const tooLarge = () => Either.left(decodeError(`the body is larger than ${maxBytes} bytes`))
  if (typeof body === "string") {
    // A string's UTF-8 form is at least as long as it, and at most three times.
    if (body.length > maxBytes || (body.length * 3 > maxBytes && utf8Bytes(body) > maxBytes)) return tooLarge()
    return Either.right(body)
  }
  if (!(body instanceof Uint8Array)) return Either.left(decodeError("the body must be a string or a Uint8Array"))
  if (body.byteLength > maxBytes) return tooLarge()
  try {
    return Either.right(new TextDecoder("utf-8", { fatal: true }).decode(body))
  } catch {
    return Either.left(decodeError("the body is not valid UTF-8"))
  }
}

/** The fields of a list key (`rtmp_url[]` → `rtmp_url`). */
const fieldName = (key: string): { readonly name: string; readonly list: boolean } =>
  key.endsWith("[]") ? { name: key.slice(0, -2), list: true } : { name: key, list: false }

/** A value's text, copied out of the body (a field outlives the request: see `detach`). */
const textOf = (value: LosslessJson.Value): string =>
  detach(value._tag === "Array" || value._tag === "Object" ? value.source : value.text)

const fromJson = (text: string): Either.Either<Fields, CallbackDecodeError> => {
  const parsed = LosslessJson.parse(text, JSON_LIMITS)
  if (Either.isLeft(parsed)) return Either.left(decodeError(`the body is not valid JSON: ${parsed.left}`))
  const root = parsed.right
  if (root._tag !== "Object") return Either.left(decodeError("the body is not a JSON object"))
  if (root.members.size > MAX_FIELDS) return Either.left(decodeError(`the body has more than ${MAX_FIELDS} fields`))
  const fields: Record<string, string | ReadonlyArray<string>> = Object.create(null)
  let position = 0
  for (const [key, value] of root.members) {
    position++
    const { list, name } = fieldName(key)
    // Named by its position: an error never carries the body's text.
    if (Object.hasOwn(fields, name)) {
      return Either.left(decodeError(`field ${position} repeats an earlier field's name (one with [], one without)`))
    }
    fields[name] = value._tag === "Array" ? value.items.map(textOf) : list ? [textOf(value)] : textOf(value)
  }
  return Either.right(fields)
}

const fromForm = (text: string): Either.Either<Fields, CallbackDecodeError> => {
  const fields: Record<string, string | Array<string>> = Object.create(null)
  let count = 0
  let names = 0
  for (const [key, cut] of new URLSearchParams(text)) {
    if (++count > MAX_VALUES) return Either.left(decodeError(`the form has more than ${MAX_VALUES} values`))
    const { list, name } = fieldName(key)
    // A value is cut from the body and may outlive the request; a key becomes a property name, which is a copy.
    const value = detach(cut)
    const seen = fields[name]
    if (seen === undefined) {
      if (++names > MAX_FIELDS) return Either.left(decodeError(`the form has more than ${MAX_FIELDS} fields`))
      fields[name] = list ? [value] : value
    } else if (typeof seen === "string") fields[name] = [seen, value]
    else seen.push(value)
  }
  return Either.right(fields)
}

const FORM = /^[^=&]*=/
const JSON_WHITESPACE = /^[ \t\n\r]*/

const parseEither = (incoming: Incoming, options?: ParseOptions): Either.Either<Fields, CallbackDecodeError> => {
  try {
    const maxBytes = options?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    const text = bodyText(incoming.body, maxBytes)
    if (Either.isLeft(text)) return Either.left(text.left)
    const start = text.right.replace(JSON_WHITESPACE, "")
    if (start.startsWith("{")) return fromJson(start)
    if (/^%7b/i.test(start)) {
      // The docs say to URL-decode the body: an encoder may have written spaces as `+` (a `+` itself is `%2B`).
      let decoded: string
      try {
        decoded = decodeURIComponent(start.replace(/\+/g, " "))
      } catch {
        return Either.left(decodeError("the body is not valid URL-encoded JSON"))
      }
      return fromJson(decoded)
    }
    const type = (incoming.contentType ?? "").split(";")[0]!.trim().toLowerCase()
    if (type === "application/x-www-form-urlencoded" || FORM.test(start)) return fromForm(text.right)
    return Either.left(decodeError("the body is neither a JSON object nor a form"))
  } catch {
    // An `incoming` whose getters throw is a refused body, not a defect.
    return Either.left(decodeError("the body could not be read"))
  }
}

/**
 * The body's fields, whichever of JSON, URL-encoded JSON or a form it is (see {@link Fields}).
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // Numbers are kept as written: a room_session_id past 2^53 stays whole.
 * const fields = Effect.runSync(Callback.parse({ body: `{"room_session_id":858012925204410400}` }))
 * assert.strictEqual(fields.room_session_id, "858012925204410400")
 * ```
 *
 * @since 0.1.0
 * @category receiving
 */
export const parse = (incoming: Incoming, options?: ParseOptions): Effect.Effect<Fields, CallbackDecodeError> =>
  Effect.suspend(() => parseEither(incoming, options))

// ---------------------------------------------------------------------------------------------------------------
// Verifying: signature, freshness, nonce
// ---------------------------------------------------------------------------------------------------------------

/**
 * The default freshness window.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Duration from "effect/Duration"
 *
 * assert.strictEqual(Duration.toMinutes(Callback.DEFAULT_WINDOW), 5)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_WINDOW = Duration.minutes(5)
/**
 * The longest freshness window accepted: a nonce store must keep each nonce that long.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Duration from "effect/Duration"
 *
 * assert.strictEqual(Duration.toHours(Callback.MAX_WINDOW), 1)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_WINDOW: Duration.Duration = MAX_DURATION

/**
 * A callback whose signature held, whose timestamp was fresh and whose nonce this delivery now holds: settle it
 * with the store's `commit` (applied) or `release` (not applied), passing `token` (and `expiresAt` to `commit`).
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const ageSeconds = (verified: Callback.Verified, nowSeconds: number): number => nowSeconds - verified.timestamp
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Verified {
  readonly fields: Fields
  /** Unix seconds. */
  readonly timestamp: number
  readonly nonce: string
  /** This delivery's claim on the nonce. */
  readonly token: string
  /** Until when (epoch ms) the nonce is kept once committed: the timestamp plus the window. */
  readonly expiresAt: number
}

/** One string field, or `undefined` when it is absent or a list. */
const single = (fields: Fields, name: string): string | undefined => {
  const value = Object.hasOwn(fields, name) ? fields[name] : undefined
  return typeof value === "string" ? value : undefined
}

const TIMESTAMP = /^[0-9]{1,12}$/
const MAX_NONCE = 256

/** Compares two strings in time that depends only on their lengths. */
const constantTimeEquals = (a: string, b: string): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

interface ValidVerifyOptions {
  readonly secret: Redacted.Redacted<string>
  readonly windowMillis: number
  readonly nonces: NonceStore
}

const invalid = (parameter: string, detail: string) => new InvalidRequestError({ parameter, detail })

const validateWindow = (input: Duration.DurationInput | undefined): Either.Either<number, InvalidRequestError> =>
  Either.map(boundedDuration("window", input ?? DEFAULT_WINDOW), Duration.toMillis)

const validateSecret = (secret: unknown): Either.Either<Redacted.Redacted<string>, InvalidRequestError> => {
  if (!Redacted.isRedacted(secret)) {
    return Either.left(invalid("secret", "must be Redacted (Redacted.make or Config.redacted)"))
  }
  const value = Redacted.value(secret)
  return typeof value === "string" && value !== ""
    ? Either.right(secret as Redacted.Redacted<string>)
    : Either.left(invalid("secret", "must be a non-empty string"))
}

const isNonceStore = (u: unknown): u is NonceStore =>
  typeof u === "object" && u !== null && typeof (u as NonceStore).claim === "function" &&
  typeof (u as NonceStore).commit === "function" && typeof (u as NonceStore).release === "function"

/**
 * What verifying can fail with (beyond invalid options).
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * const isForgery = (error: Callback.VerifyError): boolean => error._tag === "CallbackSignatureError"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type VerifyError = CallbackSignatureError | CallbackExpiredError | CallbackReplayError | CallbackUnavailableError

const verifyValid = (fields: Fields, options: ValidVerifyOptions): Effect.Effect<Verified, VerifyError> =>
  Effect.suspend((): Effect.Effect<Verified, VerifyError> => {
    const given = single(fields, "signature")
    const timestampText = single(fields, "timestamp")
    const nonce = single(fields, "nonce")
    // A timestamp that is not Unix seconds, or an unusable nonce, leaves nothing to check freshness or replay by.
    if (
      given === undefined || timestampText === undefined || nonce === undefined || !TIMESTAMP.test(timestampText) ||
      nonce === "" || nonce.length > MAX_NONCE
    ) return Effect.fail(new CallbackSignatureError({ reason: "missing" }))
    if (!constantTimeEquals(given.toLowerCase(), signature(options.secret, timestampText, nonce))) {
      return Effect.fail(new CallbackSignatureError({ reason: "mismatch" }))
    }
    const timestamp = Number(timestampText)
    return Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<
      Verified,
      CallbackExpiredError | CallbackReplayError | CallbackUnavailableError
    > => {
      if (Math.abs(now - timestamp * 1000) > options.windowMillis) {
        return Effect.fail(
          new CallbackExpiredError({
            timestamp,
            now: Math.floor(now / 1000),
            windowSeconds: options.windowMillis / 1000
          })
        )
      }
      const expiresAt = timestamp * 1000 + options.windowMillis
      return Effect.flatMap(options.nonces.claim(nonce, expiresAt), (claim): Effect.Effect<
        Verified,
        CallbackReplayError | CallbackUnavailableError
      > => {
        switch (claim._tag) {
          case "Claimed":
            return Effect.succeed({ fields, timestamp, nonce, token: claim.token, expiresAt })
          case "Applied":
            return Effect.fail(new CallbackReplayError())
          case "Pending":
            return Effect.fail(
              new CallbackUnavailableError({ reason: "an earlier delivery of this callback is still being applied" })
            )
        }
      })
    })
  })

/**
 * Verifies a callback's fields: the signature first (so that an unsigned request takes nothing from the nonce
 * store), then the timestamp against the window (Effect's `Clock`), then claims the nonce for this delivery (see
 * {@link Claim}: a nonce already applied is `CallbackReplayError`, one still being applied
 * `CallbackUnavailableError`). A `timestamp` that is not Unix-seconds digits, or an empty or over-long `nonce`,
 * counts as missing. Fails with `InvalidRequestError` only for invalid options (a window that is not positive or
 * longer than an hour).
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const secret = Redacted.make("callback-secret")
 * const timestamp = String(Math.floor(Date.now() / 1000))
 * const body = JSON.stringify({
 *   event: "room_create",
 *   appid: "1234567890",
 *   timestamp,
 *   nonce: "123412",
 *   signature: Callback.signature(secret, timestamp, "123412")
 * })
 * const program = Effect.gen(function*() {
 *   const nonces = yield* Callback.memoryNonceStore()
 *   const fields = yield* Callback.parse({ body })
 *   const verified = yield* Callback.verify(fields, { secret, nonces })
 *   // … its event applied:
 *   yield* nonces.commit(verified.nonce, verified.token, verified.expiresAt)
 *   // The same callback again is a replay.
 *   return yield* Effect.flip(Callback.verify(fields, { secret, nonces }))
 * })
 * Effect.runPromise(program).then((error) => assert.strictEqual(error._tag, "CallbackReplayError"))
 * ```
 *
 * @since 0.1.0
 * @category receiving
 */
export const verify = (
  fields: Fields,
  options: ReceiverOptions & { readonly nonces: NonceStore }
): Effect.Effect<Verified, VerifyError | InvalidRequestError> =>
  Effect.suspend(() =>
    Either.all({ secret: validateSecret(options.secret), windowMillis: validateWindow(options.window) }).pipe(
      Either.flatMap((valid) =>
        isNonceStore(options.nonces)
          ? Either.right({ ...valid, nonces: options.nonces })
          : Either.left(invalid("nonces", "must be a NonceStore (claim, commit and release)"))
      )
    )
  ).pipe(Effect.flatMap((valid) => verifyValid(fields, valid)))

// ---------------------------------------------------------------------------------------------------------------
// Decoding: verified fields into an event
// ---------------------------------------------------------------------------------------------------------------

/**
 * The most fields an {@link UnknownEvent} keeps (in the body's order).
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * assert.strictEqual(Callback.MAX_UNKNOWN_FIELDS, 64)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_UNKNOWN_FIELDS = 64
/**
 * The longest value an {@link UnknownEvent} keeps; a list is joined with `,` before it is cut.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * assert.strictEqual(Callback.MAX_UNKNOWN_VALUE, 1024)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_UNKNOWN_VALUE = 1024

const closeReasons: Record<string, CloseReason> = {
  "0": "normal",
  "1": "heartbeatTimeout",
  "2": "repeatedLogin",
  "3": "kickedOut",
  "4": "tcpDisconnect",
  "5": "roomCleared",
  "100": "deletedByServer"
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const MAX_IDENTIFIER = 1024
const MAX_TEXT = 16 * 1024
/** The most digits of a `*_ms` time: 8.64e15 ms is the last valid `Date`. */
const MAX_MILLIS = 8_640_000_000_000_000

/** Reads fields, failing on the first that is missing or malformed; messages name the field, never its value. */
class Reader {
  constructor(private readonly fields: Fields) {}

  private fail(name: string, detail: string): never {
    throw decodeError(`${name}: ${detail}`)
  }

  /** A string field, `undefined` when absent; a list is refused (two values for one field is ambiguous). */
  optional(name: string, max = MAX_TEXT): string | undefined {
    if (!Object.hasOwn(this.fields, name)) return undefined
    const value = this.fields[name]
    if (typeof value !== "string") return this.fail(name, "must be one value, not a list")
    if (value.length > max) return this.fail(name, `longer than ${max} characters`)
    return value
  }

  required(name: string, max?: number): string {
    const value = this.optional(name, max)
    if (value === undefined || value === "") return this.fail(name, "is missing")
    return value
  }

  /** An identifier: no control, bidi or line-separator character, no lone surrogate (it may reach a log). */
  identifier(name: string, required: boolean): string {
    const value = required ? this.required(name, MAX_IDENTIFIER) : this.optional(name, MAX_IDENTIFIER) ?? ""
    if (hasUnsafeCharacters(value) || LONE_SURROGATE.test(value)) {
      return this.fail(name, "holds control or bidi characters")
    }
    return value
  }

  /** A non-negative integer written as at most `maxDigits` digits. */
  digits(name: string, value: string, maxDigits: number): string {
    if (!/^[0-9]+$/.test(value)) return this.fail(name, "must be digits")
    if (value.length > maxDigits) return this.fail(name, `must be at most ${maxDigits} digits`)
    return value
  }

  uint32(name: string): number {
    const value = Number(this.digits(name, this.required(name), 10))
    return value > 4_294_967_295 ? this.fail(name, "must be at most 4294967295") : value
  }

  bigint(name: string, value: string): bigint {
    return BigInt(this.digits(name, value, 20))
  }

  millis(name: string, value: string, scale: number): Date {
    const millis = Number(this.digits(name, value, 16)) * scale
    return millis > MAX_MILLIS ? this.fail(name, "is out of range") : new Date(millis)
  }

  list(name: string): ReadonlyArray<string> {
    if (!Object.hasOwn(this.fields, name)) return []
    const value = this.fields[name]!
    const items = typeof value === "string" ? (value === "" ? [] : [value]) : value
    if (items.some((item) => item.length > MAX_TEXT)) return this.fail(name, `holds an item longer than ${MAX_TEXT}`)
    return items
  }
}

/** `stream_attr`'s `cid`, when it is there and an integer; anything else (an odd attr) leaves the codec unknown. */
const codecOf = (attr: string | undefined): number | undefined => {
  if (attr === undefined || attr === "") return undefined
  const parsed = LosslessJson.parse(attr, { maxDepth: 4, maxValues: 256 })
  if (Either.isLeft(parsed) || parsed.right._tag !== "Object") return undefined
  const cid = parsed.right.members.get("cid")
  if (cid === undefined || cid._tag === "Array" || cid._tag === "Object" || !/^[0-9]{1,6}$/.test(cid.text)) {
    return undefined
  }
  return Number(cid.text)
}

const common = (read: Reader) => ({
  event: read.identifier("event", true),
  appId: read.uint32("appid"),
  timestamp: Number(read.digits("timestamp", read.required("timestamp"), 12)),
  nonce: read.identifier("nonce", true)
})

const streamFields = (read: Reader): StreamFields => {
  const roomSessionId = read.optional("room_session_id") ?? ""
  return {
    ...common(read),
    streamId: read.identifier("stream_id", true),
    roomId: read.identifier("room_id", false),
    // A stream ingested over RTMP may have no room, and then no room session: 0.
    roomSessionId: roomSessionId === "" ? 0n : read.bigint("room_session_id", roomSessionId),
    streamSeq: read.bigint("stream_seq", read.required("stream_seq")),
    userId: read.identifier("user_id", false),
    userName: read.optional("user_name") ?? "",
    channelId: read.identifier("channel_id", false),
    streamSid: read.identifier("stream_sid", false),
    streamAlias: read.identifier("stream_alias", false)
  }
}

const created = (read: Reader): StreamCreated => {
  const ms = read.optional("create_time_ms")
  const recreate = read.optional("recreate") ?? ""
  return {
    _tag: "StreamCreated",
    ...streamFields(read),
    createdAt: ms !== undefined && ms !== ""
      ? read.millis("create_time_ms", ms, 1)
      : read.millis("create_time", read.required("create_time"), 1000),
    recreate: recreate === "" ? false : read.digits("recreate", recreate, 1) === "1",
    extraInfo: read.optional("extra_info") ?? "",
    title: read.optional("title") ?? "",
    codec: codecOf(read.optional("stream_attr")),
    rtmpUrls: read.list("rtmp_url"),
    hlsUrls: read.list("hls_url"),
    hdlUrls: read.list("hdl_url"),
    picUrls: read.list("pic_url")
  }
}

const closed = (read: Reader): StreamClosed => {
  const type = read.required("type", 12)
  if (!/^-?[0-9]{1,10}$/.test(type)) throw decodeError("type: must be an integer of at most 10 digits")
  const createdAt = read.optional("create_time_ms")
  // Read as a number, so that `00` or `-0` is the code 0 it stands for.
  const code = Number(type) + 0
  return {
    _tag: "StreamClosed",
    ...streamFields(read),
    reason: Object.hasOwn(closeReasons, String(code)) ? closeReasons[String(code)]! : "unknown",
    closeCode: code,
    closedAt: read.millis("destroy_timemillis", read.required("destroy_timemillis"), 1),
    createdAt: createdAt === undefined || createdAt === "" ? undefined : read.millis("create_time_ms", createdAt, 1),
    thirdDefineData: read.optional("third_define_data") ?? ""
  }
}

/** An unknown event's fields: the first {@link MAX_UNKNOWN_FIELDS}, each cut; never the signature. */
const unknownFields = (fields: Fields): Record<string, string> => {
  const kept: Record<string, string> = Object.create(null)
  let count = 0
  for (const name of Object.keys(fields)) {
    if (name === "signature" || name.length > 128) continue
    if (count++ >= MAX_UNKNOWN_FIELDS) break
    const value = fields[name]!
    const text = typeof value === "string" ? value : value.join(",")
    kept[name] = text.length > MAX_UNKNOWN_VALUE ? detach(text.slice(0, MAX_UNKNOWN_VALUE)) : text
  }
  return kept
}

/**
 * The event of verified fields: `stream_create` and `stream_close` typed (every integer checked as digits and read
 * whole; identifiers refused when they hold control or bidi characters), any other event an {@link UnknownEvent}.
 * A missing or empty `room_session_id` is `0n` and a missing `room_id` is `""` (a stream ingested over RTMP may have
 * no room). A `stream_attr` that is not a JSON object with an integer `cid` leaves `codec` undefined. Free text
 * (`user_name`, `extra_info`, `title`, `third_define_data`, the URLs) is kept as sent, at most 16 KiB a value:
 * escape it (`Untrusted.escapeText`) before a terminal shows it.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Either from "effect/Either"
 *
 * const event = Callback.decode({ event: "room_create", appid: "1234567890", timestamp: "1700000000", nonce: "n1" })
 * assert.ok(Either.isRight(event) && event.right._tag === "UnknownEvent")
 * ```
 *
 * @since 0.1.0
 * @category receiving
 */
export const decode = (fields: Fields): Either.Either<Event, CallbackDecodeError> => {
  try {
    const read = new Reader(fields)
    const event = read.identifier("event", true)
    if (event === "stream_create") return Either.right(created(read))
    if (event === "stream_close") return Either.right(closed(read))
    return Either.right({ _tag: "UnknownEvent", ...common(read), fields: unknownFields(fields) })
  } catch (error) {
    return Either.left(error instanceof CallbackDecodeError ? error : decodeError("the fields could not be read"))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The in-memory nonce store
// ---------------------------------------------------------------------------------------------------------------

/**
 * The sustained callbacks per second that the default nonce store takes, over its whole window.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * assert.strictEqual(Callback.DEFAULT_CALLBACK_RATE, 1000)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_CALLBACK_RATE = 1000

/** Nonces held at `rate` a second: each is held for the window, and through the second that ends it. */
function capacityFor(rate: number, windowMillis: number): number {
  return Math.ceil(rate * (windowMillis / 1000 + 1))
}

/**
 * The default capacity of {@link memoryNonceStore}: {@link DEFAULT_CALLBACK_RATE} over the default window and the
 * second that ends it (a callback stamped exactly one window ago is still fresh, so its nonce is still held).
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 *
 * assert.strictEqual(Callback.DEFAULT_NONCE_CAPACITY, 301_000)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_NONCE_CAPACITY = capacityFor(DEFAULT_CALLBACK_RATE, Duration.toMillis(DEFAULT_WINDOW))

/**
 * How long a claim may stay neither committed nor released before another delivery may claim the nonce: longer
 * than an apply takes, well within ZEGOCLOUD's retries (2, 6, 14, 30 and 62 s after the first delivery).
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Duration from "effect/Duration"
 *
 * assert.strictEqual(Duration.toSeconds(Callback.DEFAULT_PENDING_TIMEOUT), 10)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_PENDING_TIMEOUT: Duration.Duration = Duration.seconds(10)

/**
 * Options of {@link memoryNonceStore}.
 *
 * @example
 * ```ts
 * import type { Callback } from "@effect-zego/core"
 *
 * // Sized for 5 000 callbacks a second over a 2-minute window: 600 000 nonces.
 * const options: Callback.MemoryNonceStoreOptions = { rate: 5000, window: "2 minutes" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MemoryNonceStoreOptions {
  /** Sustained callbacks per second to hold for the whole window. Default {@link DEFAULT_CALLBACK_RATE}. */
  readonly rate?: number | undefined
  /** The receiver's freshness window: a nonce is held until its timestamp plus it. Default 5 minutes. */
  readonly window?: Duration.DurationInput | undefined
  /** The most nonces held, when given: instead of `rate` × (the window's seconds + 1). */
  readonly capacity?: number | undefined
  /** See {@link DEFAULT_PENDING_TIMEOUT} (the default). */
  readonly pendingTimeout?: Duration.DurationInput | undefined
}

/** The highest `rate` accepted: a million nonces a second is more than a process takes. */
const MAX_CALLBACK_RATE = 1_000_000
const APPLIED: Claim = { _tag: "Applied" }
const PENDING: Claim = { _tag: "Pending" }
const claimed = (token: number): Claim => ({ _tag: "Claimed", token: String(token) })

/** A claim not yet settled. */
interface Pending {
  readonly token: number
  /** Epoch ms after which another delivery may claim the nonce. */
  readonly until: number
}

/**
 * Nonces in this process's memory, at most `capacity` (by default `rate` × (the window's seconds + 1): 301 000,
 * each about 115 bytes with a nonce of 14 characters, so about 35 MB when full). Expired ones are swept lazily:
 * from the front of insertion-ordered maps (expiry follows arrival give or take the window), and, only when the
 * store is full, by one pass that is not repeated before the earliest live nonce can have expired. A store full of live
 * nonces refuses (`CallbackUnavailableError`, so ZEGOCLOUD retries) rather than evict one, which would let its
 * replay through. Time is Effect's `Clock`.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const nonces = yield* Callback.memoryNonceStore({ capacity: 1000 })
 *   const expiresAt = Date.now() + 60_000
 *   const first = yield* nonces.claim("n1", expiresAt)
 *   // While the first delivery is being applied, a second one is told to come back later.
 *   const during = yield* nonces.claim("n1", expiresAt)
 *   if (first._tag === "Claimed") yield* nonces.commit("n1", first.token, expiresAt)
 *   return [first._tag, during._tag, (yield* nonces.claim("n1", expiresAt))._tag]
 * })
 * Effect.runPromise(program).then((tags) => assert.deepStrictEqual(tags, ["Claimed", "Pending", "Applied"]))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const memoryNonceStore = (
  options?: MemoryNonceStoreOptions
): Effect.Effect<NonceStore, InvalidRequestError> =>
  Effect.gen(function*() {
    const windowMillis = yield* validateWindow(options?.window)
    const rate = options?.rate ?? DEFAULT_CALLBACK_RATE
    if (typeof rate !== "number" || !(rate > 0) || rate > MAX_CALLBACK_RATE) {
      return yield* invalid("rate", `must be a positive number of callbacks per second, at most ${MAX_CALLBACK_RATE}`)
    }
    const capacity = options?.capacity ?? capacityFor(rate, windowMillis)
    if (!Number.isSafeInteger(capacity) || capacity < 1) return yield* invalid("capacity", "must be a positive integer")
    const pendingMillis = Duration.toMillis(
      yield* boundedDuration("pendingTimeout", options?.pendingTimeout ?? DEFAULT_PENDING_TIMEOUT)
    )
    // Expiries are kept as whole seconds from the store's start: small integers, which V8 keeps without a box.
    const origin = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const secondsOf = (epochMillis: number) => Math.ceil(epochMillis / 1000) - origin
    const millisOf = (seconds: number) => (seconds + origin) * 1000

    /** Applied nonce → expiry (seconds from origin), in the order applied. */
    const applied = new Map<string, number>()
    /** Claimed nonce → its claim, in the order claimed (so by `until`, the timeout being one for all). */
    const pending = new Map<string, Pending>()
    let lastToken = 0
    /** No live applied nonce expires before this (epoch ms): a full pass before it would free nothing. */
    let earliest = Infinity

    const sweepFront = (now: number) => {
      for (const [nonce, expiry] of applied) {
        if (millisOf(expiry) >= now) break
        applied.delete(nonce)
      }
      for (const [nonce, claim] of pending) {
        if (claim.until >= now) break
        pending.delete(nonce)
      }
    }
    const sweepAll = (now: number) => {
      earliest = Infinity
      for (const [nonce, expiry] of applied) {
        const expiresAt = millisOf(expiry)
        if (expiresAt < now) applied.delete(nonce)
        else earliest = Math.min(earliest, expiresAt)
      }
    }

    const claim: NonceStore["claim"] = (nonce, expiresAt) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        sweepFront(now)
        const expiry = applied.get(nonce)
        if (expiry !== undefined && millisOf(expiry) >= now) return Effect.succeed(APPLIED)
        const held = pending.get(nonce)
        if (held !== undefined && held.until >= now) return Effect.succeed(PENDING)
        const token = ++lastToken
        // Past its window already: the freshness check refuses any replay of it, so it need not be kept.
        if (expiresAt < now) return Effect.succeed(claimed(token))
        if (applied.size + pending.size >= capacity && now > earliest) sweepAll(now)
        if (applied.size + pending.size >= capacity) {
          return Effect.fail(
            new CallbackUnavailableError({ reason: `the nonce store is full (${capacity} unexpired nonces)` })
          )
        }
        // Deleted first, so that a lapsed claim's nonce goes to the back, in `until` order.
        pending.delete(nonce)
        pending.set(nonce, { token, until: now + pendingMillis })
        return Effect.succeed(claimed(token))
      })

    const commit: NonceStore["commit"] = (nonce, token, expiresAt) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (pending.get(nonce)?.token === Number(token)) pending.delete(nonce)
        if (expiresAt < now) return Effect.void
        applied.delete(nonce)
        applied.set(nonce, secondsOf(expiresAt))
        earliest = Math.min(earliest, millisOf(secondsOf(expiresAt)))
        return Effect.void
      })

    const release: NonceStore["release"] = (nonce, token) =>
      Effect.sync(() => {
        if (pending.get(nonce)?.token === Number(token)) pending.delete(nonce)
      })
    return { claim, commit, release }
  })

/**
 * A {@link NonceStore} to use instead of the in-memory one (the Redis package provides one shared by processes).
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // Every receiver built below takes its nonces from this store (with @effect-zego/redis: `RedisNonceStore.layer`).
 * const NoncesLive = Layer.effect(Callback.CallbackNonceStore, Callback.memoryNonceStore({ capacity: 10_000 }))
 * const ReceiverLive = Callback.layer({ secret: Redacted.make("callback-secret") }).pipe(Layer.provide(NoncesLive))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class CallbackNonceStore extends Context.Tag("@effect-zego/core/CallbackNonceStore")<
  CallbackNonceStore,
  NonceStore
>() {}

// ---------------------------------------------------------------------------------------------------------------
// The receiver
// ---------------------------------------------------------------------------------------------------------------

/**
 * A receiver: parse (a body that is not one is 400), verify (401; a full or unreachable nonce store 503), decode (a
 * signed body whose stream fields are malformed is 400, and its nonce is given back). The nonce store is
 * `options.nonces`, else the {@link CallbackNonceStore} service if provided, else a new {@link memoryNonceStore}.
 * Fails with `InvalidRequestError` when an option is invalid.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const secret = Redacted.make("callback-secret")
 * const timestamp = String(Math.floor(Date.now() / 1000))
 * const body = JSON.stringify({
 *   event: "room_create",
 *   appid: "1234567890",
 *   timestamp,
 *   nonce: "123412",
 *   signature: Callback.signature(secret, timestamp, "123412")
 * })
 * const program = Effect.flatMap(
 *   Callback.makeReceiver({ secret, window: "1 minute" }),
 *   (receiver) => receiver.receive({ body })
 * )
 * Effect.runPromise(program).then((event) => assert.strictEqual(event.event, "room_create"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeReceiver = (options: ReceiverOptions): Effect.Effect<Receiver, InvalidRequestError> =>
  Effect.gen(function*() {
    if (typeof options !== "object" || options === null) return yield* invalid("options", "must be an object")
    const secret = yield* validateSecret(options.secret)
    const windowMillis = yield* validateWindow(options.window)
    const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
      return yield* invalid("maxBodyBytes", "must be a positive integer")
    }
    if (options.nonces !== undefined && !isNonceStore(options.nonces)) {
      return yield* invalid("nonces", "must be a NonceStore (claim, commit and release)")
    }
    const provided = yield* Effect.serviceOption(CallbackNonceStore)
    const nonces = options.nonces ??
      (Option.isSome(provided)
        ? provided.value
        : yield* memoryNonceStore({ rate: options.rate, window: Duration.millis(windowMillis) }))
    const valid: ValidVerifyOptions = { secret, windowMillis, nonces }
    const parseOptions: ParseOptions = { maxBodyBytes }
    /**
     * Each event returned and not yet settled → its claim (gone with the event if it is never settled); the claim
     * only, not the verified fields, which hold the body's values.
     */
    const claims = new WeakMap<Event, Pick<Verified, "nonce" | "token" | "expiresAt">>()

    const verifyAndDecode = (fields: Fields) =>
      Effect.flatMap(verifyValid(fields, valid), (verified) => {
        const event = decode(verified.fields)
        if (Either.isLeft(event)) {
          return Effect.zipRight(nonces.release(verified.nonce, verified.token), Effect.fail(event.left))
        }
        claims.set(event.right, { nonce: verified.nonce, token: verified.token, expiresAt: verified.expiresAt })
        return Effect.succeed(event.right)
      })

    // The span says what was decided (the event's kind, or the error's tag), never a field of the body.
    const receive: Receiver["receive"] = (incoming) =>
      Effect.flatMap(parse(incoming, parseOptions), verifyAndDecode).pipe(
        Effect.tap((event) => Effect.annotateCurrentSpan("zego.callback.event", event._tag)),
        Effect.tapError((error) => Effect.annotateCurrentSpan("zego.callback.error", error._tag)),
        Effect.withSpan("Callback.receive", { kind: "server" })
      )

    const settle = <E>(
      event: Event,
      how: (claim: Pick<Verified, "nonce" | "token" | "expiresAt">) => Effect.Effect<void, E>
    ): Effect.Effect<void, E> =>
      Effect.suspend(() => {
        const claim = claims.get(event)
        if (claim === undefined) return Effect.void
        claims.delete(event)
        return how(claim)
      })
    const commit: Receiver["commit"] = (event) =>
      settle(event, (claim) => nonces.commit(claim.nonce, claim.token, claim.expiresAt))
    const release: Receiver["release"] = (event) => settle(event, (claim) => nonces.release(claim.nonce, claim.token))
    return { receive, commit, release, maxBodyBytes }
  })

/**
 * The receiver as a service.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // An HTTP handler's core: the body in, the event out (or the error that says the status).
 * const handle = (body: Uint8Array, contentType: string | undefined) =>
 *   Effect.flatMap(Callback.CallbackReceiver, (receiver) => receiver.receive({ body, contentType }))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class CallbackReceiver extends Context.Tag("@effect-zego/core/CallbackReceiver")<CallbackReceiver, Receiver>() {}

/**
 * The options read from `ZEGO_CALLBACK_SECRET` (required), `ZEGO_CALLBACK_WINDOW` (a duration, optional) and
 * `ZEGO_CALLBACK_RATE` (callbacks per second the default nonce store takes, optional).
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 *
 * const options = Callback.configFromEnv.pipe(
 *   Effect.withConfigProvider(
 *     ConfigProvider.fromMap(new Map([["ZEGO_CALLBACK_SECRET", "s"], ["ZEGO_CALLBACK_WINDOW", "2 minutes"]]))
 *   )
 * )
 * Effect.runPromise(options).then((o) => assert.strictEqual(o.window !== undefined, true))
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const configFromEnv: Config.Config<ReceiverOptions> = Config.all({
  secret: Config.redacted("ZEGO_CALLBACK_SECRET"),
  window: Config.option(Config.duration("ZEGO_CALLBACK_WINDOW")),
  rate: Config.option(Config.number("ZEGO_CALLBACK_RATE"))
}).pipe(
  Config.map(({ rate, secret, window }) => ({
    secret,
    window: Option.getOrUndefined(window),
    rate: Option.getOrUndefined(rate)
  }))
)

/**
 * The receiver as a layer.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Redacted from "effect/Redacted"
 *
 * const ReceiverLive = Callback.layer({ secret: Redacted.make("callback-secret"), window: "2 minutes" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ReceiverOptions): Layer.Layer<CallbackReceiver, InvalidRequestError> =>
  Layer.effect(CallbackReceiver, makeReceiver(options))

/**
 * The receiver as a layer, its options read through Effect `Config` (by default {@link configFromEnv}).
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import * as Config from "effect/Config"
 *
 * // From ZEGO_CALLBACK_SECRET and ZEGO_CALLBACK_WINDOW …
 * const ReceiverLive = Callback.layerConfig()
 * // … or from a variable of your own.
 * const OwnLive = Callback.layerConfig({ secret: Config.redacted("MY_CALLBACK_SECRET") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<ReceiverOptions> = configFromEnv as Config.Config.Wrap<ReceiverOptions>
): Layer.Layer<CallbackReceiver, ConfigError.ConfigError | InvalidRequestError> =>
  Layer.effect(CallbackReceiver, Effect.flatMap(Config.unwrap(config), makeReceiver))
