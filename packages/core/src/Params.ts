/**
 * Schemas of the parameters of an RTMP dispatch call: what a caller may pass, checked before anything is sent.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Actions from "./Actions.js"

const UINT32_MAX = 4_294_967_295
/**
 * The largest Int64, the bound of a `Sequence`.
 *
 * @since 0.1.0
 * @category constants
 */
export const INT64_MAX = 9_223_372_036_854_775_807n

/**
 * The server API actions this library calls: the two dispatch actions (`RTMPDispatchV2` answers RTMP URLs,
 * `RTMPDispatch` answers `host:port`) and the actions around a stream (its state, forbidding and resuming it,
 * announcing it in a room and withdrawing it).
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.Action)("DescribeRTCStreamState"), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Action = Schema.Literal(...Actions.names).annotations({ identifier: "Action" })
/**
 * An action name.
 *
 * @since 0.1.0
 * @category models
 */
export type Action = typeof Action.Type

/**
 * The dispatch actions alone.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.DispatchAction)("AddStream"), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const DispatchAction = Schema.Literal("RTMPDispatchV2", "RTMPDispatch").annotations({
  identifier: "DispatchAction"
})
/**
 * A dispatch action name.
 *
 * @since 0.1.0
 * @category models
 */
export type DispatchAction = typeof DispatchAction.Type

/**
 * A ZEGOCLOUD AppId: an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.AppId)(1234567890), true)
 * assert.strictEqual(Schema.is(Params.AppId)(-1), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const AppId = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 0 && n <= UINT32_MAX, {
    message: () => `AppId must be an unsigned 32-bit integer (0 to ${UINT32_MAX})`
  })
).annotations({ identifier: "AppId", arbitrary: () => (fc) => fc.integer({ min: 0, max: UINT32_MAX }) })

const STREAM_ID = /^[A-Za-z0-9_-]{1,256}$/

/**
 * Whether `s` is a {@link StreamId} (a plain test, for a hot path that already holds a string).
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 *
 * assert.strictEqual(Params.isStreamId("room1-host_2"), true)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const isStreamId = (s: string): boolean => STREAM_ID.test(s)

/**
 * A stream id: 1 to 256 ASCII letters, digits, `-` or `_`.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.StreamId)("room1-host_2"), true)
 * assert.strictEqual(Schema.is(Params.StreamId)("room 1"), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamId = Schema.String.pipe(
  Schema.filter(isStreamId, {
    message: (issue) => {
      // Also called when the value is not a string at all.
      const s = issue.actual
      if (typeof s !== "string") return "StreamId must be a string of 1 to 256 ASCII letters, digits, '-' or '_'"
      return s.length === 0 || s.length > 256
        ? `StreamId must be 1 to 256 characters long (got ${s.length})`
        : "StreamId may contain only ASCII letters, digits, '-' and '_'"
    }
  })
).annotations({
  identifier: "StreamId",
  arbitrary: () => (fc) => fc.stringMatching(/^[A-Za-z0-9_-]{1,256}$/)
})

/**
 * The dispatch mode as the server takes it.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.DispatchType)("pull"), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const DispatchType = Schema.Literal("push", "pull").annotations({ identifier: "DispatchType" })
/**
 * `push` or `pull`.
 *
 * @since 0.1.0
 * @category models
 */
export type DispatchType = typeof DispatchType.Type

/**
 * The dispatch mode a caller may pass: `publish` (the old page's word) is accepted and normalised to `push`.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.decodeSync(Params.DispatchTypeInput)("publish"), "push")
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const DispatchTypeInput = Schema.transform(
  Schema.Literal("push", "pull", "publish").annotations({
    message: () => "Type must be \"push\" (or its alias \"publish\") or \"pull\""
  }),
  DispatchType,
  { strict: true, decode: (type) => (type === "publish" ? "push" : type), encode: (type) => type }
).annotations({ identifier: "DispatchTypeInput" })

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

/**
 * Whether `text` is a dotted-quad IPv4 address (no leading zeros, each part at most 255).
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 *
 * assert.strictEqual(Params.isIpv4("203.0.113.7"), true)
 * assert.strictEqual(Params.isIpv4("203.0.113.07"), false)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const isIpv4 = (text: string): boolean => IPV4.test(text)

/**
 * A client IP: an IPv4 dotted quad. The server does not support IPv6.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.ClientIp)("203.0.113.7"), true)
 * assert.strictEqual(Schema.is(Params.ClientIp)("::1"), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ClientIp = Schema.String.pipe(
  Schema.filter((s) => IPV4.test(s), {
    message: (issue) =>
      String(issue.actual).includes(":")
        ? "ClientIP must be IPv4: the ZEGOCLOUD server does not support IPv6 addresses"
        : "ClientIP must be an IPv4 dotted quad such as 203.0.113.7"
  })
).annotations({ identifier: "ClientIp", arbitrary: () => (fc) => fc.ipV4() })

/**
 * A sequence number for reconciliation: a non-negative Int64, as a safe integer or a bigint.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.Sequence)(42), true)
 * assert.strictEqual(Schema.is(Params.Sequence)(9_223_372_036_854_775_807n), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Sequence = Schema.Union(
  Schema.Number.pipe(
    Schema.filter((n) => Number.isSafeInteger(n) && n >= 0, {
      message: () => "Sequence must be a non-negative integer (use a bigint above 2^53)"
    })
  ).annotations({ arbitrary: () => (fc) => fc.maxSafeNat() }),
  Schema.BigIntFromSelf.pipe(
    Schema.filter((n) => n >= 0n && n <= INT64_MAX, { message: () => "Sequence must fit in a non-negative Int64" })
  ).annotations({ arbitrary: () => (fc) => fc.bigInt({ min: 0n, max: INT64_MAX }) })
).annotations({ identifier: "Sequence" })
/**
 * A sequence number: a safe integer or a bigint.
 *
 * @since 0.1.0
 * @category models
 */
