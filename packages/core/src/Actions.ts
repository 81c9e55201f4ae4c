/**
 * Every server action the library speaks, one row each: its parameters, whether it takes a `Sequence`, its rate
 * limits and budget, its own return codes and what each means, and the `Data` of a plain success. The rest is
 * derived from this table: the `Action` literal, the code → error mapping and the rate hint of `ZegoError`, each
 * declaration's limits and answers, the mock's parameter checks and default answers, the emulator's action list,
 * limits and messages of its codes, and the CLI's help. A new action is a row here, its service method, its emulator
 * handler and its CLI command.
 *
 * @since 0.1.0
 */
/**
 * One parameter of an action beyond the public ones (`AppId`, `SignatureNonce`, `Timestamp`, …).
 *
 * @since 0.1.0
 * @category models
 */
export interface Parameter {
  readonly required: boolean
  /** The most UTF-8 bytes the server takes. */
  readonly maxBytes?: number | undefined
}

/**
 * What a return code of one action means: the error it becomes, whether the default policy retries it, and the
 * server's meaning in a few words.
 *
 * @since 0.1.0
 * @category models
 */
export interface Code {
  /** The `_tag` of a `ZegoError` server error class (`ZegoError.ServerErrors`). */
  readonly error: string
  readonly retryable: boolean
  readonly meaning: string
}

/**
 * A row of the table.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row {
  /** What the action does, in one line (the CLI's help and the docs say it). */
  readonly summary: string
  /** Its parameters beyond the public ones, `Sequence` aside. */
  readonly parameters: Readonly<Record<string, Parameter>>
  /** Whether it takes a `Sequence` (for one StreamId, strictly increasing within any 10 seconds). */
  readonly sequence: boolean
  /** ZEGOCLOUD's limit of calls per second per AppId, in production and in the test environment. */
  readonly limit: { readonly production: number; readonly test: number }
  /** The budget it counts against: its own name unless it shares one with other actions. */
  readonly budget: string
  /** Its own return codes, beyond those every action shares (`ZegoError`'s global table). */
  readonly codes: Readonly<Record<number, Code>>
  /** Non-zero codes that are answers rather than errors (41006 "closed" for `DescribeRTCStreamState`). */
  readonly answers: ReadonlyArray<number>
  /**
   * A second budget, per value of one parameter (`DescribeSimpleStreamList`: 1 call per 10 s for one `RoomId`),
   * beside the AppId's: the same in both environments.
   */
  readonly perKey?: PerKey | undefined
  /**
   * The `Data` of a plain success, from the request's query parameters and when it arrived (in milliseconds):
   * what `ZegoMock` answers unless told otherwise. Absent: a success without `Data` (an action that only acts).
   */
  readonly sampleData?:
    | ((request: { readonly params: Readonly<Record<string, string>>; readonly receivedAt: number }) => unknown)
    | undefined
}

/**
 * A budget per value of one parameter of an action: at most `limit` calls in any `windowSeconds` for one value.
 *
 * @since 0.1.0
 * @category models
 */
export interface PerKey {
  /** The parameter whose value keys the budget. */
  readonly parameter: string
  readonly limit: number
  readonly windowSeconds: number
}

const dispatchParameters = {
  StreamId: { required: true, maxBytes: 256 },
  Type: { required: true },
  ClientIP: { required: false }
} as const

const dispatchCodes = {
  1001: { error: "DispatchFailedError", retryable: true, meaning: "dispatch failed" },
  1002: { error: "NoPublishNodeError", retryable: false, meaning: "no publish node" },
  1003: { error: "NoPullNodeError", retryable: false, meaning: "no pull node" },
  1005: { error: "AppNotOnlineError", retryable: false, meaning: "the app is not online" },
  30010: { error: "InvalidDispatchTypeError", retryable: false, meaning: "invalid Type" },
  30011: { error: "InvalidClientIpError", retryable: false, meaning: "invalid ClientIP" }
} as const

const streamParameters = { StreamId: { required: true, maxBytes: 256 } } as const

// The relay actions share one budget: ZEGOCLOUD gives one limit for the three together.
const relayLimit = { production: 10, test: 5 } as const

const relayCodes = {
  5003: { error: "AuthenticationError", retryable: false, meaning: "authentication failed (check the signature)" },
  5005: { error: "InvalidParameterError", retryable: false, meaning: "invalid request" }
} as const

const invalidCdnUrl = { error: "InvalidCdnUrlError", retryable: false, meaning: "invalid CDN address" } as const

