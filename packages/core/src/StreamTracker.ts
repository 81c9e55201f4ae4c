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
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
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
  /** Applies a verified stream event; `UnknownEvent` changes nothing. Idempotent. */
  readonly apply: (event: Callback.Event) => Effect.Effect<void>
  /**
   * Applies what `DescribeRTCStreamState` said (or 41004, as `undefined`) at the tracker's current time: it replaces
   * what an earlier answer said. An answer with a time more than `maxClockSkew` ahead changes nothing.
   */
  readonly observe: (streamId: string, state: StreamState.State | undefined) => Effect.Effect<void>
  /**
   * The stream's status; when unknown or older than `maxAge`, first re-checked with `DescribeRTCStreamState` (within
   * that action's budget). Concurrent callers of one stream share its re-check, which stops when the last of them is
   * interrupted. A failed re-check leaves the last known status (or `undefined`). When `maxPendingRechecks` are
   * already pending, no re-check is started: the last known status, or `TrackerBusyError` when there is none.
   */
  readonly get: (streamId: string) => Effect.Effect<Status | undefined, TrackerBusyError>
  /** The status as known, with no re-check. */
  readonly peek: (streamId: string) => Effect.Effect<Status | undefined>
  /** The streams known to be live. */
  readonly live: Effect.Effect<ReadonlyArray<Status>>
  /**
   * Every change of state (live → closed, closed → live, …), from the moment of subscription. Each subscriber has a
   * sliding buffer: one that falls behind loses its oldest changes rather than hold up the callbacks; the final
   * state is always readable with `peek` or `get`.
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
   * stream, and only when there is none the least recently updated live one. Default 10 000.
   */
  readonly capacity?: number | undefined
  /** Where entries are kept (a store shared by several processes, say). Default: in memory, bounded by `capacity`. */
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
 * The tracker's storage. Bounding it is the store's business (the default forgets as {@link Options.capacity} says).
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // The in-memory store, with every write logged.
 * const logged = (store: StreamTracker.Store): StreamTracker.Store => ({
 *   ...store,
 *   set: (streamId, entry) => Effect.zipRight(Effect.log(`${streamId}: ${entry.status.state}`), store.set(streamId, entry))
 * })
 * const TrackerLive = StreamTracker.layer({ store: logged(StreamTracker.memoryStore(10_000)) })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  readonly get: (streamId: string) => Effect.Effect<Entry | undefined>
  readonly set: (streamId: string, entry: Entry) => Effect.Effect<void>
  readonly delete: (streamId: string) => Effect.Effect<void>
  readonly list: Effect.Effect<ReadonlyArray<readonly [string, Entry]>>
}

/**
 * The in-memory store, bounded to `capacity` streams (the default store).
 *
 * @example
 * ```ts
 * import { StreamTracker } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const store = StreamTracker.memoryStore(100)
 * const status = { state: "absent", streamId: "s1", source: "describe", checkedAt: new Date(0) } as const
 * Effect.runSync(store.set("s1", { status, key: undefined }))
 * assert.strictEqual(Effect.runSync(store.get("s1"))?.status.state, "absent")
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
/** Stripes of the apply lock: atomic per stream without serialising every stream behind one lock. */
const STRIPES = 64

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

const eventEntry = (event: Callback.StreamCreated | Callback.StreamClosed, checkedAt: Date): Entry =>
  event._tag === "StreamCreated"
    ? {
      status: { state: "live", streamId: event.streamId, since: event.createdAt, source: "callback", checkedAt },
      key: {
        kind: "create",
        roomSessionId: event.roomSessionId,
        streamSeq: event.streamSeq,
        time: event.createdAt.getTime(),
        createdAt: event.createdAt.getTime(),
        exact: true
      }
    }
    : {
      status: {
        state: "closed",
        streamId: event.streamId,
        reason: event.reason,
        closedAt: event.closedAt,
        source: "callback",
        checkedAt
      },
      key: {
        kind: "close",
        roomSessionId: event.roomSessionId,
        streamSeq: event.streamSeq,
        time: event.closedAt.getTime(),
        createdAt: event.createdAt?.getTime(),
        exact: true
      }
    }

const describeEntry = (streamId: string, state: StreamState.State, checkedAt: Date): Entry => {
  const createdAt = state.createdAt.getTime()
  return state.state === "active"
    ? {
      status: { state: "live", streamId, since: state.createdAt, source: "describe", checkedAt },
      key: { kind: "create", roomSessionId: undefined, streamSeq: undefined, time: createdAt, createdAt, exact: false }
    }
    : {
      status: { state: "closed", streamId, reason: "unknown", closedAt: state.closedAt, source: "describe", checkedAt },
      key: {
        kind: "close",
        roomSessionId: undefined,
        streamSeq: undefined,
        time: state.closedAt.getTime(),
        createdAt,
        exact: false
      }
    }
}

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

/** The server's times an event or an answer carries. */
const eventTimes = (event: Callback.StreamCreated | Callback.StreamClosed): ReadonlyArray<Date | undefined> =>
  event._tag === "StreamCreated" ? [event.createdAt] : [event.closedAt, event.createdAt]
const stateTimes = (state: StreamState.State): ReadonlyArray<Date> =>
  state.state === "active" ? [state.createdAt] : [state.createdAt, state.closedAt]

