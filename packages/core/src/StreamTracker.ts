/**
 * What each stream is now, from verified callbacks and `DescribeRTCStreamState`: ZEGOCLOUD's ordering rule applied
 * (within a room session the larger `stream_seq` wins, duplicates change nothing, an older create after a newer close
 * does not bring a stream back), and a lost callback repaired by asking the server about a stream whose state is
 * unknown or too old.
 *
 * Ordering, in full (see {@link supersedes}):
 * - Within one room session: the larger `stream_seq` wins; at an equal seq a close beats a create (of the two, only
 *   the close cannot be a resurrection); the same kind at the same seq is a duplicate and changes nothing.
 * - Across room sessions, and against what `DescribeRTCStreamState` said (it has no seq): the server's times. A
 *   create wins over a close only when it starts a later publish than the one that closed: compared with the close's
 *   `create_time_ms` when it has one (so a publish that kicked out the previous one by repeated login stays live even
 *   though the old one's close is timed after it), else with `destroy_timemillis`; a tie goes to the close. Two
 *   creates or two closes: the later time wins.
 * - `DescribeRTCStreamState`'s times are whole seconds, so against it times are compared by the second, and a tie
 *   goes to the close: a close and a re-publish within the same second whose create was lost can read as closed
 *   until the next callback. An exact callback time refines a describe time of the same second.
 * - Two `DescribeRTCStreamState` answers: the later one asked replaces the earlier (the server's latest word on its
 *   own state), whatever their times.
 * - 41004 (no such stream): a known closed stream stays closed (the server forgets closed streams); a live one learnt
 *   less than `maxAge` ago stays live (the server may not have caught up); anything else becomes `absent`.
 * - A server time more than `maxClockSkew` ahead of this clock is not believed: that callback or answer changes
 *   nothing (a warning is logged), so that one garbage time cannot pin a stream as live.
 *
 * Reads: one re-check per stream at a time, shared by its concurrent callers and interrupted when the last of them
 * leaves; at most `maxPendingRechecks` of them at once, past which a read gets the last known status, or
 * `TrackerBusyError` when there is none. Each read is a constant amount of work.
 *
 * Writes: read, decide by the rule above, then a compare-and-set on the entry's version ({@link Store}); when another
 * writer came first, read and decide again (a few times at most). So the rule holds however many processes share
 * the store, and the rule is written once, here. A per-stream lock saves the conflicts of one process's own writes.
 * With the default store (in this process's memory) a write is one synchronous step instead, read, decide and write
 * with nothing in between, so it needs neither lock nor retry; a stream is kept there as one compact record.
 *
 * A store elsewhere (Redis, say) may fail: `apply` and `observe` then fail with `TrackerUnavailableError` (applied or
 * not, nothing is claimed: `Endpoints` answers the callback 503 and ZEGOCLOUD retries it), and reads answer this
 * instance's last known status marked `stale: true`, or `TrackerUnavailableError` when it knows none.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as RcMap from "effect/RcMap"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Callback from "./Callback.js"
import type * as CallbackNonceStore from "./CallbackNonceStore.js"
import * as TrackerStore from "./internal/trackerStore.js"
import * as ServerApi from "./ServerApi.js"
import * as StreamState from "./StreamState.js"
import { InvalidRequestError } from "./ZegoError.js"

/**
 * Where a status was learnt: a callback, or a `DescribeRTCStreamState` answer.
 *
 * @example
 * ```ts
 * import type { StreamTracker } from "@effect-zego/core"
 *
 * const fromServerQuery = (source: StreamTracker.Source): boolean => source === "describe"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Source = "callback" | "describe"

/**
 * A stream's status.
 *
 * @example
 * ```ts
 * import type { StreamTracker } from "@effect-zego/core"
 *
 * const describe = (status: StreamTracker.Status): string => {
 *   switch (status.state) {
 *     case "live":
 *       return `live since ${status.since.toISOString()}`
 *     case "closed":
 *       return `closed (${status.reason})`
 *     case "absent":
 *       return "unknown to ZEGOCLOUD"
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Status =
  & (
    | {
      readonly state: "live"
      readonly streamId: string
      /** When the publish started (the server's time). */
      readonly since: Date
      readonly source: Source
      /** When this tracker last learnt something about the stream (its clock). */
      readonly checkedAt: Date
    }
    | {
      readonly state: "closed"
      readonly streamId: string
      /** `unknown` when only `DescribeRTCStreamState` told (it gives no reason). */
      readonly reason: Callback.CloseReason
      readonly closedAt: Date
      readonly source: Source
      readonly checkedAt: Date
    }
    | {
      /** ZEGOCLOUD knows no such stream (41004). */
      readonly state: "absent"
      readonly streamId: string
      readonly source: "describe"
      readonly checkedAt: Date
    }
  )
  & {
    /**
     * Set (`true`) only on a read answered while the store could not be reached: this instance's last known status,
     * which other instances sharing the store may have moved past. Never kept, never published.
     */
    readonly stale?: true
  }

