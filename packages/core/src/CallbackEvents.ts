/**
 * Stream callbacks as `Callback.decode` gives them, built in one line, for tests of code that takes them (a
 * `StreamTracker`, a handler of verified callbacks): the fields a test is about are given, every other one is what
 * `Callback.decode` reads from a callback that omits it (empty text, no URLs, no codec).
 *
 * @example
 * ```ts
 * import { CallbackEvents } from "@effect-zego/core/testing"
 *
 * // A stream that went live, then closed: the tracker's ordering reads `streamSeq` within the room session.
 * const live = CallbackEvents.streamCreated({ streamId: "obs-1", streamSeq: 1, createdAt: 1_700_000_000_000 })
 * const ended = CallbackEvents.streamClosed({ streamId: "obs-1", streamSeq: 2, closedAt: 1_700_000_060_000 })
 * assert.strictEqual(live._tag, "StreamCreated")
 * assert.strictEqual(ended.reason, "normal")
 * ```
 *
 * @since 0.1.0
 */
import type * as Callback from "./Callback.js"

/**
 * What both builders take: the stream and its order, and what else a test may want to set.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamOptions {
  readonly streamId: string
  /** `stream_seq`: within one room session, the larger wins. */
  readonly streamSeq: number | bigint
  /** `room_session_id`. Default `1n`. */
  readonly roomSessionId?: bigint | undefined
  /** `room_id`. Default `"room"`. */
  readonly roomId?: string | undefined
  /** `appid`. Default `1`. */
  readonly appId?: number | undefined
  /** The callback's `timestamp`, Unix seconds. Default: the event's own time, in seconds. */
  readonly timestamp?: number | undefined
  /** Default `"n"`. */
  readonly nonce?: string | undefined
}

const time = (at: Date | number): Date => typeof at === "number" ? new Date(at) : at

/** The close `type` that `Callback.decode` reads as each reason (any code it does not know is `unknown`). */
const closeCodes: Record<Callback.CloseReason, number> = {
  normal: 0,
  heartbeatTimeout: 1,
  repeatedLogin: 2,
  kickedOut: 3,
  tcpDisconnect: 4,
  roomCleared: 5,
  deletedByServer: 100,
  unknown: 999
}

const stream = (options: StreamOptions, event: string, at: Date) => ({
  event,
  appId: options.appId ?? 1,
  timestamp: options.timestamp ?? Math.floor(at.getTime() / 1000),
  nonce: options.nonce ?? "n",
  streamId: options.streamId,
  roomId: options.roomId ?? "room",
  roomSessionId: options.roomSessionId ?? 1n,
  streamSeq: BigInt(options.streamSeq),
  userId: "",
  userName: "",
  channelId: "",
  streamSid: "",
  streamAlias: ""
})

/**
 * A `stream_create` event: the stream went live at `createdAt` (milliseconds or a `Date`).
 *
 * @example
 * ```ts
 * import { CallbackEvents } from "@effect-zego/core/testing"
 *
 * const event = CallbackEvents.streamCreated({ streamId: "obs-1", streamSeq: 3, createdAt: 1_700_000_000_000 })
 * assert.strictEqual(event.streamSeq, 3n)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamCreated = (
  options: StreamOptions & { readonly createdAt: Date | number }
): Callback.StreamCreated => {
  const createdAt = time(options.createdAt)
  return {
    ...stream(options, "stream_create", createdAt),
    _tag: "StreamCreated",
    createdAt,
    recreate: false,
    extraInfo: "",
    title: "",
    codec: undefined,
    rtmpUrls: [],
    hlsUrls: [],
    hdlUrls: [],
    picUrls: []
  }
}

/**
 * A `stream_close` event: the stream ended at `closedAt` (milliseconds or a `Date`), for `reason` (default
 * `"normal"`, with the close `type` ZEGOCLOUD sends for it); `createdAt`, when given, is the closed stream's start.
 *
 * @example
 * ```ts
 * import { CallbackEvents } from "@effect-zego/core/testing"
 *
 * const event = CallbackEvents.streamClosed({
 *   streamId: "obs-1",
 *   streamSeq: 4,
 *   closedAt: 1_700_000_060_000,
 *   reason: "heartbeatTimeout"
 * })
 * assert.strictEqual(event.createdAt, undefined)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamClosed = (
  options: StreamOptions & {
    readonly closedAt: Date | number
    readonly reason?: Callback.CloseReason | undefined
    readonly createdAt?: Date | number | undefined
  }
): Callback.StreamClosed => {
  const closedAt = time(options.closedAt)
  const reason = options.reason ?? "normal"
  return {
    ...stream(options, "stream_close", closedAt),
    _tag: "StreamClosed",
    reason,
    closeCode: closeCodes[reason],
    closedAt,
    createdAt: options.createdAt === undefined ? undefined : time(options.createdAt),
    thirdDefineData: ""
  }
}