/**
 * Builds the tracker; its re-checks run in the scope (closing it stops them and the `changes` hub). Fails with
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
    const hub = yield* Effect.acquireRelease(PubSub.sliding<Change>(CHANGES_BUFFER), PubSub.shutdown)
    const locks = yield* Effect.forEach(Array.from({ length: STRIPES }), () => Effect.makeSemaphore(1))

    const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

    /** Read, decide, write and publish as one step for this stream. */
    const update = (streamId: string, decide: (current: Entry | undefined, checkedAt: Date) => Entry | undefined) =>
      locks[stripeOf(streamId)]!.withPermits(1)(Effect.gen(function*() {
        const current = yield* store.get(streamId)
        const next = decide(current, yield* now)
        if (next === undefined) return
        yield* store.set(streamId, next)
        // Only a change of state is news; a refined time or a re-check is not.
        if (next.status.state !== current?.status.state) yield* PubSub.publish(hub, next.status)
      }))

    /** `current` refreshed: still true as of `checkedAt`. */
    const confirmed = (current: Entry, checkedAt: Date): Entry => ({
      ...current,
      status: { ...current.status, checkedAt }
    })

    /**
     * Whether a server time lies more than `maxClockSkew` ahead: such a time would win every comparison to come (a
     * server on local time, a garbage year), so what carries it is not believed.
     */
    const aheadOfClock = (times: ReadonlyArray<Date | undefined>, what: string, streamId: string) =>
      Effect.gen(function*() {
        const limit = (yield* Clock.currentTimeMillis) + maxClockSkewMillis
        if (!times.some((time) => time !== undefined && time.getTime() > limit)) return false
        yield* Effect.logWarning(`StreamTracker: ${what} has a time more than maxClockSkew ahead; ignored`).pipe(
          Effect.annotateLogs("streamId", streamId)
        )
        return true
      })

    const apply: Service["apply"] = (event) =>
      event._tag === "UnknownEvent" ? Effect.void : Effect.gen(function*() {
        if (yield* aheadOfClock(eventTimes(event), `a ${event.event} callback`, event.streamId)) return
        yield* update(event.streamId, (current, checkedAt) => {
          const next = eventEntry(event, checkedAt)
          return current?.key === undefined || supersedes(next.key!, current.key) ? next : undefined
        })
      })

    const observe: Service["observe"] = (streamId, state) =>
      Effect.gen(function*() {
        if (state !== undefined && (yield* aheadOfClock(stateTimes(state), "DescribeRTCStreamState", streamId))) return
        yield* update(streamId, (current, checkedAt) => {
          const absent: Entry = { status: { state: "absent", streamId, source: "describe", checkedAt }, key: undefined }
          if (state === undefined) {
            if (current === undefined || current.status.state === "absent") return absent
            if (current.status.state === "closed") return confirmed(current, checkedAt)
            const fresh = checkedAt.getTime() - current.status.checkedAt.getTime() < maxAgeMillis
            return fresh ? confirmed(current, checkedAt) : absent
          }
          const next = describeEntry(streamId, state, checkedAt)
          // A later answer is the server's later word: answers are ordered by when they came (one re-check per
          // stream at a time), not by their times against each other.
          const replaces = current?.key === undefined || current.status.source === "describe" ||
            supersedes(next.key!, current.key)
          return replaces ? next : confirmed(current, checkedAt)
        })
      })

    const peek: Service["peek"] = (streamId) => Effect.map(store.get(streamId), (entry) => entry?.status)

    const recheck = (streamId: string) =>
      streamState.describe(streamId).pipe(
        Effect.flatMap((state) => observe(streamId, state)),
        Effect.catchTag("StreamNotFoundError", () => observe(streamId, undefined)),
        // The caller gets the last known status; the failure is the re-check's business, not theirs.
        Effect.catchAllCause((cause) =>
          Effect.logDebug("StreamTracker: DescribeRTCStreamState failed; keeping the last known status", cause)
        ),
        Effect.zipRight(peek(streamId))
      )

    // One re-check per stream at a time, shared by its concurrent callers (the action's budget is 40/s per AppId),
    // counted by them: when the last one leaves, the re-check is interrupted (it would serve no one), and at most
    // `maxPendingRechecks` exist at once, so that no one can queue unbounded work.
    const rechecks = yield* RcMap.make({ lookup: recheck, capacity: maxPendingRechecks })

    const get: Service["get"] = (streamId) =>
      Effect.gen(function*() {
        const status = yield* peek(streamId)
        const at = yield* Clock.currentTimeMillis
        if (status !== undefined && at - status.checkedAt.getTime() <= maxAgeMillis) return status
        return yield* Effect.scoped(RcMap.get(rechecks, streamId)).pipe(
          Effect.catchTag("ExceededCapacityException", () =>
            status !== undefined
              ? Effect.succeed(status)
              : Effect.fail(new TrackerBusyError({ streamId, pending: maxPendingRechecks })))
        )
      })

    const live: Service["live"] = Effect.map(
      store.list,
      (entries) => entries.flatMap(([, entry]) => entry.status.state === "live" ? [entry.status] : [])
    )

    // Streams are kept under the id ZEGOCLOUD knows (with the test prefix in the test environment), as callbacks
    // carry it, so that `get("match-42")` finds what the callbacks of `zegotest-<AppId>-match-42` told.
    const asSent = streamState.streamIdAsSent
    return StreamTracker.of({
      apply,
      observe: (streamId, state) => observe(asSent(streamId), state),
      get: (streamId) => get(asSent(streamId)),
      peek: (streamId) => peek(asSent(streamId)),
      live,
      changes: Stream.fromPubSub(hub),
      subscribe: Stream.fromPubSub(hub, { scoped: true })
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