export type Sequence = typeof Sequence.Type

/**
 * What a caller passes to a dispatch.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const request = Schema.decodeUnknownSync(Params.DispatchRequest)({ streamId: "s1", type: "publish" })
 * assert.strictEqual(request.type, "push")
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const DispatchRequest = Schema.Struct({
  streamId: StreamId,
  type: DispatchTypeInput,
  clientIp: Schema.optional(ClientIp),
  /** The first attempt's `Sequence` (a retry sends the numbers just above it); default: a fresh one per attempt. */
  sequence: Schema.optional(Sequence)
}).annotations({ identifier: "DispatchRequest" })

/**
 * A dispatch request as a caller writes it (`type` may be `publish`).
 *
 * @since 0.1.0
 * @category models
 */
export type DispatchRequest = typeof DispatchRequest.Encoded

/**
 * The ZEGOCLOUD API regions; `unified` is the global entry point.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.Region)("fra"), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Region = Schema.Literal("unified", "sha", "hkg", "fra", "lax", "bom", "sgp").annotations({
  identifier: "Region",
  message: () => "Region must be one of unified, sha, hkg, fra, lax, bom, sgp"
})
/**
 * A region name.
 *
 * @since 0.1.0
 * @category models
 */
export type Region = typeof Region.Type

/**
 * The https base URL of a region.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 *
 * assert.strictEqual(Params.regionBaseUrl("unified"), "https://rtc-api.zego.im")
 * assert.strictEqual(Params.regionBaseUrl("fra"), "https://rtc-api-fra.zego.im")
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const regionBaseUrl = (region: Region): string =>
  region === "unified" ? "https://rtc-api.zego.im" : `https://rtc-api-${region}.zego.im`

/**
 * The prefix ZEGOCLOUD's test environment requires on every stream id of an app.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 *
 * assert.strictEqual(Params.testStreamPrefix(1234567890), "zegotest-1234567890-")
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const testStreamPrefix = (appId: number): string => `zegotest-${appId}-`

const encoder = new TextEncoder()

/**
 * The length of a text in UTF-8 bytes, as the server counts its limits.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 *
 * assert.strictEqual(Params.utf8Bytes("é"), 2)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const utf8Bytes = (text: string): number => encoder.encode(text).length

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Whether `text` holds a lone surrogate: it is not well-formed, has no UTF-8 form, and cannot be sent or signed.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 *
 * assert.strictEqual(Params.hasLoneSurrogate("a\uD800b"), true)
 * assert.strictEqual(Params.hasLoneSurrogate("😀"), false)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const hasLoneSurrogate = (text: string): boolean => LONE_SURROGATE.test(text)

/**
 * A text parameter: well-formed (a lone surrogate has no UTF-8 form, so it could not be sent) and at most `max`
 * UTF-8 bytes, `min` characters at least.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const Nickname = Params.Utf8Text("Nickname", { min: 1, maxBytes: 32 })
 * assert.strictEqual(Schema.is(Nickname)("Ada"), true)
 * assert.strictEqual(Schema.is(Nickname)(""), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Utf8Text = (name: string, options: { readonly min: number; readonly maxBytes: number }) =>
  Schema.String.pipe(
    Schema.filter((s) => {
      if (s.length < options.min) return `${name} must not be empty`
      if (LONE_SURROGATE.test(s)) return `${name} must be well-formed text (it holds a lone surrogate)`
      const bytes = utf8Bytes(s)
      return bytes <= options.maxBytes || `${name} must be at most ${options.maxBytes} UTF-8 bytes (got ${bytes})`
    })
  ).annotations({
    identifier: name,
    arbitrary: () => (fc) =>
      fc.string({ minLength: Math.max(options.min, 1), maxLength: Math.floor(options.maxBytes / 4) })
  })

/**
 * A room id (`RoomId`): non-empty text, at most 1024 UTF-8 bytes (this library's bound: the docs give none).
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.RoomId)("room-1"), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const RoomId = Utf8Text("RoomId", { min: 1, maxBytes: 1024 })
/**
 * A user id (`UserId`): non-empty text, at most 1024 UTF-8 bytes (this library's bound: the docs give none).
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.UserId)(""), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserId = Utf8Text("UserId", { min: 1, maxBytes: 1024 })
/**
 * A user name (`UserName`): at most 1024 UTF-8 bytes (this library's bound: the docs give none).
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.UserName)("Ada Lovelace"), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserName = Utf8Text("UserName", { min: 0, maxBytes: 1024 })
/**
 * A stream title (`StreamTitle`): at most 127 UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.StreamTitle)("x".repeat(128)), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamTitle = Utf8Text("StreamTitle", { min: 0, maxBytes: 127 })
/**
 * A stream's extra information (`ExtraInfo`): at most 1024 UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.ExtraInfo)(JSON.stringify({ camera: "front" })), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExtraInfo = Utf8Text("ExtraInfo", { min: 0, maxBytes: 1024 })

const CDN_URL_MAX_BYTES = 2048
// Whitespace and controls: `URL` would drop some of them silently, so the address sent would not be the one given.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const URL_UNSAFE = /[\u0000-\u0020\u007f-\u009f]/

/** Why a text is not a relay target, or `undefined` when it is one. */
const cdnUrlProblem = (s: string): string | undefined => {
  if (LONE_SURROGATE.test(s)) return "CDNUrl must be well-formed text (it holds a lone surrogate)"
  if (utf8Bytes(s) > CDN_URL_MAX_BYTES) return `CDNUrl must be at most ${CDN_URL_MAX_BYTES} UTF-8 bytes`
  if (URL_UNSAFE.test(s)) return "CDNUrl must not contain spaces or control characters"
  let url: URL
  try {
    url = new URL(s)
  } catch {
    return "CDNUrl must be a URL such as rtmp://live.example.com/app/stream-key"
  }
  if (url.protocol !== "rtmp:" && url.protocol !== "rtmps:") {
    return `CDNUrl must be an rtmp:// or rtmps:// URL (got ${url.protocol.slice(0, 16)}//)`
  }
  if (url.hostname === "") return "CDNUrl must name a host: rtmp://<host>[:port]/<app>/<stream key>"
  return undefined
}