/**
 * A change of a stream's state, as published on {@link Service.changes}.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Stream from "effect/Stream"
 *
 * // Log every stream that goes live or closes.
 * const watch = Effect.flatMap(StreamTracker.StreamTracker, (tracker) =>
 *   tracker.changes.pipe(
 *     Stream.runForEach((change: StreamTracker.Change) => Effect.log(`${change.streamId}: ${change.state}`))
 *   ))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Change = Status

/**
 * The service.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // Not known yet: the tracker asks DescribeRTCStreamState (the mock answers "active").
 * const program = Effect.flatMap(StreamTracker.StreamTracker, (tracker: StreamTracker.Service) => tracker.get("s1"))
 * const TestLive = StreamTracker.layer().pipe(
 *   Layer.provide(ZegoMock.layerServices({ appId: 1234567890, serverSecret: Redacted.make("secret") }))
 * )
 * Effect.runPromise(program.pipe(Effect.provide(TestLive))).then((status) => assert.strictEqual(status?.state, "live"))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Applies a verified stream event; `UnknownEvent` changes nothing. Idempotent. Fails with `TrackerUnavailableError`
   * when the store cannot be reached (or keeps changing under it): the event may or may not have been written, and
   * applying it again is harmless.
   */
  readonly apply: (event: Callback.Event) => Effect.Effect<void, TrackerUnavailableError>
  /**
   * `apply`, for the apply of `CallbackReceiver.Receiver.receiveAndApply`: the delivery, when there is one, goes with
   * the write, so that a store that can commits its nonce within it (see {@link Store.compareAndSet}).
   *
   * @example
   * ```ts
   * import { CallbackReceiver, StreamTracker } from "@effect-zego/core"
   * import * as Effect from "effect/Effect"
   *
   * // A callback handler's core: the event applied, its nonce settled (one round trip with both stores on Redis).
   * const handle = (body: Uint8Array) =>
   *   Effect.gen(function*() {
   *     const receiver = yield* CallbackReceiver.CallbackReceiver
   *     const tracker = yield* StreamTracker.StreamTracker
   *     return yield* receiver.receiveAndApply({ body }, tracker.applyDelivery)
   *   })
   * ```
   */
  readonly applyDelivery: (
    event: Callback.Event,
    delivery: CallbackNonceStore.Delivery | undefined
  ) => Effect.Effect<void, TrackerUnavailableError>
  /**
   * Applies what `DescribeRTCStreamState` said (or 41004, as `undefined`) at the tracker's current time: it replaces
   * what an earlier answer said. An answer with a time more than `maxClockSkew` ahead changes nothing.
   */
  readonly observe: (
    streamId: string,
    state: StreamState.State | undefined
  ) => Effect.Effect<void, TrackerUnavailableError>
  /**
   * The stream's status; when unknown or older than `maxAge`, first re-checked with `DescribeRTCStreamState` (within
   * that action's budget). Concurrent callers of one stream share its re-check, which stops when the last of them is
   * interrupted (with a store shared by several instances, so do the instances: one of them asks, the others wait
   * for its answer). A failed re-check leaves the last known status (or `undefined`). When `maxPendingRechecks` are
   * already pending, no re-check is started: the last known status, or `TrackerBusyError` when there is none. When
   * the store cannot be reached: this instance's last known status marked `stale`, or `TrackerUnavailableError`.
   */
  readonly get: (streamId: string) => Effect.Effect<Status | undefined, TrackerBusyError | TrackerUnavailableError>
  /** The status as known, with no re-check (when the store cannot be reached, as `get` answers then). */
  readonly peek: (streamId: string) => Effect.Effect<Status | undefined, TrackerUnavailableError>
  /** The streams known to be live. */
  readonly live: Effect.Effect<ReadonlyArray<Status>, TrackerUnavailableError>
  /**
   * Every change of state (live → closed, closed → live, …), from the moment of subscription. Each subscriber has a
   * sliding buffer: one that falls behind loses its oldest changes rather than hold up the callbacks; the final
   * state is always readable with `peek` or `get`. With a store that has a changes feed (Redis), the changes made by
   * every instance sharing it, each once, in the order they were written.
   */
  readonly changes: Stream.Stream<Change>
  /**
   * {@link changes}, subscribed when this returns (until the scope closes): running `changes` subscribes only when
   * the stream starts, so a caller that must not miss the next change subscribes first with this.
   */
  readonly subscribe: Effect.Effect<Stream.Stream<Change>, never, Scope.Scope>
}

/**
 * Options of the tracker.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 *
 * // Re-check a status older than 10 seconds; keep at most 1 000 streams.
 * const TrackerLive = StreamTracker.layer({ maxAge: "10 seconds", capacity: 1000 })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** A status older than this is re-checked by `get`. Default 30 seconds; at most 1 hour. */
  readonly maxAge?: Duration.DurationInput | undefined
  /**
   * How many streams the default store keeps: when full it forgets the least recently updated closed or absent
   * stream, and only when there is none the least recently updated live one. With another `store`, how many last
   * known statuses this instance keeps (the same way) to answer reads while that store cannot be reached. Default
   * 10 000.
   */
  readonly capacity?: number | undefined
  /**
   * Where entries are kept: a store shared by several processes (`RedisTrackerStore` from `@effect-zego/redis`), say.
   * Default: in memory, bounded by `capacity`.
   */
  readonly store?: Store | undefined
  /**
   * How many re-checks (one per stream) may be pending at once, waiting for `DescribeRTCStreamState` or its budget.
   * Past it, `get` starts none: it answers the last known status, or fails with `TrackerBusyError` when there is
   * none. Default 100: two and a half seconds of the action's budget (40 per second).
   */
  readonly maxPendingRechecks?: number | undefined
  /**
   * How far ahead of this clock a server time (a callback's, or one `DescribeRTCStreamState` answered) may be. A
   * callback or an answer with a time further ahead changes nothing (a warning is logged). Default 5 minutes, the
   * callback's freshness window; at most 1 hour.
   */
  readonly maxClockSkew?: Duration.DurationInput | undefined
}

