/**
 * Schemas of the parameters of an RTMP dispatch call: what a caller may pass, checked before anything is sent.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const UINT32_MAX = 4_294_967_295
const INT64_MAX = 9_223_372_036_854_775_807n

/**
 * The server API actions this library calls: the two dispatch actions (`RTMPDispatchV2` answers RTMP URLs,
 * `RTMPDispatch` answers `host:port`) and the actions around a stream (its state, forbidding and resuming it,
 * announcing it in a room and withdrawing it).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Action = Schema.Literal(
  "RTMPDispatchV2",
  "RTMPDispatch",
  "DescribeRTCStreamState",
  "ForbidRTCStream",
  "ResumeRTCStream",
  "AddStream",
  "DeleteStream"
).annotations({ identifier: "Action" })
/**
 * @since 0.1.0
 * @category models
 */
export type Action = typeof Action.Type

/**
 * The dispatch actions alone.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DispatchAction = Schema.Literal("RTMPDispatchV2", "RTMPDispatch").annotations({
  identifier: "DispatchAction"
})
/**
 * @since 0.1.0
 * @category models
 */
export type DispatchAction = typeof DispatchAction.Type

/**
 * A ZEGOCLOUD AppId: an unsigned 32-bit integer.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AppId = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 0 && n <= UINT32_MAX, {
    message: () => `AppId must be an unsigned 32-bit integer (0 to ${UINT32_MAX})`
  })
).annotations({ identifier: "AppId", arbitrary: () => (fc) => fc.integer({ min: 0, max: UINT32_MAX }) })

/**
 * A stream id: 1 to 256 ASCII letters, digits, `-` or `_`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamId = Schema.String.pipe(
  Schema.filter((s) => /^[A-Za-z0-9_-]{1,256}$/.test(s), {
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
 * @since 0.1.0
 * @category schemas
 */
export const DispatchType = Schema.Literal("push", "pull").annotations({ identifier: "DispatchType" })
/**
 * @since 0.1.0
 * @category models
 */
export type DispatchType = typeof DispatchType.Type

/**
 * The dispatch mode a caller may pass: `publish` (the old page's word) is accepted and normalised to `push`.
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
 * A client IP: an IPv4 dotted quad. The server does not support IPv6.
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
 * @since 0.1.0
 * @category models
 */
export type Sequence = typeof Sequence.Type

/**
 * What a caller passes to a dispatch.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DispatchRequest = Schema.Struct({
  streamId: StreamId,
  type: DispatchTypeInput,
  clientIp: Schema.optional(ClientIp),
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
 * @since 0.1.0
 * @category schemas
 */
export const Region = Schema.Literal("unified", "sha", "hkg", "fra", "lax", "bom", "sgp").annotations({
  identifier: "Region",
  message: () => "Region must be one of unified, sha, hkg, fra, lax, bom, sgp"
})
/**
 * @since 0.1.0
 * @category models
 */
export type Region = typeof Region.Type

/**
 * The https base URL of a region.
 *
 * @since 0.1.0
 * @category utils
 */
export const regionBaseUrl = (region: Region): string =>
  region === "unified" ? "https://rtc-api.zego.im" : `https://rtc-api-${region}.zego.im`

/**
 * The prefix ZEGOCLOUD's test environment requires on every stream id of an app.
 *
 * @since 0.1.0
 * @category utils
 */
export const testStreamPrefix = (appId: number): string => `zegotest-${appId}-`

const encoder = new TextEncoder()

/**
 * The length of a text in UTF-8 bytes, as the server counts its limits.
 *
 * @since 0.1.0
 * @category utils
 */
export const utf8Bytes = (text: string): number => encoder.encode(text).length

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * A text parameter: well-formed (a lone surrogate has no UTF-8 form, so it could not be sent) and at most `max`
 * UTF-8 bytes, `min` characters at least.
 *
 * @since 0.1.0
 * @category utils
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
 * @since 0.1.0
 * @category schemas
 */
export const RoomId = Utf8Text("RoomId", { min: 1, maxBytes: 1024 })
/**
 * A user id (`UserId`): non-empty text, at most 1024 UTF-8 bytes (this library's bound: the docs give none).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserId = Utf8Text("UserId", { min: 1, maxBytes: 1024 })
/**
 * A user name (`UserName`): at most 1024 UTF-8 bytes (this library's bound: the docs give none).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserName = Utf8Text("UserName", { min: 0, maxBytes: 1024 })
/**
 * A stream title (`StreamTitle`): at most 127 UTF-8 bytes.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamTitle = Utf8Text("StreamTitle", { min: 0, maxBytes: 127 })
/**
 * A stream's extra information (`ExtraInfo`): at most 1024 UTF-8 bytes.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExtraInfo = Utf8Text("ExtraInfo", { min: 0, maxBytes: 1024 })