/**
 * The target of a relay (`CDNUrl`): an `rtmp://` or `rtmps://` URL with a host, the whole ingest address (application
 * and stream key included), at most 2048 UTF-8 bytes (this library's bound: the docs give none).
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(Params.CdnUrl)("rtmp://a.rtmp.youtube.com/live2/xxxx-xxxx"), true)
 * assert.strictEqual(Schema.is(Params.CdnUrl)("https://example.com/live"), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const CdnUrl = Schema.String.pipe(
  Schema.filter((s) => cdnUrlProblem(s) ?? true)
).annotations({
  identifier: "CdnUrl",
  arbitrary: () => (fc) =>
    fc.tuple(fc.constantFrom("rtmp", "rtmps"), fc.domain(), fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/)).map(
      ([scheme, host, key]) => `${scheme}://${host}/live/${key}`
    )
})

const MASK = "****"
/** The shortest stream key whose last 4 characters a masked URL shows: of a shorter one, 4 would give too much away. */
const KEY_TAIL_FROM = 16

/**
 * A relay target (`CDNUrl`) with its secrets masked, for whatever prints, logs or records it: the CDN's stream key
 * is a secret. The scheme, host, port and application path are kept; the stream key (the last segment of the path)
 * becomes `****` and its last 4 characters (`****` alone for a key shorter than 16 characters); a query, a fragment
 * and user info become `****` each; a text that is not a URL is `****` whole. What is sent to ZEGOCLOUD is the URL
 * itself, unmasked.
 *
 * @example
 * ```ts
 * import { Params } from "@effect-zego/core"
 *
 * assert.strictEqual(
 *   Params.maskCdnUrl("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop"),
 *   "rtmp://a.rtmp.youtube.com/live2/****mnop"
 * )
 * // A short key, and a query (some CDNs put a token there), show nothing.
 * assert.strictEqual(
 *   Params.maskCdnUrl("rtmps://cdn.example.com:443/app/key?token=t0k3n"),
 *   "rtmps://cdn.example.com:443/app/****?****"
 * )
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const maskCdnUrl = (cdnUrl: string): string => {
  let url: URL
  try {
    url = new URL(cdnUrl)
  } catch {
    return MASK
  }
  const segments = url.pathname.split("/")
  const key = segments.pop() ?? ""
  const maskedKey = key === "" ? "" : key.length < KEY_TAIL_FROM ? MASK : MASK + key.slice(-4)
  const path = url.pathname === "" ? "" : `${segments.join("/")}/${maskedKey}`
  const userInfo = url.username === "" && url.password === "" ? "" : `${MASK}@`
  return `${url.protocol}//${userInfo}${url.host}${path}${url.search === "" ? "" : `?${MASK}`}${
    url.hash === "" ? "" : `#${MASK}`
  }`
}