/**
 * `get` found nothing known of the stream and `maxPendingRechecks` re-checks already pending, so it started none:
 * retry in a moment. `Endpoints` answers it 503 with `Retry-After`.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 *
 * const error = new StreamTracker.TrackerBusyError({ streamId: "s1", pending: 100 })
 * assert.strictEqual(error.message, "TrackerBusyError: 100 re-checks are already pending; retry later.")
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class TrackerBusyError extends Schema.TaggedError<TrackerBusyError>()("TrackerBusyError", {
  streamId: Schema.String,
  /** The cap that was reached ({@link Options.maxPendingRechecks}). */
  pending: Schema.Int
}) {
  override get message() {
    return `TrackerBusyError: ${this.pending} re-checks are already pending; retry later.`
  }
}

/**
 * The tracker's store could not be reached in time (or the stream kept changing under a write): nothing was claimed
 * applied. `Endpoints` answers it 503 with `Retry-After` (a callback is then retried by ZEGOCLOUD). `reason` is short
 * and holds no secret.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 *
 * const error = new StreamTracker.TrackerUnavailableError({ reason: "Redis gave no answer within 500 millis" })
 * assert.strictEqual(error.message, "TrackerUnavailableError: Redis gave no answer within 500 millis; retry later.")
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class TrackerUnavailableError extends Schema.TaggedError<TrackerUnavailableError>()("TrackerUnavailableError", {
  reason: Schema.String
}) {
  override get message() {
    return `TrackerUnavailableError: ${this.reason}; retry later.`
  }
}

/**
 * Where a status came from in the server's order of events: what the tracker compares the next event with.
 *
 * @example
 * ```ts
 * import type { StreamTracker } from "@effect-zego/core"
 *
 * const closeAt = (time: number): StreamTracker.Key => ({
 *   kind: "close",
 *   roomSessionId: 1n,
 *   streamSeq: 3n,
 *   time,
 *   createdAt: undefined,
 *   exact: true
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Key {
  readonly kind: "create" | "close"
  /** The callback's room session; `undefined` for `DescribeRTCStreamState` (which has none). */
  readonly roomSessionId: bigint | undefined
  /** The callback's `stream_seq`; `undefined` for `DescribeRTCStreamState`. */
  readonly streamSeq: bigint | undefined
  /** The server's time of the event, epoch ms: a create's start, a close's end. */
  readonly time: number
  /** When the publish started, epoch ms (a close: when it says). */
  readonly createdAt: number | undefined
  /** `false`: `DescribeRTCStreamState`'s times, whole seconds. */
  readonly exact: boolean
}

/**
 * What the tracker keeps per stream.
 *
 * @example
 * ```ts
 * import type { StreamTracker } from "@effect-zego/core"
 *
 * const isLive = (entry: StreamTracker.Entry | undefined): boolean => entry?.status.state === "live"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly status: Status
  /** What the status follows from; `undefined` for `absent`. */
  readonly key: Key | undefined
}

/**
 * An entry as a store keeps it, with its version: pass the version back to {@link Store.compareAndSet}.
 *
 * @example
 * ```ts
 * import type { StreamTracker } from "@effect-zego/core"
 *
 * const known = (kept: StreamTracker.Versioned): boolean => kept.entry !== undefined
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Versioned {
  /**
   * `undefined` when nothing is kept, or what is kept cannot be read (a corrupt value, which a `compareAndSet` with
   * this version replaces).
   */
  readonly entry: Entry | undefined
  /** Opaque; changes with every write. */
  readonly version: string
}

