import { Callback } from "@effect-zego/core"
import { RedisNonceStore } from "@effect-zego/redis"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import { startRedis } from "./redisServer.js"

const inAMinute = () => Date.now() + 60_000

describe("RedisNonceStore", () => {
  it.live("takes a nonce once, refuses it again, and lets it through after release", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const store = yield* RedisNonceStore.make({ url: redis.url })
      assert.isTrue(yield* store.take("123412", inAMinute()))
      assert.isFalse(yield* store.take("123412", inAMinute()))
      assert.isTrue(yield* store.take("other", inAMinute()))
      yield* store.release("123412")
      assert.isTrue(yield* store.take("123412", inAMinute()))
    }).pipe(Effect.scoped))

  it.live("keeps a nonce until its expiry (PX), under the configured prefix, hashed", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const store = yield* RedisNonceStore.make({ url: redis.url, keyPrefix: "test:" })
      const nonce = "n".repeat(5000)
      assert.isTrue(yield* store.take(nonce, Date.now() + 30_000))
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(redis.url)),
        (c) => Effect.sync(() => c.disconnect())
      )
      const keys = yield* Effect.promise(() => client.keys("*"))
      assert.strictEqual(keys.length, 1)
      assert.match(keys[0]!, /^test:[0-9a-f]{64}$/)
      const ttl = yield* Effect.promise(() => client.pttl(keys[0]!))
      assert.isAbove(ttl, 20_000)
      assert.isAtMost(ttl, 30_000)
      // A short real expiry: gone after it, and the nonce may be taken again.
      assert.isTrue(yield* store.take("short", Date.now() + 150))
      assert.isFalse(yield* store.take("short", Date.now() + 150))
      yield* Effect.sleep("400 millis")
      assert.isTrue(yield* store.take("short", Date.now() + 60_000))
      // Already past its expiry: nothing to keep.
      assert.isTrue(yield* store.take("stale", Date.now() - 1))
      assert.isTrue(yield* store.take("stale", Date.now() - 1))
    }).pipe(Effect.scoped))

  it.live("two stores on one Redis see each other's nonces (two processes behind one callback URL)", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const one = yield* RedisNonceStore.make({ url: redis.url })
      const two = yield* RedisNonceStore.make({ url: redis.url })
      const results = yield* Effect.all(
        [one.take("race", inAMinute()), two.take("race", inAMinute())],
        { concurrency: 2 }
      )
      assert.deepStrictEqual(results.filter(Boolean).length, 1)
      yield* two.release("race")
      assert.isTrue(yield* one.take("race", inAMinute()))
      assert.isFalse(yield* two.take("race", inAMinute()))
    }).pipe(Effect.scoped))

  it.live("fails with CallbackUnavailableError, never a defect, when Redis is down", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const store = yield* RedisNonceStore.make({ url: redis.url, commandTimeout: "300 millis" })
      yield* redis.stop
      const exit = yield* Effect.exit(store.take("123412", inAMinute()))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.instanceOf(error, Callback.CallbackUnavailableError)
        assert.include(error!.message, "ZEGOCLOUD will retry")
      }
      // A release that fails is logged, not failed.
      yield* store.release("123412")
      yield* redis.start
    }).pipe(Effect.scoped), { timeout: 30_000 })

  it.live("the layer serves a receiver: a replay through another receiver on the same Redis is refused", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const secret = Redacted.make("secret")
      const timestamp = String(Math.floor(Date.now() / 1000))
      const body = JSON.stringify({
        event: "room_create",
        appid: "1",
        timestamp,
        nonce: "777",
        signature: Callback.signature(secret, timestamp, "777")
      })
      const receiver = Callback.makeReceiver({ secret })
      const storeLayer = RedisNonceStore.layer({ url: redis.url })
      // Two builds of the layer: two connections, as two processes would have; both live as long as the test.
      const first = yield* Effect.provide(receiver, yield* Layer.build(storeLayer))
      const second = yield* Effect.provide(receiver, yield* Layer.build(storeLayer))
      const event = yield* first.receive({ body })
      assert.strictEqual(event._tag, "UnknownEvent")
      const replay = yield* Effect.flip(second.receive({ body }))
      assert.strictEqual(replay._tag, "CallbackReplayError")
    }).pipe(Effect.scoped))

  it.effect("refuses a URL that is not redis://", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(RedisNonceStore.make({ url: "http://localhost" }))
      assert.strictEqual(error._tag, "InvalidRequestError")
    }).pipe(Effect.scoped))

  it.effect("layer builds and fails like make", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(RedisNonceStore.layer({ url: "nope" })))
      assert.isTrue(Exit.isFailure(exit))
    }).pipe(Effect.scoped))
})
