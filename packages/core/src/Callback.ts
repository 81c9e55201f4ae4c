/**
 * ZEGOCLOUD's server callbacks (`stream_create`, `stream_close`, and any other event): their signature, and their
 * decoding into typed events with every number kept whole (a `room_session_id` can exceed 2^53).
 *
 * The signature: sort the callback secret, `timestamp` and `nonce` as strings, concatenate, SHA-1, lowercase hex.
 * SHA-1 comes from `js-sha1` (the same author and shape as `js-md5`, no dependencies, every runtime): WebCrypto's
 * digest is asynchronous and the core must not import `node:crypto`.
 *
 * Receiving a callback (parsing its body, a freshness window and replay refusal, since the signature covers neither
 * the body nor a time limit) is `CallbackReceiver`'s; its errors are in `CallbackError`, its nonces in
 * `CallbackNonceStore`.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { sha1 } from "js-sha1"
import { CallbackDecodeError } from "./CallbackError.js"
import { detach } from "./internal/detach.js"
import * as LosslessJson from "./internal/losslessJson.js"
import { hasLoneSurrogate } from "./Params.js"
import { hasUnsafeCharacters } from "./Untrusted.js"

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
 * @since 0.1.0
 * @category models
 */
export type CloseReason = typeof CloseReason.Type

/**
 * What every verified callback carries.
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
 * @since 0.1.0
 * @category models
 */
export type Event = StreamCreated | StreamClosed | UnknownEvent

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
 * import { Callback, CallbackReceiver } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const fields: Callback.Fields = Effect.runSync(CallbackReceiver.parse({ body: "rtmp_url[]=a&rtmp_url[]=b&stream_id=s1" }))
 * assert.deepStrictEqual(fields.rtmp_url, ["a", "b"])
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Fields = Readonly<Record<string, string | ReadonlyArray<string>>>

/**
 * The deepest nesting a JSON body may have (the body's own object is 1; `stream_attr` as an object is 2).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_DEPTH = 8
/**
 * The most fields a body may have.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_FIELDS = 256
/**
 * The most values (fields, list items, nested values) in one body.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_VALUES = 4096

const decodeError = (reason: string) => new CallbackDecodeError({ reason })

/**
 * The most fields an {@link UnknownEvent} keeps (in the body's order).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_UNKNOWN_FIELDS = 64
/**
 * The longest value an {@link UnknownEvent} keeps; a list is joined with `,` before it is cut.
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
    if (hasUnsafeCharacters(value) || hasLoneSurrogate(value)) {
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

const common = (read: Reader): Common => ({
  event: read.identifier("event", true),
  appId: read.uint32("appid"),
  timestamp: Number(read.digits("timestamp", read.required("timestamp"), 12)),
  nonce: read.identifier("nonce", true)
})

// The events are built as single object literals, each field named (no spread): V8 copies a spread into a new
// object field by field through a slow path, which made decoding a callback several times slower.
const streamFields = (read: Reader): StreamFields => {
  const roomSessionId = read.optional("room_session_id") ?? ""
  const { appId, event, nonce, timestamp } = common(read)
  return {
    event,
    appId,
    timestamp,
    nonce,
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
  const stream = streamFields(read)
  return {
    _tag: "StreamCreated",
    event: stream.event,
    appId: stream.appId,
    timestamp: stream.timestamp,
    nonce: stream.nonce,
    streamId: stream.streamId,
    roomId: stream.roomId,
    roomSessionId: stream.roomSessionId,
    streamSeq: stream.streamSeq,
    userId: stream.userId,
    userName: stream.userName,
    channelId: stream.channelId,
    streamSid: stream.streamSid,
    streamAlias: stream.streamAlias,
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
  const stream = streamFields(read)
  return {
    _tag: "StreamClosed",
    event: stream.event,
    appId: stream.appId,
    timestamp: stream.timestamp,
    nonce: stream.nonce,
    streamId: stream.streamId,
    roomId: stream.roomId,
    roomSessionId: stream.roomSessionId,
    streamSeq: stream.streamSeq,
    userId: stream.userId,
    userName: stream.userName,
    channelId: stream.channelId,
    streamSid: stream.streamSid,
    streamAlias: stream.streamAlias,
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
    const { appId, nonce, timestamp } = common(read)
    return Either.right({ _tag: "UnknownEvent", event, appId, timestamp, nonce, fields: unknownFields(fields) })
  } catch (error) {
    return Either.left(error instanceof CallbackDecodeError ? error : decodeError("the fields could not be read"))
  }
}
