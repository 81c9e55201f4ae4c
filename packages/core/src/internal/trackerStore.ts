/** The tracker's default store: in memory, bounded, forgetting the oldest settled (closed or absent) stream first. */
import * as Effect from "effect/Effect"
import type * as Callback from "../Callback.js"
import type { Entry, Key, Source, Status, Store } from "../StreamTracker.js"

/** What {@link bounded} keeps: a value under its stream id, with its place in the order of updates. */
export interface Node<N extends Node<N>> {
  readonly streamId: string
  /** The neighbours in its list (settled or live), from the least recently set to the most. */
  older: N | undefined
  newer: N | undefined
}

/** Nodes in the order they were set, linked through themselves: appending and removing are O(1). */
class Order<N extends Node<N>> {
  oldest: N | undefined = undefined
  newest: N | undefined = undefined
  append(node: N): void {
    node.older = this.newest
    node.newer = undefined
    if (this.newest === undefined) this.oldest = node
    else this.newest.newer = node
    this.newest = node
  }
  remove(node: N): void {
    if (node.older === undefined) this.oldest = node.newer
    else node.older.newer = node.newer
    if (node.newer === undefined) this.newest = node.older
    else node.newer.older = node.older
    node.older = node.newer = undefined
  }
}

/**
 * At most `capacity` nodes by stream id, forgetting the least recently set settled one first, else the least
 * recently set live one: a live stream is what a caller most needs to keep. One map, and two lists (settled, live)
 * linked through the nodes, so that a set is O(1) and replaces the map's value in place. Also the tracker's last
 * known statuses when its store is elsewhere.
 */
export const bounded = <N extends Node<N>>(capacity: number, isLive: (node: N) => boolean) => {
  const nodes = new Map<string, N>()
  const live = new Order<N>()
  const settled = new Order<N>()
  // Bounded whatever it is given: NaN, a negative or an infinite capacity would otherwise keep every stream.
  const max = Number.isSafeInteger(Math.floor(capacity)) && capacity >= 1 ? Math.floor(capacity) : 1

  return {
    get: (streamId: string): N | undefined => nodes.get(streamId),
    /** Sets `node`; `previous`, when given, is what `get` answered for its stream just before (saves a look-up). */
    set: (node: N, previous: N | undefined = nodes.get(node.streamId)): void => {
      if (previous !== undefined) (isLive(previous) ? live : settled).remove(previous)
      nodes.set(node.streamId, node)
      ;(isLive(node) ? live : settled).append(node)
      if (nodes.size > max) {
        // Never the node just set: with more than one kept, a list holding only it leaves the other list non-empty.
        const victim = settled.oldest !== undefined && settled.oldest !== node ? settled.oldest : live.oldest!
        ;(isLive(victim) ? live : settled).remove(victim)
        nodes.delete(victim.streamId)
      }
    },
    /** The live nodes, the least recently set first. */
    live: (): Array<N> => {
      const all: Array<N> = []
      for (let node = live.oldest; node !== undefined; node = node.newer) all.push(node)
      return all
    }
  }
}

/** A last known entry, as {@link bounded} keeps it. */
export class Known implements Node<Known> {
  older: Known | undefined = undefined
  newer: Known | undefined = undefined
  constructor(readonly streamId: string, readonly entry: Entry) {}
}

/** The last known entries of at most `capacity` streams. */
export const lastKnown = (capacity: number) => {
  const known = bounded<Known>(capacity, (node) => node.entry.status.state === "live")
  return {
    get: (streamId: string): Entry | undefined => known.get(streamId)?.entry,
    set: (streamId: string, entry: Entry): void => known.set(new Known(streamId, entry))
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
export class Kept implements Key, Node<Kept> {
  /** Set by the store when it writes this (each write a new one). */
  version = 0
  older: Kept | undefined = undefined
  newer: Kept | undefined = undefined
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

  /** The entry, made afresh: a plain key, not this record (which the store goes on linking and numbering). */
  entry(): Entry {
    const key = this.key
    return {
      status: this.status(),
      key: key === undefined ? undefined : {
        kind: key.kind,
        roomSessionId: key.roomSessionId,
        streamSeq: key.streamSeq,
        time: key.time,
        createdAt: key.createdAt,
        exact: key.exact
      }
    }
  }
}

/** An entry whose key does not follow from its status (written by other code than the tracker): kept as given. */
class KeptAsGiven extends Kept {
  constructor(streamId: string, readonly given: Entry) {
    const { status } = given
    super(
      streamId,
      status.state,
      status.source,
      NaN,
      status.checkedAt.getTime(),
      undefined,
      undefined,
      undefined,
      undefined
    )
  }
  override get key(): Key | undefined {
    return this.given.key
  }
  override status(): Status {
    return this.given.status
  }
}

/** `entry` as the default store keeps it under `streamId`. */
export const keptOf = (streamId: string, entry: Entry): Kept => {
  const { key, status } = entry
  if (status.streamId !== streamId) return new KeptAsGiven(streamId, entry)
  const checkedAt = status.checkedAt.getTime()
  if (status.state === "absent") {
    return key === undefined
      ? new Kept(streamId, "absent", "describe", NaN, checkedAt, undefined, undefined, undefined, undefined)
      : new KeptAsGiven(streamId, entry)
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
  return follows ? kept : new KeptAsGiven(streamId, entry)
}

/**
 * The default store's synchronous side: the tracker reads, decides and writes a stream in one step with no effect in
 * between (JavaScript runs one step at a time, so no other write can come between), which needs no lock and never
 * conflicts.
 */
export interface Direct {
  readonly get: (streamId: string) => Kept | undefined
  /** Writes `kept` as its stream's latest version; `current` is what `get` answered for it in the same step. */
  readonly set: (kept: Kept, current: Kept | undefined) => void
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
  const set = (kept: Kept, current?: Kept) => {
    kept.version = ++counter
    entries.set(kept, current)
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
        set(keptOf(streamId, next))
        return true
      }),
    live: Effect.sync(() => entries.live().map((kept) => kept.entry()))
  }
  directs.set(store, { get: entries.get, set, live: entries.live })
  return store
}
