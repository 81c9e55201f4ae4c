/**
 * What the dashboard shows, built from the emulator's own records: the streams (their state, their push dispatch
 * with OBS's Server and Stream key, their relays, whether a preview can play), the recent API calls, the callbacks
 * and the rooms. A snapshot is plain JSON, small and bounded (at most {@link MAX_SHOWN} of each kind), sent to the
 * page whenever it changes.
 *
 * @since 0.1.0
 */
import type * as Callbacks from "./callbacks.js"
import type * as HttpApi from "./httpApi.js"
import type * as PublishGrants from "./publishGrants.js"
import type * as Relays from "./relays.js"
import type * as Rooms from "./rooms.js"
import type * as Streams from "./streams.js"

/** The most streams, calls, callbacks and rooms (and streams per room) a snapshot holds. */
export const MAX_SHOWN = 50

/** How many recent dispatches are searched for the streams' push URLs. */
const DISPATCHES_SEARCHED = 500

/** A stream's push dispatch: the URL and OBS's two fields. */
export interface PushView {
  readonly url: string
  /** OBS's Server: the URL up to its last `/`. */
  readonly obsServer: string
  /** OBS's Stream key: the rest. */
  readonly obsStreamKey: string
  readonly dispatchedAt: number
  readonly requestId: string
}

/** A relay of a stream to a CDN URL. */
export interface RelayView {
  readonly cdnUrl: string
  readonly state: Relays.RelayState
  readonly startedAt: number | undefined
}

/**
 * A stream: `dispatched` (dispatched for push within the publish window, not published yet), `active`, `forbidden`
 * or `closed`, since when; its latest push dispatch; its relays; whether its preview can play (live on a media node
 * and not forbidden).
 */
export interface StreamView {
  readonly streamId: string
  readonly state: "dispatched" | Streams.Overview["state"]
  readonly since: number
  readonly live: boolean
  /** When its current (or last) publish started. */
  readonly createdAt: number | undefined
  readonly push: PushView | undefined
  readonly relays: ReadonlyArray<RelayView>
  readonly preview: boolean
}

/** A callback, its attempts and what became of it. */
export interface CallbackView {
  readonly event: string
  readonly streamId: string
  readonly streamSeq: number
  readonly closeType: number | undefined
  readonly target: string
  readonly status: Callbacks.CallbackRecord["status"]
  readonly fault: string | undefined
  readonly attempts: ReadonlyArray<Callbacks.CallbackAttempt>
  readonly nextAttemptAt: number | undefined
}

/** A room and the streams announced in it. */
export interface RoomView {
  readonly roomId: string
  readonly streams: ReadonlyArray<{
    readonly streamId: string
    readonly userId: string
    readonly userName: string | undefined
    readonly streamTitle: string | undefined
    readonly announcedAt: number
  }>
}

/** Everything the page shows at one time: the newest first in each list. */
export interface Snapshot {
  /** The emulator's time of the snapshot, in ms. */
  readonly now: number
  /** The API's base URL. */
  readonly baseUrl: string
  readonly streams: ReadonlyArray<StreamView>
  readonly calls: ReadonlyArray<HttpApi.CallSummary>
  readonly callbacks: ReadonlyArray<CallbackView>
  readonly rooms: ReadonlyArray<RoomView>
}

/** Where a snapshot's data comes from. */
export interface Sources {
  readonly baseUrl: string
  readonly streams: Streams.Streams
  readonly rooms: Rooms.Rooms
  readonly grants: PublishGrants.PublishGrants
  readonly relays: Relays.Relays
  readonly callbacks: Callbacks.Callbacks
  readonly recentCalls: (count: number) => ReadonlyArray<HttpApi.CallSummary>
  readonly recentDispatches: (count: number) => ReadonlyArray<HttpApi.DispatchRecord>
}

/** A push dispatch as OBS takes it. A V1 dispatch answers `host:port`: its URL is built from the node. */
const pushView = (dispatch: HttpApi.DispatchRecord): PushView => {
  const url = dispatch.node.startsWith("rtmp://") || dispatch.node.startsWith("rtmps://")
    ? dispatch.node
    : `rtmp://${
      dispatch.host.includes(":") ? `[${dispatch.host}]` : dispatch.host
    }:${dispatch.port}/${dispatch.app}/${dispatch.streamId}`
  const split = url.lastIndexOf("/") + 1
  return {
    url,
    obsServer: url.slice(0, split),
    obsStreamKey: url.slice(split),
    dispatchedAt: dispatch.time.epochMillis,
    requestId: dispatch.requestId
  }
}

/** The state rank in the list: what is happening now first. */
const RANK: Record<StreamView["state"], number> = { active: 0, dispatched: 1, forbidden: 2, closed: 3 }

export const snapshot = (sources: Sources, now: number): Snapshot => {
  const pushes = new Map<string, HttpApi.DispatchRecord>()
  for (const dispatch of sources.recentDispatches(DISPATCHES_SEARCHED)) {
    if (dispatch.type === "push") pushes.set(dispatch.streamId, dispatch)
  }
  const relays = new Map<string, Array<RelayView>>()
  for (const relay of sources.relays.current()) {
    const list = relays.get(relay.streamId) ?? []
    list.push({ cdnUrl: relay.cdnUrl, state: relay.state, startedAt: relay.startedAt })
    relays.set(relay.streamId, list)
  }
  const view = (
    streamId: string,
    state: StreamView["state"],
    since: number,
    live: boolean,
    createdAt: number | undefined
  ): StreamView => {
    const push = pushes.get(streamId)
    return {
      streamId,
      state,
      since,
      live,
      createdAt,
      push: push === undefined ? undefined : pushView(push),
      relays: relays.get(streamId) ?? [],
      preview: state === "active" && sources.relays.liveSource(streamId) !== undefined
    }
  }
  const streams = sources.streams.overview(now, MAX_SHOWN).map((stream) =>
    view(stream.streamId, stream.state, stream.since, stream.live, stream.createdAt)
  )
  const known = new Set(streams.map((stream) => stream.streamId))
  for (const dispatch of [...pushes.values()].reverse()) {
    if (known.has(dispatch.streamId)) continue
    if (!sources.grants.check(dispatch.streamId, dispatch.app, now).allowed) continue
    known.add(dispatch.streamId)
    streams.push(view(dispatch.streamId, "dispatched", dispatch.time.epochMillis, false, undefined))
  }
  streams.sort((a, b) => RANK[a.state] - RANK[b.state] || b.since - a.since)

  const callbacks = [...sources.callbacks.recent(MAX_SHOWN)].reverse().map((record): CallbackView => ({
    event: record.event,
    streamId: record.streamId,
    streamSeq: record.streamSeq,
    closeType: record.closeType,
    target: record.target,
    status: record.status,
    fault: record.fault,
    attempts: record.attempts,
    nextAttemptAt: record.nextAttemptAt
  }))
  const rooms = sources.rooms.ids(MAX_SHOWN).map((roomId): RoomView => ({
    roomId,
    streams: sources.rooms.list(roomId).slice(-MAX_SHOWN).map(({ announced }) => ({
      streamId: announced.streamId,
      userId: announced.userId,
      userName: announced.userName,
      streamTitle: announced.streamTitle,
      announcedAt: announced.announcedAt
    }))
  }))
  return {
    now,
    baseUrl: sources.baseUrl,
    streams: streams.slice(0, MAX_SHOWN),
    calls: [...sources.recentCalls(MAX_SHOWN)].reverse(),
    callbacks,
    rooms
  }
}
