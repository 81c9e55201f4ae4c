/**
 * Announcing a stream in a room and withdrawing it (`AddStream`, `DeleteStream`): SDK viewers in a room learn of a
 * stream pushed over RTMP (their `onRoomStreamUpdate`) only when the backend announces it. These calls only
 * announce; they move no media, and `AddStream` needs the room to exist. Reading a room's streams back
 * (`DescribeSimpleStreamList`) has two budgets: 50 calls per second per AppId, and 1 call per 10 seconds per room.
 *
 * The announcing user is a server user (`Server-Administrator` by default, as ZEGOCLOUD advises), not a real one.
 * The byte limits (`StreamTitle` 127, `ExtraInfo` 1024, in UTF-8) are checked here: past them nothing is sent.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Engine from "./internal/engine.js"
import { ExtraInfo, RoomId, StreamId, StreamTitle, UserId, UserName } from "./Params.js"
import * as ServerApi from "./ServerApi.js"
import type {
  CommonError,
  InvalidRequestError,
  RoomNotFoundError,
  StreamConflictError,
  StreamInfoNotFoundError,
  StreamListFailedError,
  StreamUpdateFailedError
} from "./ZegoError.js"

/**
 * The service tag.
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // Tell the SDK viewers of room-1 that an OBS stream is there.
 * const program = Effect.flatMap(
 *   RoomStreams.RoomStreams,
 *   (rooms) => rooms.announce({ roomId: "room-1", streamId: "s1", title: "Live from OBS" })
 * )
 * const TestLive = ZegoMock.layerServices({ appId: 1234567890, serverSecret: Redacted.make("secret") })
 * Effect.runPromise(program.pipe(Effect.provide(TestLive))).then(({ roomId }) => assert.strictEqual(roomId, "room-1"))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class RoomStreams extends Context.Tag("@effect-zego/core/RoomStreams")<RoomStreams, Service>() {}

/**
 * Every error `announce` can fail with: the global table's, 104 / 5024 / 50001 (no such room), 123 (retried), 1012
 * (several users, one stream), and 206 / 207 (too many calls for the AppId or the room: `RateLimitedError`, retried).
 *
 * @since 0.1.0
 * @category errors
 */
export type AnnounceError = CommonError | RoomNotFoundError | StreamUpdateFailedError | StreamConflictError
/**
 * Every error `withdraw` can fail with: the global table's, 104 / 5024 / 50001 (no such room), 124 (retried), 138 (not
 * announced), 1012 (announced by another user), and 206 / 207 (`RateLimitedError`, retried).
 *
 * @since 0.1.0
 * @category errors
 */
export type WithdrawError =
  | CommonError
  | RoomNotFoundError
  | StreamUpdateFailedError
  | StreamInfoNotFoundError
  | StreamConflictError

/**
 * Every error `list` can fail with: the global table's, 154 (retried), and 206 / 207 (too many calls for the AppId or
 * the room: `RateLimitedError`, retried).
 *
 * @since 0.1.0
 * @category errors
 */
export type ListError = CommonError | StreamListFailedError

/**
 * The server user announcing streams unless the options or the call name another.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultServerUserId = "Server-Administrator"

/**
 * What `announce` takes.
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * // A title past 127 UTF-8 bytes is refused before anything is sent.
 * const valid = Schema.is(RoomStreams.Announcement)
 * assert.strictEqual(valid({ roomId: "room-1", streamId: "s1", title: "é".repeat(64) }), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Announcement = Schema.Struct({
  roomId: RoomId,
  streamId: StreamId,
  /** Default: the layer's server user id. */
  userId: Schema.optional(UserId),
  userName: Schema.optional(UserName),
  /** `StreamTitle`: at most 127 UTF-8 bytes. */
  title: Schema.optional(StreamTitle),
  /** `ExtraInfo`: at most 1024 UTF-8 bytes. */
  extraInfo: Schema.optional(ExtraInfo),
  /** `CensorFlag`: whether ZEGOCLOUD's content moderation reviews the stream. */
  censor: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "Announcement" })
/**
 * An announcement as a caller writes it.
 *
 * @since 0.1.0
 * @category models
 */
