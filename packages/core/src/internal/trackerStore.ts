/** The tracker's default store: in memory, bounded, forgetting the oldest settled (closed or absent) stream first. */
import * as Effect from "effect/Effect"
import type * as Callback from "../Callback.js"
import type { Entry, Key, Source, Status, Store } from "../StreamTracker.js"

/**
 * At most `capacity` values by stream id, forgetting the oldest settled one first. Two insertion-ordered maps
 * (re-inserted on every `set`) make "the oldest settled, else the oldest live" an O(1) choice: a live stream is what
 * a caller most needs to keep. Also the tracker's last known statuses when its store is elsewhere.
 */
export const bounded = <A>(capacity: number, isLive: (value: A) => boolean) => {
  const settled = new Map<string, A>()
  const live = new Map<string, A>()
  // Bounded whatever it is given: NaN, a negative or an infinite capacity would otherwise keep every stream.
  const max = Number.isSafeInteger(Math.floor(capacity)) && capacity >= 1 ? Math.floor(capacity) : 1

  // The oldest key of `map` other than `keep` (the value just set is never the one forgotten).
  const oldest = (map: Map<string, A>, keep: string): string | undefined => {
    for (const key of map.keys()) if (key !== keep) return key
    return undefined
  }

  return {
    get: (streamId: string): A | undefined => live.get(streamId) ?? settled.get(streamId),
    set: (streamId: string, value: A): void => {
      live.delete(streamId)
      settled.delete(streamId)
      ;(isLive(value) ? live : settled).set(streamId, value)
      if (live.size + settled.size > max) {
        const settledKey = oldest(settled, streamId)
        if (settledKey !== undefined) settled.delete(settledKey)
        else {
          const liveKey = oldest(live, streamId)
          if (liveKey !== undefined) live.delete(liveKey)
        }
      }
    },
    live: (): Array<A> => [...live.values()]
  }
}

/** The version of a stream nothing is kept for. */
export const NOTHING = "0"

/**
 * A stream as the default store keeps it: one object besides its id, the status's fields with its times as epoch
 * milliseconds (its `Date`s are made when it is read), and what orders it. It is its own {@link Key}: in every entry
 * the tracker writes, the key's kind, time and exactness follow from the status (a create's time is when it started, a
 * close's when it ended; exact when a callback told), so an event is compared with what is kept as it is.
 */
export class Kept implements Key {
  /** Set by the store when it writes this (each write a new one). */
  version = 0
  constructor(
    readonly streamId: string,
    readonly state: Status["state"],
    readonly source: Source,
    /** Live: when the publish started; closed: when it ended; absent: none (NaN). */
    readonly time: number,
    readonly checkedAtMillis: number,
    /** A close's reason. */
    readonly reason: Callback.CloseReason | undefined,
    /** A close's `create_time_ms` (or what `DescribeRTCStreamState` said), when known. */
    readonly closeCreatedAt: number | undefined,
    readonly roomSessionId: bigint | undefined,
    readonly streamSeq: bigint | undefined
  ) {}

  get kind(): Key["kind"] {
    return this.state === "live" ? "create" : "close"
  }
  get createdAt(): number | undefined {
    return this.state === "live" ? this.time : this.closeCreatedAt
  }
  get exact(): boolean {
    return this.source === "callback"
  }
  /** What orders it: itself; an absent stream has no key. */
  get key(): Key | undefined {
    return this.state === "absent" ? undefined : this
  }

  /** The status, made afresh (the caller may keep it). */
  status(): Status {
    const checkedAt = new Date(this.checkedAtMillis)
    switch (this.state) {
      case "live":
        return { state: "live", streamId: this.streamId, since: new Date(this.time), source: this.source, checkedAt }
      case "closed":
        return {
          state: "closed",
          streamId: this.streamId,
          reason: this.reason!,
          closedAt: new Date(this.time),
          source: this.source,
          checkedAt
        }
      case "absent":
        return { state: "absent", streamId: this.streamId, source: "describe", checkedAt }
    }
  }

  entry(): Entry {
    return { status: this.status(), key: this.key }
  }
}

/** An entry whose key does not follow from its status (written by other code than the tracker): kept as given. */
class KeptAsGiven extends Kept {
  constructor(readonly given: Entry) {
    const { status } = given
    super(status.streamId, status.state, status.source, NaN, status.checkedAt.getTime(), undefined, undefined, undefined,
      undefined)
  }
  override get key(): Key | undefined {
    return this.given.key
  }
  override status(): Status {
    return this.given.status
  }
}

/** `entry` as the default store keeps it. */
export const keptOf = (entry: Entry): Kept => {
  const { key, status } = entry
  const checkedAt = status.checkedAt.getTime()
  if (status.state === "absent") {
    return key === undefined
      ? new Kept(status.streamId, "absent", "describe", NaN, checkedAt, undefined, undefined, undefined, undefined)
      : new KeptAsGiven(entry)
  }
  const time = status.state === "live" ? status.since.getTime() : status.closedAt.getTime()
  const kept = new Kept(
    status.streamId,
    status.state,
    status.source,
    time,
    checkedAt,
    status.state === "closed" ? status.reason : undefined,
    status.state === "closed" ? key?.createdAt : undefined,
    key?.roomSessionId,
    key?.streamSeq
  )
  const follows = key !== undefined && key.kind === kept.kind && key.time === time && key.exact === kept.exact &&
    key.createdAt === kept.createdAt
  return follows ? kept : new KeptAsGiven(entry)
}

/**
 * The default store's synchronous side: the tracker reads, decides and writes a stream in one step with no effect in
 * between (JavaScript runs one step at a time, so no other write can come between), which needs no lock and never
 * conflicts.
 */
export interface Direct {
  readonly get: (streamId: string) => Kept | undefined
  /** Writes `kept` as the stream's latest version. */
  readonly set: (streamId: string, kept: Kept) => void
  readonly live: () => ReadonlyArray<Kept>
}

const directs = new WeakMap<Store, Direct>()

/**
 * The synchronous side of a store {@link memory} made; `undefined` for any other store, a copy or a wrapper of one
 * included (they may do more per call, such as log, wait or fail).
 */
export const directOf = (store: Store): Direct | undefined => directs.get(store)

/**
 * A store of at most `capacity` streams. Versions come from one counter, so that a stream forgotten and written again
 * never gets back a version an earlier reader holds.
 */
export const memory = (capacity: number): Store => {
  const entries = bounded<Kept>(capacity, (kept) => kept.state === "live")
  let counter = 0
  const set = (streamId: string, kept: Kept) => {
    kept.version = ++counter
    entries.set(streamId, kept)
  }
  const versionOf = (kept: Kept | undefined) => kept === undefined ? NOTHING : String(kept.version)
  const store: Store = {
    get: (streamId) =>
      Effect.sync(() => {
        const kept = entries.get(streamId)
        return { entry: kept?.entry(), version: versionOf(kept) }
      }),
    compareAndSet: (streamId, version, next) =>
      Effect.sync(() => {
        if (versionOf(entries.get(streamId)) !== version) return false
        set(streamId, keptOf(next))
        return true
      }),
    live: Effect.sync(() => entries.live().map((kept) => kept.entry()))
  }
  directs.set(store, { get: entries.get, set, live: entries.live })
  return store
}
