/**
 * RedisShared: one URL (ZEGO_REDIS_URL) puts the budget, the nonces and the tracker on one Redis, under the stores'
 * own prefixes (or a namespace before them), and its absence leaves everything in memory. Two builds of the layers
 * stand for two processes (each opens its own connections).
 */
import { CallbackNonceStore, RateLimit, StreamState, StreamTracker } from "@effect-zego/core"
import { RedisShared } from "@effect-zego/redis"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { Redis } from "ioredis"
import { startRedis } from "./redisServer.js"
import { countingState, created, T0 } from "./trackerFixtures.js"

const noDescribe = countingState(() => Effect.die("no describe expected"), Ref.unsafeMake(0))

/** What one process would build from `env`, kept for the scope: the two optional stores it finds, and a tracker. */
const processFrom = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      RedisShared.layerTrackerConfig().pipe(
        Layer.provideMerge(Layer.succeed(StreamState.StreamState, noDescribe)),
        Layer.provideMerge(RedisShared.layerConfig()),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
      )
    )
    return {
      rateLimit: Context.getOption(context, RateLimit.RateLimitStore),
      nonces: Context.getOption(context, CallbackNonceStore.CallbackNonceStore),
      tracker: Context.get(context, StreamTracker.StreamTracker)
    }
  })

const keysOf = (url: string) =>
  Effect.acquireUseRelease(
    Effect.sync(() => new Redis(url)),
    (client) => Effect.promise(() => client.keys("*")),
    (client) => Effect.sync(() => client.disconnect())
  )

describe("RedisShared", () => {
  it.scopedLive("without ZEGO_REDIS_URL: no store provided, and each process's tracker is its own", () =>
    Effect.gen(function*() {
      const one = yield* processFrom({})
      const two = yield* processFrom({})
      assert.isTrue(Option.isNone(one.rateLimit))
      assert.isTrue(Option.isNone(one.nonces))
      yield* one.tracker.apply(created("s1", 1, T0))
      assert.strictEqual((yield* one.tracker.peek("s1"))?.state, "live")
      assert.strictEqual(yield* two.tracker.peek("s1"), undefined)
    }))

  it.live("with ZEGO_REDIS_URL: both stores provided, one tracker state and one nonce set for every process", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const env = { ZEGO_REDIS_URL: redis.url }
      const one = yield* processFrom(env)
      const two = yield* processFrom(env)
      assert.isTrue(Option.isSome(one.rateLimit) && Option.isSome(one.nonces))

      yield* one.tracker.apply(created("s1", 1, T0))
      assert.strictEqual((yield* two.tracker.peek("s1"))?.state, "live")

      const expiresAt = Date.now() + 60_000
      const claim = yield* Option.getOrThrow(one.nonces).claim("nonce-1", expiresAt)
      assert.strictEqual(claim._tag, "Claimed")
      assert.strictEqual((yield* Option.getOrThrow(two.nonces).claim("nonce-1", expiresAt))._tag, "Pending")
      yield* Option.getOrThrow(one.nonces).commit("nonce-1", claim._tag === "Claimed" ? claim.token : "", expiresAt)
      assert.strictEqual((yield* Option.getOrThrow(two.nonces).claim("nonce-1", expiresAt))._tag, "Applied")

      const limiter = yield* Option.getOrThrow(one.rateLimit).limiter({ key: "app", limit: 5, windowMillis: 1000 })
      yield* limiter.withPermit(Effect.void)

      // Every key under a store's default prefix: what a process using that store alone reads too.
      const keys = yield* keysOf(redis.url)
      assert.isNotEmpty(keys)
      for (const key of keys) {
        assert.match(key, /^effect-zego:(rtmp|callback-nonce|tracker):/, key)
      }
      assert.isTrue(keys.some((key) => key.startsWith("effect-zego:rtmp:")))
      assert.isTrue(keys.some((key) => key.startsWith("effect-zego:callback-nonce:")))
      assert.isTrue(keys.some((key) => key.startsWith("effect-zego:tracker:")))
    }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)), Effect.scoped))

  it.live("ZEGO_REDIS_PREFIX goes before every key; another prefix is another app's state", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const staging = yield* processFrom({ ZEGO_REDIS_URL: redis.url, ZEGO_REDIS_PREFIX: "staging:" })
      const production = yield* processFrom({ ZEGO_REDIS_URL: redis.url, ZEGO_REDIS_PREFIX: "production:" })
      yield* staging.tracker.apply(created("s1", 1, T0))
      yield* Option.getOrThrow(staging.nonces).claim("nonce-1", Date.now() + 60_000)
      assert.strictEqual(yield* production.tracker.peek("s1"), undefined)
      const keys = yield* keysOf(redis.url)
      assert.isNotEmpty(keys)
      for (const key of keys) assert.match(key, /^staging:effect-zego:(callback-nonce|tracker):/, key)
    }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)), Effect.scoped))

  it.effect("an invalid ZEGO_REDIS_URL fails the layers with InvalidRequestError, the URL not echoed", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(processFrom({ ZEGO_REDIS_URL: "http://user:hunter2@host" })))
      assert.strictEqual(error._tag, "InvalidRequestError")
      assert.notInclude(error.message, "hunter2")
    }))
})