export type Announcement = typeof Announcement.Encoded

/**
 * What `withdraw` takes.
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(RoomStreams.Withdrawal)({ roomId: "room-1", streamId: "s1" }), true)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Withdrawal = Schema.Struct({
  roomId: RoomId,
  streamId: StreamId,
  userId: Schema.optional(UserId),
  userName: Schema.optional(UserName)
}).annotations({ identifier: "Withdrawal" })
/**
 * A withdrawal as a caller writes it.
 *
 * @since 0.1.0
 * @category models
 */
export type Withdrawal = typeof Withdrawal.Encoded

/**
 * A stream announced or withdrawn.
 *
 * @since 0.1.0
 * @category models
 */
export interface Announced {
  readonly requestId: string
  readonly roomId: string
  /** The stream id that was sent (with the `zegotest-<AppId>-` prefix in the test environment). */
  readonly streamId: string
}

/**
 * One stream of a room's list.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListedStream {
  /**
   * The stream id as ZEGOCLOUD knows it: with the `zegotest-<AppId>-` prefix in the test environment, as `announce`
   * answers it and the callbacks carry it (pass it back as it is: the prefix is added once).
   */
  readonly streamId: string
  readonly userId: string
  /** `""` when the server sends none. */
  readonly userName: string
  /** When the stream was created (the server's `CreateTime`, in milliseconds). */
  readonly createdAt: Date
  /** The server's numeric id of the stream (a uint32). */
  readonly streamNumberId: number
}

/**
 * A room's streams, as `DescribeSimpleStreamList` answered.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamList {
  readonly requestId: string
  readonly roomId: string
  readonly streams: ReadonlyArray<ListedStream>
}

/** The most streams read from one answer: a room holds far fewer, and a hostile server must not make us hold more. */
const MAX_LISTED_STREAMS = 10_000
/** The longest text of a listed stream kept (in UTF-16 units): well past the server's own limits. */
const MAX_LISTED_TEXT = 1024

const ListedText = Schema.String.pipe(Schema.maxLength(MAX_LISTED_TEXT))

/**
 * One entry of `Data.StreamList`, as the server sends it (other fields are ignored).
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * const entry = { StreamId: "s1", UserId: "u1", UserName: "", CreateTime: 1642045110123, StreamNumberId: 7 }
 * assert.strictEqual(Schema.is(RoomStreams.ListedStreamData)(entry), true)
 * assert.strictEqual(Schema.is(RoomStreams.ListedStreamData)({ ...entry, CreateTime: -1 }), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListedStreamData = Schema.Struct({
  StreamId: ListedText.pipe(Schema.minLength(1)),
  UserId: ListedText,
  UserName: Schema.optional(ListedText),
  /** Milliseconds since the epoch, within the range of a `Date`. */
  CreateTime: Schema.Int.pipe(Schema.between(0, 8_640_000_000_000_000)),
  StreamNumberId: Schema.Int.pipe(Schema.between(0, 4_294_967_295))
}).annotations({ identifier: "ListedStreamData" })

