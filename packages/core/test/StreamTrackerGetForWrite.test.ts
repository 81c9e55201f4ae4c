// A store that answers `getForWrite` from a copy of its own, which may be behind: the tracker's writes still end in
// the rule's answer on what the store holds.
import type { Callback } from "@effect-zego/core"
import { StreamState, StreamTracker } from "@effect-zego/core"
import { CallbackEvents } from "@effect-zego/core/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"

const STREAM = "obs-1"
const SESSION = 858012925204410400n
const T0 = 1_700_000_000_000

const created = (streamSeq: number): Callback.StreamCreated =>
  CallbackEvents.streamCreated({
    streamId: STREAM,
    streamSeq,
    createdAt: T0 + streamSeq * 1000,
    roomSessionId: SESSION
  })

const closed = (streamSeq: number, reason: Callback.CloseReason): Callback.StreamClosed =>
  CallbackEvents.streamClosed({
    streamId: STREAM,
    streamSeq,
    closedAt: T0 + streamSeq * 1000,
    reason,
    roomSessionId: SESSION
  })

const noDescribe: StreamState.Service = {
  appId: 1,
  baseUrl: "http://oracle",
  streamIdAsSent: (streamId) => streamId,
  describe: () => Effect.die("no describe expected")
}

/**
 * The in-memory store with a copy the test freezes: `getForWrite` answers what `freeze` last took from the store,
 * counted, and `get` is counted too. A tracker of its own writes on the store itself.
 */
const storeWithCopy = Effect.gen(function*() {
  yield* TestClock.setTime(T0 + 3_600_000)
  const shared = StreamTracker.memoryStore(100)
  const counts = { get: 0, getForWrite: 0 }
  let copy: StreamTracker.Versioned | undefined
  const store: StreamTracker.Store = {
    ...shared,
    get: (streamId) => Effect.suspend(() => (counts.get++, shared.get(streamId))),
    getForWrite: (streamId) =>
      Effect.suspend(() => (counts.getForWrite++, copy === undefined ? shared.get(streamId) : Effect.succeed(copy)))
  }
  const make = (store: StreamTracker.Store) =>
    Effect.provideService(StreamTracker.make({ store }), StreamState.StreamState, noDescribe)
  const tracker = yield* make(store)
  const other = yield* make(shared)
  const freeze = Effect.map(shared.get(STREAM), (kept) => {
    copy = kept
  })
  return { counts, freeze, other, shared, tracker }
})

describe("StreamTracker: a store's getForWrite", () => {
  it.scoped("a write decided on a copy behind the store fails its compare-and-set and is decided again on get", () =>
    Effect.gen(function*() {
      const { counts, freeze, other, tracker } = yield* storeWithCopy
      yield* tracker.apply(created(1))
      yield* freeze
      // The store moves on behind the copy: closed at seq 4, which a close at seq 3 does not supersede.
      yield* other.apply(closed(4, "kickedOut"))
      counts.get = 0
      yield* tracker.apply(closed(3, "normal"))
      const status = yield* tracker.peek(STREAM)
      assert.strictEqual(status?.state === "closed" && status.reason, "kickedOut")
      assert.isAtLeast(counts.get, 1, "decided again on get")
    }))

  it.scoped("a decision on the copy to write nothing is made again on get", () =>
    Effect.gen(function*() {
      const { counts, freeze, shared, tracker } = yield* storeWithCopy
      yield* tracker.apply(created(3))
      yield* freeze
      // Behind the copy, the store says absent (as a re-check's 41004 may): the same create brings the stream back,
      // though on the copy it is a duplicate.
      const { version } = yield* shared.get(STREAM)
      const absent = { state: "absent", streamId: STREAM, source: "describe", checkedAt: new Date(T0) } as const
      assert.isTrue(yield* shared.compareAndSet(STREAM, version, { status: absent, key: undefined }, true))
      counts.get = 0
      counts.getForWrite = 0
      yield* tracker.apply(created(3))
      assert.strictEqual((yield* tracker.peek(STREAM))?.state, "live")
      assert.deepStrictEqual(counts, { get: 2, getForWrite: 1 }, "the copy, then the store, then peek's read")
    }))

  it.scoped("a copy that is right costs no read", () =>
    Effect.gen(function*() {
      const { counts, freeze, tracker } = yield* storeWithCopy
      yield* tracker.apply(created(1))
      yield* freeze
      counts.get = 0
      yield* tracker.apply(closed(2, "normal"))
      assert.deepStrictEqual(counts, { get: 0, getForWrite: 2 })
    }))
})
