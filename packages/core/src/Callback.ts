/**
 * ZEGOCLOUD's server callbacks (`stream_create`, `stream_close`, and any other event): their signature, a freshness
 * window and replay refusal (the signature covers neither the body nor a time limit), and their decoding into typed
 * events with every number kept whole (a `room_session_id` can exceed 2^53).
 *
 * The signature: sort the callback secret, `timestamp` and `nonce` as strings, concatenate, SHA-1, lowercase hex.
 * SHA-1 comes from `js-sha1` (the same author and shape as `js-md5`, no dependencies, every runtime): WebCrypto's
 * digest is asynchronous and the core must not import `node:crypto`.
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { sha1 } from "js-sha1"

// ---------------------------------------------------------------------------------------------------------------
// Errors. None carries the secret, the signature or the body: only what the receiver decided and why.
// ---------------------------------------------------------------------------------------------------------------

/** The `signature` is missing or does not match the callback secret, `timestamp` and `nonce`. Answer 401. */
export class CallbackSignatureError extends Schema.TaggedError<CallbackSignatureError>()("CallbackSignatureError", {
  reason: Schema.Literal("missing", "mismatch")
}) {
  override get message() {
    return this.reason === "missing"
      ? "CallbackSignatureError: the callback carries no signature, timestamp or nonce."
      : "CallbackSignatureError: the callback's signature does not match the callback secret: check the secret."
  }
}

/** The callback's `timestamp` lies outside the freshness window (past or future). Answer 401. */
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

/** The callback's `nonce` was already taken within the window: a replay (or a retry of one already applied). */
export class CallbackReplayError extends Schema.TaggedError<CallbackReplayError>()("CallbackReplayError", {}) {
  override get message() {
    return "CallbackReplayError: this callback's nonce was already received within the freshness window."
  }
}

/** The body is not a callback: not JSON or a form, too large or deep, or a field missing or malformed. Answer 400. */
export class CallbackDecodeError extends Schema.TaggedError<CallbackDecodeError>()("CallbackDecodeError", {
  /** What is wrong, in our words (never the body's text). */
  reason: Schema.String
}) {
  override get message() {
    return `CallbackDecodeError: ${this.reason}`
  }
}

/** The nonce store is full of unexpired nonces (or unreachable): refuse for now so that ZEGOCLOUD retries. 503. */
export class CallbackUnavailableError
  extends Schema.TaggedError<CallbackUnavailableError>()("CallbackUnavailableError", {
    reason: Schema.String
  })
{
  override get message() {
    return `CallbackUnavailableError: ${this.reason}; ZEGOCLOUD will retry.`
  }
}

/** Every error of receiving a callback. */
export type CallbackError =
  | CallbackSignatureError
  | CallbackExpiredError
  | CallbackReplayError
  | CallbackDecodeError
  | CallbackUnavailableError

// ---------------------------------------------------------------------------------------------------------------
// Signature
// ---------------------------------------------------------------------------------------------------------------

/** The signature ZEGOCLOUD puts in a callback: SHA-1 of the sorted secret, timestamp and nonce, lowercase hex. */
export const signature = (secret: Redacted.Redacted<string>, timestamp: string, nonce: string): string =>
  sha1([Redacted.value(secret), timestamp, nonce].sort().join(""))

// ---------------------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------------------

/** `stream_close`'s `type`, named: 0 … 5, and 100 (`DeleteStream`); any other code is `unknown`. */
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
export type CloseReason = typeof CloseReason.Type

/** What every verified callback carries. */
export interface Common {
  /** The `event` field as sent (`stream_create`, `stream_close`, …). */
  readonly event: string
  readonly appId: number
  /** The callback's `timestamp`, Unix seconds. */
  readonly timestamp: number
  readonly nonce: string
}

/** What both stream events carry. */
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

/** `stream_create`: a publisher started. */
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

/** `stream_close`: a stream ended. */
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

/** Any other event: kept, not failed, with its fields as strings (bounded in number and length). */
export interface UnknownEvent extends Common {
  readonly _tag: "UnknownEvent"
  readonly fields: Readonly<Record<string, string>>
}

/** A verified, decoded callback. */
export type Event = StreamCreated | StreamClosed | UnknownEvent

// ---------------------------------------------------------------------------------------------------------------
// Nonces
// ---------------------------------------------------------------------------------------------------------------

/**
 * Where taken nonces are kept for the freshness window. The in-memory {@link memoryNonceStore} is the default; the
 * Redis package offers one shared by several processes.
 */
export interface NonceStore {
  /** Takes `nonce` until `expiresAt` (epoch ms): `true` the first time, `false` if it is taken. */
  readonly take: (nonce: string, expiresAt: number) => Effect.Effect<boolean, CallbackUnavailableError>
  /** Gives a taken nonce back (the event could not be applied, so ZEGOCLOUD's retry must be let through). */
  readonly release: (nonce: string) => Effect.Effect<void>
}

// ---------------------------------------------------------------------------------------------------------------
// Receiving
// ---------------------------------------------------------------------------------------------------------------

/** Options of {@link makeReceiver}. */
export interface ReceiverOptions {
  /** The project's callback secret (ZEGOCLOUD console). */
  readonly secret: Redacted.Redacted<string>
  /** How far a `timestamp` may be from this clock, either way. Default 5 minutes. */
  readonly window?: Duration.DurationInput | undefined
  /** Default: {@link memoryNonceStore} with its default capacity. */
  readonly nonces?: NonceStore | undefined
  /** The largest body read, in bytes. Default 64 KiB. */
  readonly maxBodyBytes?: number | undefined
}

/** A callback's body as it arrived. */
export interface Incoming {
  readonly body: string | Uint8Array
  /** The `Content-Type` header, if any. */
  readonly contentType?: string | undefined
}

/** Receives callbacks: verifies (signature, freshness, nonce), then decodes. */
export interface Receiver {
  /** Verified and decoded, its nonce taken; fails with the first check that does not hold. */
  readonly receive: (incoming: Incoming) => Effect.Effect<Event, CallbackError>
  /** Gives an event's nonce back, for a receiver that could not apply it (so that a retry is let through). */
  readonly release: (event: Event) => Effect.Effect<void>
}