/**
 * The tracker's storage: a versioned compare-and-set, so that the tracker can apply its rule atomically however
 * many processes share the store. Bounding it is the store's business (the default forgets as
 * {@link Options.capacity} says). A store that can fail (one over the network) fails with
 * {@link TrackerUnavailableError}, within a bounded time.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // The in-memory store, with every write logged.
 * const logged = (store: StreamTracker.Store): StreamTracker.Store => ({
 *   ...store,
 *   compareAndSet: (streamId, version, next, change) =>
 *     Effect.tap(store.compareAndSet(streamId, version, next, change), (written) =>
 *       written ? Effect.log(`${streamId}: ${next.status.state}`) : Effect.void)
 * })
 * const TrackerLive = StreamTracker.layer({ store: logged(StreamTracker.memoryStore(10_000)) })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  /** The stream's entry and version. */
  readonly get: (streamId: string) => Effect.Effect<Versioned, TrackerUnavailableError>
  /**
   * The entry to decide a write on, when the store can answer sooner than `get` (a store elsewhere, from a copy of
   * its own): it may be behind. A write decided on a stale version fails its compare-and-set, and the tracker reads
   * with `get` and decides again; a decision to write nothing is made again on `get`'s entry. Default: `get`.
   */
  readonly getForWrite?: ((streamId: string) => Effect.Effect<Versioned, TrackerUnavailableError>) | undefined
  /**
   * Writes `next` only if the stream's version is still `version`: `true` when written, `false` when another write
   * came first (the tracker then reads and decides again). `change` says the write changes the stream's state: a
   * store with a {@link changes} feed records it there, atomically with the write. `delivery`, when given, is the
   * callback being applied: a store that can commit its nonce within the same atomic write (for its `store`) may, and
   * then sets `delivery.settled` once written; any other store ignores it (the receiver then settles it).
   */
  readonly compareAndSet: (
    streamId: string,
    version: string,
    next: Entry,
    change: boolean,
    delivery?: CallbackNonceStore.Delivery
  ) => Effect.Effect<boolean, TrackerUnavailableError>
  /** The entries of the streams kept as live. */
  readonly live: Effect.Effect<ReadonlyArray<Entry>, TrackerUnavailableError>
  /**
   * A store shared by several instances: the changes written by any of them, each once, in the order written; the
   * feed starts where the store stood when this returns, and stops with the scope. When there is one, the tracker
   * publishes its changes from it only (never on its own writes), so that every instance sees each change once.
   */
  readonly changes?: Effect.Effect<Stream.Stream<Change>, never, Scope.Scope> | undefined
  /** A store shared by several instances: how they take turns to re-check a stream (see {@link RecheckLease}). */
  readonly recheckLease?: RecheckLease | undefined
}

/**
 * How the instances sharing a store re-check a stream one at a time, so that N of them reading one unknown stream
 * make one `DescribeRTCStreamState` call: the instance that claims the lease asks; the others wait for the entry to
 * change (polling the store), and claim the lease themselves when it is let go without an answer (a failed describe)
 * or lapses (its holder died). A waiter waits at most twice `millis`, then answers what the store has.
 *
 * @example
 * ```ts
 * import type { StreamTracker } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // One process only: every claim is granted (each process then asks for itself).
 * const alone: StreamTracker.RecheckLease = { claim: () => Effect.succeed(true), millis: 5000 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RecheckLease {
  /** `true`: this instance re-checks `streamId`, until the scope closes or `millis` pass; `false`: another does. */
  readonly claim: (streamId: string) => Effect.Effect<boolean, TrackerUnavailableError, Scope.Scope>
  /** How long a claim lasts at most. */
  readonly millis: number
}

/**
 * The in-memory store, bounded to `capacity` streams (the default store). The tracker writes it (itself, not a copy
 * or a wrapper of it) in one synchronous step: read, decide, write, with nothing in between.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const store = StreamTracker.memoryStore(100)
 * const status = { state: "absent", streamId: "s1", source: "describe", checkedAt: new Date(0) } as const
 * const { version } = Effect.runSync(store.get("s1"))
 * assert.strictEqual(Effect.runSync(store.compareAndSet("s1", version, { status, key: undefined }, true)), true)
 * // The version moved on: a writer that read before this one must read again.
 * assert.strictEqual(Effect.runSync(store.compareAndSet("s1", version, { status, key: undefined }, false)), false)
 * assert.strictEqual(Effect.runSync(store.get("s1")).entry?.status.state, "absent")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const memoryStore: (capacity: number) => Store = TrackerStore.memory

/**
 * The service tag.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // What a page's "is the stream live?" endpoint asks.
 * const isLive = (streamId: string) =>
 *   Effect.map(StreamTracker.StreamTracker.pipe(Effect.flatMap((t) => t.get(streamId))), (s) => s?.state === "live")
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class StreamTracker extends Context.Tag("@effect-zego/core/StreamTracker")<StreamTracker, Service>() {}

const DEFAULT_MAX_AGE = Duration.seconds(30)
const DEFAULT_CAPACITY = 10_000
/** 2.5 s of `DescribeRTCStreamState`'s 40 calls per second: the longest a re-check waits in line by default. */
const DEFAULT_MAX_PENDING_RECHECKS = 100
/** The callback's default freshness window: a clock further off than that refuses the callbacks already. */
const DEFAULT_MAX_CLOCK_SKEW = Duration.minutes(5)
/** Changes buffered per subscriber; beyond it the oldest are dropped (sliding), never the callback path blocked. */
const CHANGES_BUFFER = 1024
/** Stripes of the apply lock: one process's writes of a stream in turn, without serialising every stream. */
const STRIPES = 64
/**
 * Compare-and-set attempts of one write. Each conflict means another writer's write went through, so the writers as
 * a whole always progress; a stream written by more than this many instances at once is refused (and retried).
 */
const WRITE_ATTEMPTS = 8
/** How often a reader waiting for another instance's re-check looks at the store (at most). */
const LEASE_POLL_MILLIS = 50