// The room signalling table's codes that `AddStream` and `DeleteStream` share: the room must exist (104, 5024 and
// 50001 are one check, the table says), its two "too frequent" codes, for all rooms of the AppId and for one room,
// and 1012 (several users operate one stream): the action pages list 1012 under `AddStream` only, but the room
// signalling's return-code table, which every action of it answers from, lists it, and withdrawing a stream another
// user announced is the same conflict.
const roomNotFound = { error: "RoomNotFoundError", retryable: false, meaning: "the room does not exist" } as const
/** The room signalling table's "too frequent" codes: for all rooms of the AppId, and for one room. */
const roomRateCodes = {
  206: { error: "RateLimitedError", retryable: true, meaning: "too many calls for the AppId" },
  207: { error: "RateLimitedError", retryable: true, meaning: "too many calls for the room" }
} as const

const roomCodes = {
  104: roomNotFound,
  5024: roomNotFound,
  50001: roomNotFound,
  ...roomRateCodes,
  1012: { error: "StreamConflictError", retryable: false, meaning: "several users operate one stream" }
} as const

/** Who announces or withdraws a stream in a room. */
const announcementParameters = {
  RoomId: { required: true },
  UserId: { required: true },
  StreamId: { required: true, maxBytes: 256 },
  UserName: { required: false }
} as const

/**
 * The table: a row per action.
 *
 * @example
 * ```ts
 * import { Actions } from "@effect-zego/core"
 *
 * assert.strictEqual(Actions.table.DescribeRTCStreamState.codes[41004]?.error, "StreamNotFoundError")
 * assert.strictEqual(Actions.table.AddStream.limit.test, 1)
 * ```
 *
 * @since 0.1.0
 * @category table
 */
export const table = {
  RTMPDispatchV2: {
    summary: "Get RTMP publish or pull nodes, as rtmp:// URLs",
    parameters: dispatchParameters,
    sequence: true,
    // The docs give no lower test-environment limit for the dispatch.
    limit: { production: 40, test: 40 },
    budget: "dispatch",
    codes: dispatchCodes,
    answers: [],
    // One node on loopback, for the stream asked for.
    sampleData: ({ params }) => [`rtmp://127.0.0.1:1935/live/${params.StreamId ?? "stream"}`]
  },
  RTMPDispatch: {
    summary: "Get RTMP publish or pull nodes, as host:port addresses (the older action)",
    parameters: dispatchParameters,
    sequence: true,
    limit: { production: 40, test: 40 },
    budget: "dispatch",
    codes: dispatchCodes,
    answers: [],
    sampleData: () => ["127.0.0.1:1935"]
  },
  DescribeRTCStreamState: {
    summary: "Tell whether a stream is live (active since when), closed (when), or not found",
    parameters: streamParameters,
    sequence: true,
    limit: { production: 40, test: 10 },
    budget: "DescribeRTCStreamState",
    codes: { 41004: { error: "StreamNotFoundError", retryable: false, meaning: "no such stream" } },
    answers: [41006],
    // Active since the request arrived.
    sampleData: ({ receivedAt }) => ({ create_time: String(Math.floor(receivedAt / 1000)), close_time: "0" })
  },
  ForbidRTCStream: {
    summary: "Forbid a stream id: its publisher is cut off and a new publish refused until it is resumed",
    parameters: streamParameters,
    sequence: true,
    limit: { production: 20, test: 5 },
    budget: "ForbidRTCStream",
    codes: {},
    answers: []
  },
  ResumeRTCStream: {
    summary: "Lift a forbid: the stream id may be published again",
    parameters: streamParameters,
    sequence: true,
    limit: { production: 20, test: 5 },
    budget: "ResumeRTCStream",
    codes: {},
    answers: []
  },
  AddStream: {
    summary: "Announce a stream in a room, for the room's users to play",
    parameters: {
      ...announcementParameters,
      StreamTitle: { required: false, maxBytes: 127 },
      ExtraInfo: { required: false, maxBytes: 1024 },
      CensorFlag: { required: false }
    },
    sequence: false,
    limit: { production: 10, test: 1 },
    budget: "AddStream",
    codes: {
      ...roomCodes,
      123: { error: "StreamUpdateFailedError", retryable: true, meaning: "setting the stream info failed" }
    },
    answers: []
  },
  DeleteStream: {
    summary: "Withdraw a stream from a room",
    parameters: announcementParameters,
    sequence: false,
    limit: { production: 10, test: 1 },
    budget: "DeleteStream",
    codes: {
      ...roomCodes,
      124: { error: "StreamUpdateFailedError", retryable: true, meaning: "deleting the stream info failed" },
      138: { error: "StreamInfoNotFoundError", retryable: false, meaning: "the stream info does not exist" }
    },
    answers: []
  },
  DescribeSimpleStreamList: {
    summary: "List the streams of a room: who publishes each, and since when",
    parameters: { RoomId: { required: true } },
    sequence: false,
    // The docs give no lower test-environment limit: 50/s in both.
    limit: { production: 50, test: 50 },
    budget: "DescribeSimpleStreamList",
    perKey: { parameter: "RoomId", limit: 1, windowSeconds: 10 },
    codes: {
      154: { error: "StreamListFailedError", retryable: true, meaning: "failed to get the list" },
      ...roomRateCodes
    },
    answers: [],
    // An empty room.
    sampleData: () => ({ StreamList: [] })
  },
  CreatCDNTransferRule: {
    summary: "Relay a stream to a CDN (an rtmp:// or rtmps:// ingest such as YouTube's or Twitch's)",
    parameters: { StreamId: { required: true, maxBytes: 256 }, CDNUrl: { required: true } },
    sequence: true,
    limit: relayLimit,
    budget: "CDNTransferRule",
    codes: { ...relayCodes, 5004: invalidCdnUrl, 30001: invalidCdnUrl },
    answers: []
  },
  DeleteCDNTransferRule: {
    summary: "Stop relaying a stream to a CDN (the same URL the relay was started with)",
    parameters: { StreamId: { required: true, maxBytes: 256 }, CDNUrl: { required: true } },
    sequence: true,
    limit: relayLimit,
    budget: "CDNTransferRule",
    codes: { ...relayCodes, 5004: invalidCdnUrl },
    answers: []
  },
  ClearCDNTransferRule: {
    summary: "Drop a stream's relays not yet started (a running relay goes on)",
    parameters: streamParameters,
    sequence: true,
    limit: relayLimit,
    budget: "CDNTransferRule",
    codes: relayCodes,
    answers: []
  }
} as const satisfies Readonly<Record<string, Row>>

