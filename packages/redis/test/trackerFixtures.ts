/** Stream events, a `StreamState` that counts its describes, and trackers on one Redis: what the tracker tests share. */
import { type Callback, StreamState, StreamTracker } from "@effect-zego/core"
import { RedisTrackerStore } from "@effect-zego/redis"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"

export const APP_ID = 4242
export const SESSION = 858012925204410400n
/** The histories' start: a day before now, so that no time is ahead of the trackers' clocks. */
export const T0 = Math.floor((Date.now() - 86_400_000) / 1000) * 1000

const common = { event: "", appId: APP_ID, timestamp: Math.floor(T0 / 1000), nonce: "n" }
const fields = (streamId: string, streamSeq: number, roomSessionId: bigint) => ({
  streamId,
  roomId: "room-1",
  roomSessionId,
  streamSeq: BigInt(streamSeq),
  userId: "u",
  userName: "u",
  channelId: "",
  streamSid: "",
  streamAlias: ""
})

export const created = (
  streamId: string,
  streamSeq: number,
  at: number,
  roomSessionId = SESSION
): Callback.StreamCreated => ({
  ...common,
  ...fields(streamId, streamSeq, roomSessionId),
  _tag: "StreamCreated",
  event: "stream_create",
  createdAt: new Date(at),
  recreate: false,
  extraInfo: "",
  title: "",
  codec: undefined,
  rtmpUrls: [],
  hlsUrls: [],
  hdlUrls: [],
  picUrls: []
})

export const closed = (
  streamId: string,
  streamSeq: number,
  at: number,
  options: {
    readonly reason?: Callback.CloseReason
    readonly createdAt?: number | undefined
    readonly roomSessionId?: bigint
  } = {}
): Callback.StreamClosed => ({
  ...common,
  ...fields(streamId, streamSeq, options.roomSessionId ?? SESSION),
  _tag: "StreamClosed",
  event: "stream_close",
  reason: options.reason ?? "normal",
  closeCode: 0,
  closedAt: new Date(at),
  createdAt: options.createdAt === undefined ? undefined : new Date(options.createdAt),
  thirdDefineData: ""
})

export const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000)

/** What `DescribeRTCStreamState` answers for a stream, as a `StreamState` service whose describes are counted. */
export const countingState = (
  answer: (streamId: string) => Effect.Effect<StreamState.State, StreamState.DescribeError>,
  calls: Ref.Ref<number>
): StreamState.Service => ({
  appId: APP_ID,
  baseUrl: "http://oracle",
  streamIdAsSent: (streamId) => streamId,
  describe: (streamId) => Effect.zipRight(Ref.update(calls, (n) => n + 1), answer(streamId))
})

/** A tracker on its own store (its own connections, as another process would have) over `state`. */
export const trackerOn = (
  store: RedisTrackerStore.Options,
  state: StreamState.Service,
  options: RedisTrackerStore.TrackerOptions = {}
): Effect.Effect<StreamTracker.Service, never, Scope.Scope> =>
  Effect.orDie(
    Effect.flatMap(
      RedisTrackerStore.make(store),
      (made) => Effect.provideService(StreamTracker.make({ ...options, store: made }), StreamState.StreamState, state)
    )
  )