/**
 * `Data` of a `DescribeSimpleStreamList` answer: `StreamList` absent or `null` is an empty room; at most 10 000
 * entries are read.
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(RoomStreams.StreamListData)({ StreamList: null }), true)
 * assert.strictEqual(Schema.is(RoomStreams.StreamListData)({ StreamList: "none" }), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamListData = Schema.Struct({
  StreamList: Schema.optional(
    Schema.NullOr(Schema.Array(ListedStreamData).pipe(Schema.maxItems(MAX_LISTED_STREAMS)))
  )
}).annotations({ identifier: "StreamListData" })

/**
 * What `list` takes.
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import * as Schema from "effect/Schema"
 *
 * assert.strictEqual(Schema.is(RoomStreams.ListRequest)({ roomId: "" }), false)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListRequest = Schema.Struct({ roomId: RoomId }).annotations({ identifier: "ListRequest" })

/**
 * Per-call options.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions<E> {
  readonly retry?: ServerApi.CallOptions<E>["retry"]
}

/**
 * The service.
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // Announce for the length of a scope: withdrawn when the scope closes.
 * const announced = (roomId: string, streamId: string) =>
 *   Effect.gen(function*() {
 *     const rooms: RoomStreams.Service = yield* RoomStreams.RoomStreams
 *     return yield* Effect.acquireRelease(
 *       rooms.announce({ roomId, streamId }),
 *       () => Effect.ignore(rooms.withdraw({ roomId, streamId }))
 *     )
 *   })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly appId: number
  readonly baseUrl: string
  /** The server user id sent when a call names none. */
  readonly serverUserId: string
  /** `AddStream`: the stream is announced in the room. */
  readonly announce: (
    announcement: Announcement,
    options?: CallOptions<AnnounceError>
  ) => Effect.Effect<Announced, AnnounceError>
  /** `DeleteStream`: the stream is withdrawn from the room. */
  readonly withdraw: (
    withdrawal: Withdrawal,
    options?: CallOptions<WithdrawError>
  ) => Effect.Effect<Announced, WithdrawError>
  /**
   * `DescribeSimpleStreamList`: the room's streams. A second call for the same room within 10 seconds waits for
   * the room's budget (a retry of a failed call too); other rooms' calls do not wait for it.
   */
  readonly list: (roomId: string, options?: CallOptions<ListError>) => Effect.Effect<StreamList, ListError>
}

/**
 * Options of {@link make} and {@link layer}: those of every service (the default rate limit is 10/s, 1/s in test),
 * and the server user.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends ServerApi.Options {
  /** The `UserId` sent when a call names none. Default {@link defaultServerUserId}. */
  readonly serverUserId?: string | undefined
  /** The `UserName` sent with it when a call names none. Default: none. */
  readonly serverUserName?: string | undefined
}

const param = (name: string, value: string | undefined): string =>
  value === undefined ? "" : `&${name}=${encodeURIComponent(value)}`

const answer = (envelope: { readonly RequestId: string }, roomId: string, streamId: string) =>
  Either.right({ requestId: envelope.RequestId, roomId, streamId })

/**
 * `AddStream`, declared for a server user: 10 calls per second per AppId (1 in the test environment).
 *
 * @since 0.1.0
 * @category declarations
 */
export const addStream = (
  serverUserId: string,
  serverUserName: string | undefined
): ServerApi.Declaration<typeof Announcement.Type, Announced, AnnounceError> => ({
  action: "AddStream",
  spanName: "RoomStreams.AddStream",
  parameters: Announcement,
  data: Schema.Unknown,
  streamId: (request) => request.streamId,
  sequence: false,
  query: (request) =>
    param("RoomId", request.roomId) + param("UserId", request.userId ?? serverUserId) +
    param("UserName", request.userId === undefined ? request.userName ?? serverUserName : request.userName) +
    param("StreamTitle", request.title) + param("ExtraInfo", request.extraInfo) +
    (request.censor === undefined ? "" : `&CensorFlag=${request.censor ? 1 : 0}`),
  annotate: (span, request) => span.attribute("zego.room_id", request.roomId),
  answer: (envelope, request, streamId) => answer(envelope, request.roomId, streamId)
})

/**
 * `DeleteStream`, declared for a server user: 10 calls per second per AppId (1 in the test environment).
 *
 * @since 0.1.0
 * @category declarations
 */
export const deleteStream = (
  serverUserId: string,
  serverUserName: string | undefined
): ServerApi.Declaration<typeof Withdrawal.Type, Announced, WithdrawError> => ({
  action: "DeleteStream",
  spanName: "RoomStreams.DeleteStream",
  parameters: Withdrawal,
  data: Schema.Unknown,
  streamId: (request) => request.streamId,
  sequence: false,
  query: (request) =>
    param("RoomId", request.roomId) + param("UserId", request.userId ?? serverUserId) +
    param("UserName", request.userId === undefined ? request.userName ?? serverUserName : request.userName),
  annotate: (span, request) => span.attribute("zego.room_id", request.roomId),
  answer: (envelope, request, streamId) => answer(envelope, request.roomId, streamId)
})