const second = (ms: number) => Math.floor(ms / 1000)

/** Whether `create` starts a later publish than the one `close` ended (ties go to the close: no resurrection). */
const createAfterClose = (create: Key, close: Key): boolean => {
  const other = close.createdAt ?? close.time
  return create.exact && close.exact ? create.time > other : second(create.time) > second(other)
}

/**
 * Whether `next` is later in the stream's history than `current` (the module's comment says why each rule).
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 *
 * const event = (kind: "create" | "close", streamSeq: bigint): StreamTracker.Key => ({
 *   kind,
 *   roomSessionId: 1n,
 *   streamSeq,
 *   time: 0,
 *   createdAt: undefined,
 *   exact: true
 * })
 * // Within a room session, the larger stream_seq wins, and at an equal one the close does.
 * assert.strictEqual(StreamTracker.supersedes(event("create", 2n), event("close", 1n)), true)
 * assert.strictEqual(StreamTracker.supersedes(event("create", 1n), event("close", 1n)), false)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const supersedes = (next: Key, current: Key): boolean => {
  if (next.roomSessionId !== undefined && next.roomSessionId === current.roomSessionId) {
    if (next.streamSeq !== current.streamSeq) return next.streamSeq! > current.streamSeq!
    return next.kind === "close" && current.kind === "create"
  }
  if (next.kind === "create" && current.kind === "close") return createAfterClose(next, current)
  if (next.kind === "close" && current.kind === "create") return !createAfterClose(current, next)
  if (next.exact && current.exact) {
    // Equal times in two sessions: the larger session id, so that the outcome does not depend on arrival order.
    return next.time > current.time ||
      (next.time === current.time && (next.roomSessionId ?? 0n) > (current.roomSessionId ?? 0n))
  }
  return second(next.time) > second(current.time) ||
    (second(next.time) === second(current.time) && next.exact && !current.exact)
}

/** What an event makes of its stream: a create live, a close closed with its reason. */
const eventKept = (event: Callback.StreamCreated | Callback.StreamClosed, checkedAt: number): TrackerStore.Kept =>
  event._tag === "StreamCreated"
    ? new TrackerStore.Kept(
      event.streamId,
      "live",
      "callback",
      event.createdAt.getTime(),
      checkedAt,
      undefined,
      undefined,
      event.roomSessionId,
      event.streamSeq
    )
    : new TrackerStore.Kept(
      event.streamId,
      "closed",
      "callback",
      event.closedAt.getTime(),
      checkedAt,
      event.reason,
      event.createdAt?.getTime(),
      event.roomSessionId,
      event.streamSeq
    )

/** What a `DescribeRTCStreamState` answer makes of its stream (no room session, no seq, the reason unknown). */
const describeKept = (streamId: string, state: StreamState.State, checkedAt: number): TrackerStore.Kept =>
  state.state === "active"
    ? new TrackerStore.Kept(
      streamId,
      "live",
      "describe",
      state.createdAt.getTime(),
      checkedAt,
      undefined,
      undefined,
      undefined,
      undefined
    )
    : new TrackerStore.Kept(
      streamId,
      "closed",
      "describe",
      state.closedAt.getTime(),
      checkedAt,
      "unknown",
      state.createdAt.getTime(),
      undefined,
      undefined
    )

const stripeOf = (streamId: string): number => {
  let hash = 0
  for (let i = 0; i < streamId.length; i++) hash = (hash * 31 + streamId.charCodeAt(i)) | 0
  return (hash >>> 0) % STRIPES
}

const positiveInteger = (parameter: string, value: number) =>
  Number.isSafeInteger(value) && value >= 1
    ? Effect.succeed(value)
    : Effect.fail(new InvalidRequestError({ parameter, detail: "must be a positive integer" }))

/** Durations positive and at most an hour, counts positive integers: anything else is unbounded. */
const validateOptions = (options: Options) =>
  Effect.gen(function*() {
    const maxAge = yield* ServerApi.boundedDuration("maxAge", options.maxAge ?? DEFAULT_MAX_AGE)
    const maxClockSkew = yield* ServerApi.boundedDuration(
      "maxClockSkew",
      options.maxClockSkew ?? DEFAULT_MAX_CLOCK_SKEW
    )
    const capacity = yield* positiveInteger("capacity", options.capacity ?? DEFAULT_CAPACITY)
    const maxPendingRechecks = yield* positiveInteger(
      "maxPendingRechecks",
      options.maxPendingRechecks ?? DEFAULT_MAX_PENDING_RECHECKS
    )
    return {
      maxAgeMillis: Duration.toMillis(maxAge),
      maxClockSkewMillis: Duration.toMillis(maxClockSkew),
      capacity,
      maxPendingRechecks
    }
  })

/** Whether a server time of the event lies past `limit` (epoch ms). */
const eventAhead = (event: Callback.StreamCreated | Callback.StreamClosed, limit: number): boolean =>
  event._tag === "StreamCreated"
    ? event.createdAt.getTime() > limit
    : event.closedAt.getTime() > limit || (event.createdAt !== undefined && event.createdAt.getTime() > limit)
