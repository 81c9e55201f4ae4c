/**
 * The tracker against a plain `Map`: how fast `StreamTracker.apply` (the default, in-memory store) takes verified
 * stream events, against a `Map` fold of the same ordering rule (`StreamTracker.supersedes`, the status built as the
 * tracker builds it); and the heap a tracked stream costs, against a plain `Map` of the same statuses.
 *
 * The events are what `Callback` decodes: ids of 17 characters (flat strings, as a parsed body gives them), a room
 * session id above 2^53, for each stream in turn a create then a close with the next `stream_seq`; one in ten events
 * delivered twice and one in ten swapped with the next one of its stream (late, so the rule refuses it).
 */
import type { Callback } from "@effect-zego/core"
import { StreamState, StreamTracker } from "@effect-zego/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { loadavg } from "node:os"
import { median, round } from "./stats.js"

type StreamEvent = Callback.StreamCreated | Callback.StreamClosed

const SESSION = 858012925204410400n

/** Stream ids of 17 characters, parsed from JSON as a callback's body is (flat strings, one each). */
const streamIds = (count: number): Array<string> =>
  JSON.parse(JSON.stringify(Array.from({ length: count }, (_, i) => `bench-${String(i).padStart(11, "0")}`)))

/** A small deterministic generator, so that every round and both sides get the same deliveries. */
const random = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x80000000
}

/**
 * `count` events over `streams` streams (round robin: a create, then a close, each with the next `stream_seq`), with
 * duplicates and late events as the module's comment says. Server times lie an hour before `now` and on.
 */
export const events = (count: number, streams: number, now: number): Array<StreamEvent> => {
  const ids = streamIds(streams)
  const base = now - 3_600_000
  const common = { appId: 1540531164, timestamp: Math.floor(now / 1000), nonce: "n" }
  const made: Array<StreamEvent> = []
  for (let i = 0; i < count; i++) {
    const stream = i % streams
    const seq = Math.floor(i / streams) + 1
    const fields = {
      ...common,
      streamId: ids[stream]!,
      roomId: "bench-room",
      roomSessionId: SESSION + BigInt(stream),
      streamSeq: BigInt(seq),
      userId: "u",
      userName: "u",
      channelId: "",
      streamSid: "",
      streamAlias: ""
    }
    const at = base + seq * 1000 + stream % 1000
    made.push(
      seq % 2 === 1
        ? {
          ...fields,
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
        }
        : {
          ...fields,
          _tag: "StreamClosed",
          event: "stream_close",
          reason: "normal",
          closeCode: 0,
          closedAt: new Date(at),
          createdAt: new Date(at - 1000),
          thirdDefineData: ""
        }
    )
  }
  const next = random(42)
  const delivered: Array<StreamEvent> = []
  for (let i = 0; i < made.length; i++) {
    const roll = next()
    const later = made[i + streams]
    if (roll < 0.1 && later !== undefined) {
      // Late: the next event of this stream arrives first.
      made[i + streams] = made[i]!
      delivered.push(later)
    } else {
      delivered.push(made[i]!)
      if (roll > 0.9) delivered.push(made[i]!)
    }
  }
  return delivered
}

const createKey = (event: Callback.StreamCreated): StreamTracker.Key => ({
  kind: "create",
  roomSessionId: event.roomSessionId,
  streamSeq: event.streamSeq,
  time: event.createdAt.getTime(),
  createdAt: event.createdAt.getTime(),
  exact: true
})

const closeKey = (event: Callback.StreamClosed): StreamTracker.Key => ({
  kind: "close",
  roomSessionId: event.roomSessionId,
  streamSeq: event.streamSeq,
  time: event.closedAt.getTime(),
  createdAt: event.createdAt?.getTime(),
  exact: true
})

/** One step of the floor's fold: `event` compared with what `map` holds by the rule, and kept when it wins. */
const foldStep = (map: Map<string, StreamTracker.Entry>, event: StreamEvent): void => {
  const key = event._tag === "StreamCreated" ? createKey(event) : closeKey(event)
  const current = map.get(event.streamId)
  if (current?.key !== undefined && !StreamTracker.supersedes(key, current.key)) return
  const checkedAt = new Date()
  const status: StreamTracker.Status = event._tag === "StreamCreated"
    ? { state: "live", streamId: event.streamId, since: event.createdAt, source: "callback", checkedAt }
    : {
      state: "closed",
      streamId: event.streamId,
      reason: event.reason,
      closedAt: event.closedAt,
      source: "callback",
      checkedAt
    }
  map.set(event.streamId, { status, key })
}