const readStreamList = Engine.decodeData(StreamListData)

/**
 * `DescribeSimpleStreamList`, declared: 50 calls per second per AppId, and 1 per 10 seconds per room. The stream ids
 * it answers are kept as the server sends them.
 *
 * @since 0.1.0
 * @category declarations
 */
export const describeSimpleStreamList: ServerApi.Declaration<typeof ListRequest.Type, StreamList, ListError> = {
  action: "DescribeSimpleStreamList",
  spanName: "RoomStreams.DescribeSimpleStreamList",
  parameters: ListRequest,
  data: StreamListData,
  streamId: undefined,
  perKeyValue: (request) => request.roomId,
  sequence: false,
  query: (request) => param("RoomId", request.roomId),
  annotate: (span, request) => span.attribute("zego.room_id", request.roomId),
  answer: (envelope, request) =>
    Either.map(readStreamList("DescribeSimpleStreamList", envelope), (data) => ({
      requestId: envelope.RequestId,
      roomId: request.roomId,
      streams: (data.StreamList ?? []).map((entry) => ({
        streamId: entry.StreamId,
        userId: entry.UserId,
        userName: entry.UserName ?? "",
        createdAt: new Date(entry.CreateTime),
        streamNumberId: entry.StreamNumberId
      }))
    }))
}

const decodeUserId = Schema.decodeUnknownEither(UserId)
const decodeUserName = Schema.decodeUnknownEither(Schema.UndefinedOr(UserName))

/**
 * Builds the service; fails with `InvalidRequestError` when an option is invalid.
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const serverSecret = Redacted.make("secret")
 * const program = Effect.gen(function*() {
 *   const rooms = yield* RoomStreams.make({ appId: 1234567890, serverSecret, baseUrl: "http://127.0.0.1:1" })
 *   return yield* rooms.withdraw({ roomId: "room-1", streamId: "s1" })
 * })
 * Effect.runPromise(program.pipe(Effect.provide(ZegoMock.layer({ appId: 1234567890, serverSecret }))))
 *   .then((withdrawn) => assert.strictEqual(withdrawn.streamId, "s1"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, InvalidRequestError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const engine = yield* Engine.make(options)
    const serverUserId = yield* Engine.readInput(
      "serverUserId",
      () =>
        Either.mapLeft(
          decodeUserId(options.serverUserId ?? defaultServerUserId),
          (error) => Engine.invalid("serverUserId", Engine.formatIssue(error).detail)
        )
    )
    const serverUserName = yield* Engine.readInput(
      "serverUserName",
      () =>
        Either.mapLeft(
          decodeUserName(options.serverUserName),
          (error) => Engine.invalid("serverUserName", Engine.formatIssue(error).detail)
        )
    )
    return RoomStreams.of({
      appId: engine.appId,
      baseUrl: engine.baseUrl,
      serverUserId,
      announce: yield* engine.bind(addStream(serverUserId, serverUserName)),
      withdraw: yield* engine.bind(deleteStream(serverUserId, serverUserName)),
      list: yield* Effect.map(
        engine.bind(describeSimpleStreamList),
        (call) => (roomId: string, callOptions?: CallOptions<ListError>) => call({ roomId }, callOptions)
      )
    })
  })

const layers = Engine.layers(RoomStreams, make, ServerApi.configFromEnv)

/**
 * The service as a layer; it needs an `HttpClient`.
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * const RoomStreamsLive = RoomStreams.layer({ appId: 1234567890, serverSecret: Redacted.make("secret") }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<RoomStreams, InvalidRequestError, HttpClient.HttpClient> =
  layers.layer

/**
 * The service as a layer, its options read through Effect `Config` (by default from the environment).
 *
 * @example
 * ```ts
 * import { RoomStreams } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_APP_ID, ZEGO_SERVER_SECRET and the optional ZEGO_* variables.
 * const RoomStreamsLive = RoomStreams.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  config?: Config.Config.Wrap<Options>
) => Layer.Layer<RoomStreams, ConfigError.ConfigError | InvalidRequestError, HttpClient.HttpClient> = layers.layerConfig