/** Whether a server time of the answer lies past `limit` (epoch ms). */
const stateAhead = (state: StreamState.State, limit: number): boolean =>
  state.createdAt.getTime() > limit || (state.state === "closed" && state.closedAt.getTime() > limit)

/**
 * Builds the tracker; its re-checks run in the scope (closing it stops them and the `changes` hub). Its time comes
 * from the `Clock` it is built with (a `TestClock` when built in a test), looked up once. Fails with
 * `InvalidRequestError` when `maxAge` or `maxClockSkew` is not a positive duration of at most an hour, or `capacity`
 * or `maxPendingRechecks` not a positive integer.
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const tracker = yield* StreamTracker.make({ maxAge: "1 minute" })
 *   return yield* tracker.peek("s1")
 * }))
 * const TestLive = ZegoMock.layerServices({ appId: 1234567890, serverSecret: Redacted.make("secret") })
 * Effect.runPromise(program.pipe(Effect.provide(TestLive))).then((status) => assert.strictEqual(status, undefined))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, InvalidRequestError, StreamState.StreamState | Scope.Scope> =>
  Effect.gen(function*() {
    const { capacity, maxAgeMillis, maxClockSkewMillis, maxPendingRechecks } = yield* validateOptions(options)
    const streamState = yield* StreamState.StreamState
    const store = options.store ?? memoryStore(capacity)
    // The default store's synchronous side: a write is then one step, with no lock and no conflict.
    const direct = TrackerStore.directOf(store)
    // What this instance last read or wrote of each stream, to answer reads while a store elsewhere is unreachable.
    // A store in memory never fails, so it needs none.
    const lastKnown = direct !== undefined
      ? undefined
      : TrackerStore.lastKnown(capacity)
    const hub = yield* Effect.acquireRelease(PubSub.sliding<Change>(CHANGES_BUFFER), PubSub.shutdown)
    // Counted so that a change no one is subscribed to is not even made (a hub without subscribers keeps nothing).
    let subscribers = 0
    const subscription = Effect.zipRight(
      Effect.acquireRelease(Effect.sync(() => subscribers++), () => Effect.sync(() => subscribers--)),
      PubSub.subscribe(hub)
    )
    if (store.changes !== undefined) {
      // Positioned now, so that nothing written from here on is missed; forwarded until the tracker's scope closes.
      const feed = yield* store.changes
      yield* Effect.forkScoped(Stream.runForEach(feed, (change) => PubSub.publish(hub, change)))
    }
    const locks = yield* Effect.forEach(Array.from({ length: STRIPES }), () => Effect.makeSemaphore(1))

    // Looked up once: the fiber's clock, read on every event, costs about as much as applying it.
    const clock = yield* Effect.clock
    const millis = Effect.sync(() => clock.unsafeCurrentTimeMillis())

    const read = (streamId: string, get = store.get) =>
      Effect.tap(get(streamId), (kept) => {
        if (lastKnown !== undefined && kept.entry !== undefined) lastKnown.set(streamId, kept.entry)
      })

    /** The stream's status as the store has it. */
    const readStatus = (streamId: string): Effect.Effect<Status | undefined, TrackerUnavailableError> =>
      direct !== undefined
        ? Effect.sync(() => direct.get(streamId)?.status())
        : Effect.map(read(streamId), (kept) => kept.entry?.status)

    /** This instance's last known status, marked stale; else the store's failure. */
    const lastKnownOr = (streamId: string, error: TrackerUnavailableError) =>
      Effect.gen(function*() {
        const entry = lastKnown?.get(streamId)
        yield* Effect.logDebug(`StreamTracker: ${error.message}`).pipe(Effect.annotateLogs("streamId", streamId))
        if (entry === undefined) return yield* Effect.fail(error)
        const stale: Status = { ...entry.status, stale: true }
        return stale
      })

    /**
     * Whether a change written here is published: only while someone subscribes (a hub without subscribers keeps
     * nothing), and only when the store has no feed of its own (that feed publishes every instance's changes).
     */
    const publishing = () => subscribers > 0 && store.changes === undefined

    /** Publishes a change to every subscriber, never waiting: at once while the hub has room, else sliding out the oldest. */
    const publish = (change: Change): Effect.Effect<void> =>
      hub.unsafeOffer(change) ? Effect.void : Effect.asVoid(PubSub.publish(hub, change))

    /** With the default store: read, decide and write in one step. */
    const updateNow = (
      direct: TrackerStore.Direct,
      streamId: string,
      decide: (current: Entry | undefined, checkedAt: Date) => Entry | undefined
    ) =>
      Effect.suspend(() => {
        const current = direct.get(streamId)
        const next = decide(current?.entry(), new Date(clock.unsafeCurrentTimeMillis()))
        if (next === undefined) return Effect.void
        direct.set(TrackerStore.keptOf(streamId, next), current)
        // Only a change of state is news; a refined time or a re-check is not.
        return next.status.state !== current?.state && publishing() ? publish(next.status) : Effect.void
      })

    /**
     * Read, decide, compare-and-set; again on a conflict (another instance wrote first), at most `WRITE_ATTEMPTS`
     * times. Plain steps, no generator: this runs once per callback.
     */
    const update = (
      streamId: string,
      decide: (current: Entry | undefined, checkedAt: Date) => Entry | undefined,
      delivery?: CallbackNonceStore.Delivery
    ): Effect.Effect<void, TrackerUnavailableError> => {
      if (direct !== undefined) return updateNow(direct, streamId, decide)
      const attempt = (n: number): Effect.Effect<void, TrackerUnavailableError> => {
        if (n === WRITE_ATTEMPTS) {
          return Effect.fail(
            new TrackerUnavailableError({ reason: `the stream changed under ${WRITE_ATTEMPTS} attempts to write it` })
          )
        }
        // The first decision may be made on the store's copy (see `Store.getForWrite`), the others on `get`.
        const copy = n === 0 ? store.getForWrite : undefined
        return Effect.flatMap(read(streamId, copy), (current) => {
          const next = decide(current.entry, new Date(clock.unsafeCurrentTimeMillis()))
          if (next === undefined) return copy !== undefined ? attempt(n + 1) : Effect.void
          // Only a change of state is news; a refined time or a re-check is not.
          const change = next.status.state !== current.entry?.status.state
          return Effect.flatMap(store.compareAndSet(streamId, current.version, next, change, delivery), (written) => {
            if (!written) return attempt(n + 1)
            lastKnown?.set(streamId, next)
            return change && publishing() ? publish(next.status) : Effect.void
          })
        })
      }
      return locks[stripeOf(streamId)]!.withPermits(1)(Effect.suspend(() => attempt(0)))
    }

    /** `current` refreshed: still true as of `checkedAt`. */
    const confirmed = (current: Entry, checkedAt: Date): Entry => ({
      ...current,
      status: { ...current.status, checkedAt }
    })

    /**
     * A server time more than `maxClockSkew` ahead would win every comparison to come (a server on local time, a
     * garbage year), so what carries it is not believed.
     */
    const ignoredAhead = (what: string, streamId: string) =>
      Effect.logWarning(`StreamTracker: ${what} has a time more than maxClockSkew ahead; ignored`).pipe(
        Effect.annotateLogs("streamId", streamId)
      )

    /**
     * With the default store: the event compared with what is kept as it is, and kept as it comes, in one step (the
     * status of a change is made only when someone subscribes).
     */
    const applyNow = (direct: TrackerStore.Direct, event: Callback.StreamCreated | Callback.StreamClosed) =>
      Effect.suspend(() => {
        const now = clock.unsafeCurrentTimeMillis()
        if (eventAhead(event, now + maxClockSkewMillis)) {
          return ignoredAhead(`a ${event.event} callback`, event.streamId)
        }
        const current = direct.get(event.streamId)
        const key = current?.key
        const next = eventKept(event, now)
        if (key !== undefined && !supersedes(next, key)) return Effect.void
        direct.set(next, current)
        return next.state !== current?.state && publishing() ? publish(next.status()) : Effect.void
      })

    const applyDelivery: Service["applyDelivery"] = (event, delivery) => {
      if (event._tag === "UnknownEvent") return Effect.void
      if (direct !== undefined) return applyNow(direct, event)
      return Effect.suspend(() => {
        if (eventAhead(event, clock.unsafeCurrentTimeMillis() + maxClockSkewMillis)) {
          return ignoredAhead(`a ${event.event} callback`, event.streamId)
        }
        return update(event.streamId, (current, checkedAt) => {
          const next = eventKept(event, checkedAt.getTime())
          return current?.key === undefined || supersedes(next, current.key) ? next.entry() : undefined
        }, delivery)
      })
    }
    const apply: Service["apply"] = (event) => applyDelivery(event, undefined)

    const observe: Service["observe"] = (streamId, state) =>
      Effect.gen(function*() {
        if (state !== undefined && stateAhead(state, (yield* millis) + maxClockSkewMillis)) {
          return yield* ignoredAhead("DescribeRTCStreamState", streamId)
        }
        yield* update(streamId, (current, checkedAt) => {
          const absent: Entry = { status: { state: "absent", streamId, source: "describe", checkedAt }, key: undefined }
          if (state === undefined) {
            if (current === undefined || current.status.state === "absent") return absent
            if (current.status.state === "closed") return confirmed(current, checkedAt)
            const fresh = checkedAt.getTime() - current.status.checkedAt.getTime() < maxAgeMillis
            return fresh ? confirmed(current, checkedAt) : absent
          }
          const next = describeKept(streamId, state, checkedAt.getTime())
          // A later answer is the server's later word: answers are ordered by when they came (one re-check per
          // stream at a time), not by their times against each other.
          const replaces = current?.key === undefined || current.status.source === "describe" ||
            supersedes(next, current.key)
          return replaces ? next.entry() : confirmed(current, checkedAt)
        })
      })

    const peek: Service["peek"] = (streamId) =>
      readStatus(streamId).pipe(
        Effect.catchTag("TrackerUnavailableError", (error) => lastKnownOr(streamId, error))
      )

    /** Asks `DescribeRTCStreamState` and applies its answer; a failed describe leaves the entry as it was. */
    const describeOnce = (streamId: string) =>
      streamState.describe(streamId).pipe(
        Effect.map((state): StreamState.State | undefined => state),
        Effect.catchTag("StreamNotFoundError", () => Effect.succeed(undefined)),
        Effect.matchCauseEffect({
          onSuccess: (state) => observe(streamId, state),
          // The caller gets the last known status; the failure is the re-check's business, not theirs.
          onFailure: (cause) =>
            Effect.logDebug("StreamTracker: DescribeRTCStreamState failed; keeping the last known status", cause)
        })
      )

    const monotonicMillis = Effect.map(clock.currentTimeNanos, (nanos) => Number(nanos / 1_000_000n))

    /** Whether the store holds a status of the stream learnt within `maxAge` (by any instance). */
    const freshNow = (streamId: string) =>
      Effect.gen(function*() {
        const status = yield* readStatus(streamId)
        return status !== undefined && (yield* millis) - status.checkedAt.getTime() <= maxAgeMillis
      })

    /**
     * With a lease shared by the instances: describe when this instance claims it (unless another's answer landed
     * meanwhile); else wait for the holder's answer (the entry turns fresh), claiming the lease when it is let go or
     * lapses, for at most twice its length.
     */
    const describeShared = (streamId: string, lease: RecheckLease) =>
      Effect.gen(function*() {
        const deadline = (yield* monotonicMillis) + 2 * lease.millis
        const poll = Duration.millis(Math.max(1, Math.min(LEASE_POLL_MILLIS, Math.floor(lease.millis / 10))))
        while (true) {
          const done = yield* Effect.scoped(Effect.gen(function*() {
            if (!(yield* lease.claim(streamId))) return false
            if (!(yield* freshNow(streamId))) yield* describeOnce(streamId)
            return true
          }))
          if (done) return
          yield* clock.sleep(poll)
          if ((yield* freshNow(streamId)) || (yield* monotonicMillis) >= deadline) return
        }
      })

    const recheck = (streamId: string) =>
      Effect.zipRight(
        store.recheckLease === undefined ? describeOnce(streamId) : describeShared(streamId, store.recheckLease),
        readStatus(streamId)
      )

    // One re-check per stream at a time, shared by its concurrent callers (the action's budget is 40/s per AppId),
    // counted by them: when the last one leaves, the re-check is interrupted (it would serve no one), and at most
    // `maxPendingRechecks` exist at once, so that no one can queue unbounded work.
    const rechecks = yield* RcMap.make({ lookup: recheck, capacity: maxPendingRechecks })

    const get: Service["get"] = (streamId) => {
      // The default store answers a status learnt within `maxAge` in this one step, as the general path below would.
      if (direct !== undefined) {
        const kept = direct.get(streamId)
        if (kept !== undefined && clock.unsafeCurrentTimeMillis() - kept.checkedAtMillis <= maxAgeMillis) {
          return Effect.succeed(kept.status())
        }
      }
      return getChecked(streamId)
    }

    const getChecked = (streamId: string) =>
      Effect.gen(function*() {
        const read = yield* Effect.either(readStatus(streamId))
        if (read._tag === "Left") return yield* lastKnownOr(streamId, read.left)
        const status = read.right
        const at = yield* millis
        if (status !== undefined && at - status.checkedAt.getTime() <= maxAgeMillis) return status
        return yield* Effect.scoped(RcMap.get(rechecks, streamId)).pipe(
          Effect.catchTags({
            ExceededCapacityException: () =>
              status !== undefined
                ? Effect.succeed(status)
                : Effect.fail(new TrackerBusyError({ streamId, pending: maxPendingRechecks })),
            TrackerUnavailableError: (error) => lastKnownOr(streamId, error)
          })
        )
      })

    const live: Service["live"] = direct !== undefined
      ? Effect.sync(() => direct.live().flatMap((kept) => kept.state === "live" ? [kept.status()] : []))
      : Effect.map(store.live, (entries) =>
        entries.flatMap((entry) => entry.status.state === "live" ? [entry.status] : []))

    // Streams are kept under the id ZEGOCLOUD knows (with the test prefix in the test environment), as callbacks
    // carry it, so that `get("match-42")` finds what the callbacks of `zegotest-<AppId>-match-42` told.
    const asSent = streamState.streamIdAsSent
    return StreamTracker.of({
      apply,
      applyDelivery,
      observe: (streamId, state) =>
        observe(asSent(streamId), state),
      get: (streamId) => get(asSent(streamId)),
      peek: (streamId) => peek(asSent(streamId)),
      live,
      changes: Stream.flatMap(Stream.scoped(subscription), (queue) => Stream.fromQueue(queue)),
      subscribe: Effect.map(subscription, (queue) => Stream.fromQueue(queue, { shutdown: true }))
    })
  })

/**
 * The tracker as a layer over a `StreamState` service.
 *
 * @example
 * ```ts
 * import { StreamState, StreamTracker } from "@effect-zego/core"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Layer from "effect/Layer"
 *
 * const TrackerLive = StreamTracker.layer().pipe(
 *   Layer.provide(StreamState.layerConfig()),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<StreamTracker, InvalidRequestError, StreamState.StreamState> =>
  Layer.scoped(StreamTracker, make(options))
