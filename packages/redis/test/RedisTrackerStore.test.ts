import type { StreamTracker } from "@effect-zego/core"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { startRedis } from "./redisServer.js"
import { closed, countingState, created, T0, trackerOn } from "./trackerFixtures.js"

const noDescribe = countingState(() => Effect.die("no describe expected"), Ref.unsafeMake(0))

describe("RedisTrackerStore: one state for every instance", () => {
  it.live("a callback applied on one instance is read, listed and published on every instance", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const [one, two] = yield* Effect.all([
        trackerOn({ url: redis.url }, noDescribe),
        trackerOn({ url: redis.url }, noDescribe)
      ])
      const seen = yield* Effect.forEach(
        [one, two],
        (tracker) =>
          Effect.flatMap(tracker.subscribe, (changes) => Effect.fork(Stream.runCollect(Stream.take(changes, 2))))
      )
      yield* one.apply(created("s1", 1, T0))
      assert.strictEqual((yield* two.peek("s1"))?.state, "live")
      assert.deepStrictEqual((yield* two.live).map((status) => status.streamId), ["s1"])
      yield* two.apply(closed("s1", 2, T0 + 5000, { reason: "heartbeatTimeout", createdAt: T0 }))
      const status = yield* one.peek("s1")
      assert.strictEqual(status?.state === "closed" && status.reason, "heartbeatTimeout")
      assert.deepStrictEqual(yield* one.live, [])
      for (const fiber of seen) {
        const changes: ReadonlyArray<StreamTracker.Change> = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        assert.deepStrictEqual(changes.map((change) => change.state), ["live", "closed"])
      }
    }).pipe(Effect.scoped))
})