/** The floor: the ordering rule as a plain `Map` fold, each winning event's status built as the tracker's is. */
export const mapFold = (delivered: ReadonlyArray<StreamEvent>): Map<string, StreamTracker.Entry> => {
  const map = new Map<string, StreamTracker.Entry>()
  for (const event of delivered) foldStep(map, event)
  return map
}

/** No `DescribeRTCStreamState` here: only `apply` and `peek` are measured. */
const noDescribe = Layer.succeed(StreamState.StreamState, {
  appId: 1540531164,
  baseUrl: "http://127.0.0.1:9",
  streamIdAsSent: (streamId) => streamId,
  describe: () => Effect.die("the tracker bench asks no describe")
})

/** A tracker with room for `capacity` streams, used by `body` within its scope. */
const withTracker = <A, E>(capacity: number, body: (tracker: StreamTracker.Service) => Effect.Effect<A, E>) =>
  Effect.runPromise(
    Effect.scoped(Effect.flatMap(StreamTracker.make({ capacity }), body)).pipe(Effect.provide(noDescribe))
  )

const gc = () => {
  globalThis.gc?.()
  globalThis.gc?.()
}

/**
 * CPU nanoseconds of this process since `since` (`process.cpuUsage`): on a machine shared with other work, the wall
 * clock would count their time too. Both sides run in this one thread (the collector's helpers aside), measured alike.
 */
const cpuNanos = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) * 1000
}

/** CPU nanoseconds per event of the floor's fold. */
const timeFloor = (delivered: ReadonlyArray<StreamEvent>): number => {
  gc()
  const started = process.cpuUsage()
  const map = mapFold(delivered)
  const nanos = cpuNanos(started)
  if (map.size === 0) throw new Error("the fold kept nothing")
  return nanos / delivered.length
}

/** CPU nanoseconds per event of the tracker's `apply`, the events applied one after another in one fiber. */
const timeTracker = (delivered: ReadonlyArray<StreamEvent>, streams: number): Promise<number> =>
  withTracker(streams, (tracker) =>
    Effect.gen(function*() {
      gc()
      const started = process.cpuUsage()
      yield* Effect.forEach(delivered, tracker.apply, { discard: true })
      return cpuNanos(started) / delivered.length
    }))

/**
 * For scale, what bounds any API that takes one event per effect: the floor's own step run as the tracker's events
 * are, one `Effect.sync` per event under `Effect.forEach` in one fiber.
 */
const timeFoldAsEffects = (delivered: ReadonlyArray<StreamEvent>): number => {
  const map = new Map<string, StreamTracker.Entry>()
  gc()
  const started = process.cpuUsage()
  Effect.runSync(Effect.forEach(delivered, (event) => Effect.sync(() => foldStep(map, event)), { discard: true }))
  const nanos = cpuNanos(started)
  if (map.size === 0) throw new Error("the fold kept nothing")
  return nanos / delivered.length
}

/** Checks that the tracker and the fold end with the same state of every stream (else the timing means nothing). */
const crossCheck = (delivered: ReadonlyArray<StreamEvent>, streams: number): Promise<number> =>
  withTracker(streams, (tracker) =>
    Effect.gen(function*() {
      yield* Effect.forEach(delivered, tracker.apply, { discard: true })
      const floor = mapFold(delivered)
      for (const [streamId, entry] of floor) {
        const status = yield* Effect.orDie(tracker.peek(streamId))
        const same = status?.state === entry.status.state &&
          (status.state === "live"
            ? entry.status.state === "live" && status.since.getTime() === entry.status.since.getTime()
            : status.state === "closed" && entry.status.state === "closed" &&
              status.closedAt.getTime() === entry.status.closedAt.getTime())
        if (!same) throw new Error(`the tracker and the fold disagree on ${streamId}`)
      }
      return floor.size
    }))

const heapUsed = () => {
  gc()
  return process.memoryUsage().heapUsed
}

/** Bytes per stream of a plain `Map` of each stream's final status (the fold's answer, statuses only). */
const floorBytes = (streams: number, now: number): number => {
  const before = heapUsed()
  let delivered: Array<StreamEvent> | undefined = events(streams * 3 / 2, streams, now)
  let entries: Map<string, StreamTracker.Entry> | undefined = mapFold(delivered)
  const statuses = new Map<string, StreamTracker.Status>()
  for (const [streamId, entry] of entries) statuses.set(streamId, entry.status)
  delivered = undefined
  entries = undefined
  const bytes = (heapUsed() - before) / streams
  if (statuses.size !== streams) throw new Error("the fold lost streams")
  return bytes
}

