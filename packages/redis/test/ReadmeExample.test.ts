// The Redis examples of the READMEs (the root one and the package's), run against a redis-server and an emulator on loopback.
import { Callback, CallbackReceiver, RtmpDispatch, StreamTracker } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { NodeRtmpDispatch, NodeZego } from "@effect-zego/node"
import { RedisNonceStore, RedisRateLimit, RedisTrackerStore } from "@effect-zego/redis"
import { assert, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Layer, Logger, LogLevel, Metric, Redacted } from "effect"
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

it.live("the redis README's receiver refuses, through the Redis of ZEGO_CALLBACK_REDIS_URL, a nonce another applied", () =>
  Effect.gen(function*() {
    const redis = yield* startRedis
    const secret = Redacted.make("readme-callback-secret")
    const env = ConfigProvider.fromMap(
      new Map([
        ["ZEGO_CALLBACK_SECRET", Redacted.value(secret)],
        ["ZEGO_CALLBACK_REDIS_URL", redis.url]
      ])
    )
    const ReceiverLive = CallbackReceiver.layerConfig().pipe(Layer.provide(RedisNonceStore.layerConfig()))
    const timestamp = String(Math.floor(Date.now() / 1000))
    const body = JSON.stringify({
      event: "stream_create",
      appid: "1",
      timestamp,
      nonce: "readme-nonce",
      signature: Callback.signature(secret, timestamp, "readme-nonce"),
      stream_id: "r",
      room_session_id: "858012925204410400",
      stream_seq: "1",
      create_time_ms: String(Date.now())
    })
    // Two receivers, as two processes behind one callback URL would be: the second sees the first's nonce, as
    // being applied, then as applied once the first commits it.
    const receiveAndCommit = (commit: boolean) =>
      Effect.flatMap(
        CallbackReceiver.CallbackReceiver,
        (receiver) => Effect.tap(receiver.receive({ body }), (event) => commit ? receiver.commit(event) : Effect.void)
      ).pipe(Effect.provide(ReceiverLive), Effect.provide(Layer.setConfigProvider(env)))
    const first = yield* Effect.flatMap(CallbackReceiver.CallbackReceiver, (receiver) =>
      Effect.gen(function*() {
        const event = yield* receiver.receive({ body })
        const during = yield* Effect.flip(receiveAndCommit(true))
        assert.strictEqual(during._tag, "CallbackUnavailableError")
        yield* receiver.commit(event)
        return event
      })).pipe(Effect.provide(ReceiverLive), Effect.provide(Layer.setConfigProvider(env)))
    assert.strictEqual(first._tag, "StreamCreated")
    const second = yield* Effect.flip(receiveAndCommit(false))
    assert.strictEqual(second._tag, "CallbackReplayError")
  }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)), Effect.scoped))

it.live("the READMEs' tracker layer: two instances on the Redis of ZEGO_TRACKER_REDIS_URL share one state and one re-check", () =>
  Effect.gen(function*() {
    const redis = yield* startRedis
    const emulator = yield* Emulator.make({ apps: [Emulator.demoApp] })
    const env = ConfigProvider.fromMap(
      new Map([
        ["ZEGO_APP_ID", String(Emulator.demoApp.appId)],
        ["ZEGO_SERVER_SECRET", Redacted.value(Emulator.demoApp.serverSecret)],
        ["ZEGO_BASE_URL", emulator.baseUrl],
        ["ZEGO_TRACKER_REDIS_URL", redis.url]
      ])
    )
    const TrackerLive = RedisTrackerStore.layerConfig().pipe(Layer.provide(NodeZego.layer))
    // Two builds, as two instances behind a load balancer would have.
    const build = Layer.build(TrackerLive.pipe(Layer.provide(Layer.setConfigProvider(env))))
    const [one, two] = (yield* Effect.all([build, build])).map((context) =>
      Context.get(context, StreamTracker.StreamTracker)
    )
    yield* emulator.publish("readme-stream")
    const statuses = yield* Effect.all([one!.get("readme-stream"), two!.get("readme-stream")], {
      concurrency: "unbounded"
    })
    assert.deepStrictEqual(statuses.map((status) => status?.state), ["live", "live"])
    const describes = (yield* emulator.requests).filter((request) => request.action === "DescribeRTCStreamState")
    assert.strictEqual(describes.length, 1)
  }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)), Effect.scoped))
