// The root README's Redis example, run against a redis-server and an emulator on loopback.
import { RtmpDispatch } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { RedisRateLimit } from "@effect-zego/redis"
import { assert, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, LogLevel, Metric, Redacted } from "effect"
import { startRedis } from "./redisServer.js"

const fallbacks = Effect.map(Metric.value(RedisRateLimit.fallbacks), (state) => state.count)

it.live("the README's layer shares the budget through the Redis of ZEGO_RATE_LIMIT_REDIS_URL", () =>
  Effect.gen(function*() {
    const redis = yield* startRedis
    const emulator = yield* Emulator.make({ apps: [Emulator.demoApp] })
    const env = ConfigProvider.fromMap(
      new Map([
        ["ZEGO_APP_ID", String(Emulator.demoApp.appId)],
        ["ZEGO_SERVER_SECRET", Redacted.value(Emulator.demoApp.serverSecret)],
        ["ZEGO_BASE_URL", emulator.baseUrl],
        ["ZEGO_RATE_LIMIT_REDIS_URL", redis.url],
        ["ZEGO_RATE_LIMIT_REDIS_PREFIX", "readme:"]
      ])
    )
    const ZegoLive = NodeRtmpDispatch.layer.pipe(Layer.provide(RedisRateLimit.layerConfig()))
    const before = yield* fallbacks
    const result = yield* Effect.flatMap(
      RtmpDispatch.RtmpDispatch,
      (zego) => zego.dispatch({ streamId: "r", type: "push" })
    )
      .pipe(Effect.provide(ZegoLive), Effect.provide(Layer.setConfigProvider(env)))
    assert.strictEqual(result.nodes[0].streamName, "r")
    assert.strictEqual(yield* fallbacks, before, "the call went through Redis")
  }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)), Effect.scoped))