/** Bytes per stream of a tracker holding the same streams (its own fixed cost included). */
const trackerBytes = async (streams: number, now: number): Promise<number> => {
  const before = heapUsed()
  const delivered = events(streams * 3 / 2, streams, now)
  return withTracker(streams, (tracker) =>
    Effect.gen(function*() {
      yield* Effect.forEach(delivered, tracker.apply, { discard: true })
      // The events go; what the tracker keeps of them stays.
      delivered.length = 0
      const bytes = (heapUsed() - before) / streams
      const live = yield* Effect.orDie(tracker.live)
      if (live.length !== streams / 2) throw new Error("the tracker lost streams")
      return bytes
    }))
}

export interface TrackerFigures {
  readonly events: number
  readonly streams: number
  readonly rounds: number
  readonly memoryRounds: number
  /** CPU nanoseconds per event, medians over the rounds. */
  readonly floorNanosPerEvent: number
  readonly trackerNanosPerEvent: number
  /** The median over rounds of floor time ÷ tracker time of the same round (the tracker's speed as a share). */
  readonly speedRatio: number
  /** The same for the floor's step run one effect per event: the most any one-effect-per-event API reaches. */
  readonly foldAsEffectsNanosPerEvent: number
  readonly foldAsEffectsRatio: number
  readonly memoryStreams: number
  /** Heap bytes per stream, medians over the rounds. */
  readonly floorBytesPerStream: number
  readonly trackerBytesPerStream: number
  /** Tracker bytes ÷ floor bytes. */
  readonly memoryRatio: number
  readonly loadAverage: { readonly before: number; readonly after: number }
}

export const run = async (
  options: {
    readonly rounds: number
    readonly memoryRounds: number
    readonly events: number
    readonly streams: number
    readonly memoryStreams: number
  },
  log: (line: string) => void
): Promise<TrackerFigures> => {
  const loadBefore = round(loadavg()[0]!, 2)
  const now = Date.now()
  const delivered = events(options.events, options.streams, now)
  const checked = await crossCheck(delivered, options.streams)
  log(`  cross-checked: the tracker and the fold agree on all ${checked} streams`)
  // A round of each to warm up, not counted.
  timeFloor(delivered)
  await timeTracker(delivered, options.streams)
  const floor: Array<number> = []
  const ours: Array<number> = []
  const asEffects: Array<number> = []
  for (let r = 0; r < options.rounds; r++) {
    // Rotating which goes first, so that none always runs on a warmer (or busier) machine.
    const sides = [
      () => floor.push(timeFloor(delivered)),
      async () => ours.push(await timeTracker(delivered, options.streams)),
      () => asEffects.push(timeFoldAsEffects(delivered))
    ]
    for (let i = 0; i < sides.length; i++) await sides[(r + i) % sides.length]!()
  }
  log(
    `  CPU ns per event, ${options.rounds} rounds: fold ${floor.map((n) => round(n, 0)).join(" ")}; tracker` +
      ` ${ours.map((n) => round(n, 0)).join(" ")}; fold as effects ${asEffects.map((n) => round(n, 0)).join(" ")}`
  )
  const floorMemory: Array<number> = []
  const oursMemory: Array<number> = []
  for (let r = 0; r < options.memoryRounds; r++) {
    floorMemory.push(floorBytes(options.memoryStreams, now))
    oursMemory.push(await trackerBytes(options.memoryStreams, now))
  }
  log(
    `  heap bytes per stream, ${options.memoryRounds} rounds: Map ${floorMemory.map((n) => round(n, 1)).join(" ")};` +
      ` tracker ${oursMemory.map((n) => round(n, 1)).join(" ")}`
  )
  const floorNanos = median(floor)
  const oursNanos = median(ours)
  const floorBytesPerStream = median(floorMemory)
  const trackerBytesPerStream = median(oursMemory)
  return {
    events: delivered.length,
    streams: options.streams,
    rounds: options.rounds,
    memoryRounds: options.memoryRounds,
    floorNanosPerEvent: round(floorNanos, 0),
    trackerNanosPerEvent: round(oursNanos, 0),
    speedRatio: round(median(floor.map((f, i) => f / ours[i]!)), 3),
    foldAsEffectsNanosPerEvent: round(median(asEffects), 0),
    foldAsEffectsRatio: round(median(floor.map((f, i) => f / asEffects[i]!)), 3),
    memoryStreams: options.memoryStreams,
    floorBytesPerStream: round(floorBytesPerStream, 1),
    trackerBytesPerStream: round(trackerBytesPerStream, 1),
    memoryRatio: round(trackerBytesPerStream / floorBytesPerStream, 3),
    loadAverage: { before: loadBefore, after: round(loadavg()[0]!, 2) }
  }
}