/**
 * An action's name: a key of the table.
 *
 * @since 0.1.0
 * @category models
 */
export type Name = keyof typeof table

/**
 * The actions' names, in the table's order.
 *
 * @example
 * ```ts
 * import { Actions } from "@effect-zego/core"
 *
 * assert.ok(Actions.names.includes("ForbidRTCStream"))
 * ```
 *
 * @since 0.1.0
 * @category table
 */
export const names = Object.keys(table) as unknown as readonly [Name, ...Array<Name>]

/**
 * An action's row (typed as a row, whatever the action).
 *
 * @example
 * ```ts
 * import { Actions } from "@effect-zego/core"
 *
 * assert.strictEqual(Actions.row("AddStream").sequence, false)
 * ```
 *
 * @since 0.1.0
 * @category table
 */
export const row = (action: Name): Row => table[action]

/**
 * The key of an action's rate budget for one AppId: `${appId}:${budget}`, and `${appId}` for the dispatch (the key
 * it has always had, so that processes of different versions share one Redis bucket).
 *
 * @example
 * ```ts
 * import { Actions } from "@effect-zego/core"
 *
 * assert.strictEqual(Actions.budgetKey("ForbidRTCStream", 7), "7:ForbidRTCStream")
 * assert.strictEqual(Actions.budgetKey("RTMPDispatch", 7), "7")
 * ```
 *
 * @since 0.1.0
 * @category table
 */
export const budgetKey = (action: Name, appId: number): string => {
  const budget = row(action).budget
  return budget === "dispatch" ? String(appId) : `${appId}:${budget}`
}

/**
 * An action's rate limit in words, for an error's hint: "20 ForbidRTCStream calls (5 in the test environment)".
 *
 * @example
 * ```ts
 * import { Actions } from "@effect-zego/core"
 *
 * assert.strictEqual(Actions.rateHint("AddStream"), "10 AddStream calls (1 in the test environment)")
 * assert.strictEqual(Actions.rateHint("RTMPDispatchV2"), "40 dispatch calls")
 * ```
 *
 * @since 0.1.0
 * @category table
 */
export const rateHint = (action: Name): string => {
  const { budget, limit } = row(action)
  const calls = `${limit.production} ${budget} calls`
  return limit.test === limit.production ? calls : `${calls} (${limit.test} in the test environment)`
}

/**
 * Whether `name` is an action of the table.
 *
 * @example
 * ```ts
 * import { Actions } from "@effect-zego/core"
 *
 * assert.strictEqual(Actions.isName("AddStream"), true)
 * assert.strictEqual(Actions.isName("toString"), false)
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isName = (name: unknown): name is Name => typeof name === "string" && Object.hasOwn(table, name)
