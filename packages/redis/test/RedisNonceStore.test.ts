import { Callback, CallbackError, CallbackNonceStore, CallbackReceiver } from "@effect-zego/core"
import { RedisNonceStore } from "@effect-zego/redis"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import { startRedis } from "./redisServer.js"

const inAMinute = () => Date.now() + 60_000

describe("RedisNonceStore", () => {
  /** Claims and, if claimed, commits: what a receiver does with an event it applied. */
  const claimAndCommit = (store: CallbackNonceStore.NonceStore, nonce: string, expiresAt: number) =>
    Effect.tap(
      store.claim(nonce, expiresAt),
      (claim) => claim._tag === "Claimed" ? store.commit(nonce, claim.token, expiresAt) : Effect.void
    )
  const claimed = (claim: CallbackNonceStore.Claim): string => {
    assert.strictEqual(claim._tag, "Claimed")
    return claim._tag === "Claimed" ? claim.token : ""
  }

  it.live("a claim is pending until committed (then applied) or released (then claimable again)", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const store = yield* RedisNonceStore.make({ url: redis.url })
      const token = claimed(yield* store.claim("123412", inAMinute()))
      assert.strictEqual((yield* store.claim("123412", inAMinute()))._tag, "Pending")
      yield* store.release("123412", token)
      const again = claimed(yield* store.claim("123412", inAMinute()))
      yield* store.commit("123412", again, inAMinute())
      assert.strictEqual((yield* store.claim("123412", inAMinute()))._tag, "Applied")
      // A stale release (an old token) does not undo the commit.
      yield* store.release("123412", token)
      assert.strictEqual((yield* store.claim("123412", inAMinute()))._tag, "Applied")
      assert.strictEqual((yield* store.claim("other", inAMinute()))._tag, "Claimed")
    }).pipe(Effect.scoped))

  it.live(
    "settleApplied: the first applied delivery commits (over a claim another holds); later ones are replays",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const store = yield* RedisNonceStore.make({ url: redis.url })
        const settle = store.settleApplied!
        assert.strictEqual(yield* settle("s1", inAMinute()), "first")
        assert.strictEqual(yield* settle("s1", inAMinute()), "replay")
        assert.strictEqual((yield* store.claim("s1", inAMinute()))._tag, "Applied")
        // Another delivery holds a claim: this one applied the event, so the nonce is committed; the holder's release
        // leaves it so.
        const held = claimed(yield* store.claim("s2", inAMinute()))
        assert.strictEqual(yield* settle("s2", inAMinute()), "first")
        yield* store.release("s2", held)
        assert.strictEqual((yield* store.claim("s2", inAMinute()))._tag, "Applied")
        // Past its window: nothing kept.
        assert.strictEqual(yield* settle("s3", Date.now() - 1), "first")
        assert.strictEqual(yield* settle("s3", Date.now() - 1), "first")
        yield* redis.stop
        assert.strictEqual((yield* Effect.flip(settle("s4", inAMinute())))._tag, "CallbackUnavailableError")
        yield* redis.start
      }).pipe(Effect.scoped),
    { timeout: 30_000 }
  )

  it.live("an unsettled claim lapses after the pending timeout; a late release leaves the new claim alone", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const store = yield* RedisNonceStore.make({ url: redis.url, pendingTimeout: "150 millis" })
      const first = claimed(yield* store.claim("n", inAMinute()))
      yield* Effect.sleep("400 millis")
      const second = claimed(yield* store.claim("n", inAMinute()))
      yield* store.release("n", first)
      assert.strictEqual((yield* store.claim("n", inAMinute()))._tag, "Pending")
      yield* store.commit("n", second, inAMinute())
      assert.strictEqual((yield* store.claim("n", inAMinute()))._tag, "Applied")
    }).pipe(Effect.scoped))

  it.live("keeps an applied nonce until its expiry (PX), under the configured prefix, hashed", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const store = yield* RedisNonceStore.make({ url: redis.url, keyPrefix: "test:" })
      const nonce = "n".repeat(5000)
      assert.strictEqual((yield* claimAndCommit(store, nonce, Date.now() + 30_000))._tag, "Claimed")
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
      // A short real expiry: gone after it, and the nonce may be claimed again.
      assert.strictEqual((yield* claimAndCommit(store, "short", Date.now() + 150))._tag, "Claimed")
      assert.strictEqual((yield* store.claim("short", Date.now() + 150))._tag, "Applied")
      yield* Effect.sleep("400 millis")
      assert.strictEqual((yield* store.claim("short", Date.now() + 60_000))._tag, "Claimed")
      // Already past its expiry: nothing to keep.
      assert.strictEqual((yield* claimAndCommit(store, "stale", Date.now() - 1))._tag, "Claimed")
      assert.strictEqual((yield* claimAndCommit(store, "stale", Date.now() - 1))._tag, "Claimed")
    }).pipe(Effect.scoped))

  it.live("two stores on one Redis see each other's nonces (two processes behind one callback URL)", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const one = yield* RedisNonceStore.make({ url: redis.url })
      const two = yield* RedisNonceStore.make({ url: redis.url })
      const results = yield* Effect.all(
        [one.claim("race", inAMinute()), two.claim("race", inAMinute())],
        { concurrency: 2 }
      )
      assert.deepStrictEqual(results.map((r) => r._tag).sort(), ["Claimed", "Pending"])
      const winner = results.findIndex((r) => r._tag === "Claimed")
      const token = claimed(results[winner]!)
      yield* [one, two][winner]!.commit("race", token, inAMinute())
      assert.strictEqual((yield* one.claim("race", inAMinute()))._tag, "Applied")
      assert.strictEqual((yield* two.claim("race", inAMinute()))._tag, "Applied")
    }).pipe(Effect.scoped))

  it.live("fails with CallbackUnavailableError, never a defect, when Redis is down", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const store = yield* RedisNonceStore.make({ url: redis.url, commandTimeout: "300 millis" })
      yield* redis.stop
      for (const attempt of [store.claim("123412", inAMinute()), store.commit("123412", "t", inAMinute())]) {
        const error = yield* Effect.flip(attempt)
        assert.instanceOf(error, CallbackError.CallbackUnavailableError)
        assert.include(error.message, "ZEGOCLOUD will retry")
      }
      // A release that fails is logged, not failed.
      yield* store.release("123412", "t")
      yield* redis.start
    }).pipe(Effect.scoped), { timeout: 30_000 })

  it.live(
    "a claim that timed out during a Redis pause does not hold the nonce once Redis answers again",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const store = yield* RedisNonceStore.make({ url: redis.url, commandTimeout: "200 millis" })
        yield* redis.pause
        const error = yield* Effect.flip(store.claim("paused", inAMinute()))
        assert.strictEqual(error._tag, "CallbackUnavailableError")
        // The paused server runs the late SET when it resumes; ZEGOCLOUD's retry (2 s later) must be applied.
        // The take-back was sent behind the SET on the same connection, so Redis runs it before this claim.
        yield* redis.resume
        const retry = yield* store.claim("paused", inAMinute())
        assert.strictEqual(retry._tag, "Claimed")
      }).pipe(Effect.scoped),
    { timeout: 30_000 }
  )

  it.live(
    "a Redis that stops answering: claim fails with CallbackUnavailableError after the timeout, never hangs",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const store = yield* RedisNonceStore.make({ url: redis.url, commandTimeout: "250 millis" })
        yield* redis.pause
        const started = Date.now()
        const outcome = yield* Effect.flip(store.claim("stalled", inAMinute())).pipe(Effect.timeoutOption("30 seconds"))
        yield* redis.resume
        assert.isTrue(outcome._tag === "Some", "a typed error, not a hang")
        const error = Option.getOrThrow(outcome)
        assert.instanceOf(error, CallbackError.CallbackUnavailableError)
        assert.include(error.reason, "no answer within 250ms")
        // ioredis's timer: not before the timeout (a little slack for timer rounding), and not much after.
        assert.isAtLeast(Date.now() - started, 230)
        assert.isBelow(Date.now() - started, 15_000)
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )

  it.live(
    "commit is sent, not awaited: a paused Redis does not hold it up; the nonce reads applied once Redis runs it",
    () => {
      const lines: Array<string> = []
      const logs = Logger.replace(
        Logger.defaultLogger,
        Logger.make((options) => lines.push(Logger.logfmtLogger.log(options)))
      )
      return Effect.gen(function*() {
        const redis = yield* startRedis
        const store = yield* RedisNonceStore.make({ url: redis.url, commandTimeout: "250 millis" })
        const token = claimed(yield* store.claim("held-up", inAMinute()))
        yield* redis.pause
        const started = Date.now()
        yield* store.commit("held-up", token, inAMinute())
        // No answer can come while Redis is paused: the commit did not wait for one.
        assert.isBelow(Date.now() - started, 250, "the commit returned before its command could time out")
        // Unanswered, it is reported once the command timeout has passed.
        while (!lines.some((line) => line.includes("was not committed"))) yield* Effect.sleep("20 millis")
        assert.include(lines.find((line) => line.includes("was not committed")), "no answer within 250ms")
        // Redis, resumed, runs what it was sent: the commit among it.
        yield* redis.resume
        assert.strictEqual((yield* store.claim("held-up", inAMinute()))._tag, "Applied")
      }).pipe(Effect.provide(logs), Effect.scoped)
    },
    { timeout: 60_000 }
  )

  it.live("closing the store lets a commit sent just before land, answered, not reported as lost", () => {
    const lines: Array<string> = []
    const logs = Logger.replace(
      Logger.defaultLogger,
      Logger.make((options) => lines.push(Logger.logfmtLogger.log(options)))
    )
    return Effect.gen(function*() {
      const redis = yield* startRedis
      const closing = yield* Scope.make()
      const store = yield* RedisNonceStore.make({ url: redis.url }).pipe(Scope.extend(closing))
      const token = claimed(yield* store.claim("last", inAMinute()))
      yield* store.commit("last", token, inAMinute())
      yield* Scope.close(closing, Exit.void)
      const other = yield* RedisNonceStore.make({ url: redis.url })
      assert.strictEqual((yield* other.claim("last", inAMinute()))._tag, "Applied")
      assert.deepStrictEqual(lines.filter((line) => line.includes("not committed")), [])
    }).pipe(Effect.provide(logs), Effect.scoped)
  })

  it.effect("refuses options it cannot use with InvalidRequestError, before connecting", () =>
    Effect.gen(function*() {
      for (
        const options of [
          { commandTimeout: "soon" },
          { connectTimeout: "soon" },
          { commandTimeout: Duration.millis(2 ** 31 + 5) },
          { commandTimeout: "0 millis" },
          { pendingTimeout: "-1 seconds" },
          { keyPrefix: 42 }
        ]
      ) {
        const error = yield* Effect.flip(
          RedisNonceStore.make({ url: "redis://127.0.0.1:1", ...options } as RedisNonceStore.Options)
        )
        assert.strictEqual(error._tag, "InvalidRequestError")
      }
    }).pipe(Effect.scoped))

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
      const receiver = CallbackReceiver.makeReceiver({ secret })
      const storeLayer = RedisNonceStore.layer({ url: redis.url })
      // Two builds of the layer: two connections, as two processes would have; both live as long as the test.
      const first = yield* Effect.provide(receiver, yield* Layer.build(storeLayer))
      const second = yield* Effect.provide(receiver, yield* Layer.build(storeLayer))
      const event = yield* first.receive({ body })
      assert.strictEqual(event._tag, "UnknownEvent")
      // While the first is applying it, the second is told to come back; once committed, it is a replay.
      assert.strictEqual((yield* Effect.flip(second.receive({ body })))._tag, "CallbackUnavailableError")
      yield* first.commit(event)
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
