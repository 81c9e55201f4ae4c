/**
 * The Redis store against a real redis-server on loopback that pauses, dies and misbehaves: callers that give
 * up leave no phantom token behind, one process never sends more than the limit in a window while Redis fails
 * and comes back, and the faults that held up still do; a callback refused while Redis
 * was paused is applied when retried, never taken for a replay. Real time, generous deadlines.
 */
import type { RateLimit } from "@effect-zego/core"
import { Callback, CallbackReceiver, Endpoints, StreamTracker } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { Emulator } from "@effect-zego/emulator"
import { RedisNonceStore, RedisRateLimit } from "@effect-zego/redis"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import { createServer } from "node:http"
import * as Net from "node:net"
import { freePort, startRedis } from "../../redis/test/redisServer.js"
import { figures, held, save } from "./figures.js"

afterAll(() => save("redis-faults"))

const quiet = Logger.minimumLogLevel(LogLevel.None)

const fallbackCount = Effect.map(Metric.value(RedisRateLimit.fallbacks), (state) => state.count)

/** Takes `count` tokens from `limiter` all at once; returns when each was granted (wall clock). */
const takeAll = (limiter: RateLimit.Limiter, count: number) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    () => limiter.withPermit(Effect.sync(() => Date.now())),
    { concurrency: "unbounded" }
  )

/** A plain client of the test's own, to look into Redis and to break it. */
const admin = (url: string) =>
  Effect.acquireRelease(Effect.sync(() => new Redis(url)), (client) => Effect.sync(() => client.disconnect()))

/**
 * A TCP proxy to Redis on loopback that delays every chunk by `delayMillis` each way, in order: a slow network to
 * a healthy Redis, so that a caller can give up while its acquire is on its way or its answer on the way back.
 */
const slowNetwork = (port: number, delayMillis: number) =>
  Effect.acquireRelease(
    Effect.async<{ url: string; close: () => void }>((resume) => {
      const sockets = new Set<Net.Socket>()
      const relay = (from: Net.Socket, to: Net.Socket) => {
        sockets.add(from)
        from.on("data", (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMillis))
        from.on("close", () => setTimeout(() => to.destroy(), delayMillis))
        from.on("error", () => {})
      }
      const server = Net.createServer((client) => {
        const upstream = Net.connect(port, "127.0.0.1")
        relay(client, upstream)
        relay(upstream, client)
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({
          url: `redis://127.0.0.1:${(server.address() as Net.AddressInfo).port}`,
          close: () => {
            for (const socket of sockets) socket.destroy()
            server.close()
          }
        })))
    }),
    (proxy) => Effect.sync(proxy.close)
  )

const phantomParts = new Set<string>()
const phantomPart = (part: string) => {
  phantomParts.add(part)
  if (phantomParts.size === 2) held("redis-phantom-token")
}

describe("Redis store faults", () => {
  it.live(
    "a 1.2 s Redis pause while 40 callers ask: no phantom token; the shared budget admits calls within two windows",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const window = 2000
        // Two processes' worth on one key: the first asks during the pause, the second after it.
        const one = yield* RedisRateLimit.make({ url: redis.url, keyPrefix: "pause:", retryInterval: "200 millis" })
        const two = yield* RedisRateLimit.make({ url: redis.url, keyPrefix: "pause:" })
        const first = yield* one.limiter({ key: "9", limit: 40, windowMillis: window })
        const second = yield* two.limiter({ key: "9", limit: 40, windowMillis: window })

        yield* redis.pause
        figures.faults++
        // Each acquire waits unread; its caller gives up after 500 ms and goes on under the in-process bucket,
        // while the script stays queued and runs when Redis wakes.
        const before = yield* fallbackCount
        const asked = yield* Effect.fork(takeAll(first, 40))
        yield* Effect.sleep("1200 millis")
        yield* redis.resume
        const resumedAt = Date.now()
        yield* Fiber.join(asked)
        assert.strictEqual((yield* fallbackCount) - before, 40, "the first process went on without Redis")

        const after = yield* fallbackCount
        const granted = yield* takeAll(second, 40).pipe(Effect.timeoutOption("20 seconds"))
        assert.isTrue(Option.isSome(granted), "the second process was admitted at all")
        const waited = Math.max(...Option.getOrThrow(granted)) - resumedAt
        assert.isBelow(waited, 2 * window, `admitted ${waited} ms after Redis woke`)
        assert.strictEqual((yield* fallbackCount) - after, 0, "through Redis, not the fallback")
        const client = yield* admin(redis.url)
        const entries = yield* Effect.promise(() => client.zcard("pause:9"))
        assert.strictEqual(entries, 40, "only the second process's calls are in the budget")
        phantomPart("pause")
      }).pipe(Effect.provide(quiet), Effect.scoped),
    30_000
  )

  it.live(
    "1 000 callers interrupted at random, Redis healthy behind a slow network: their tokens come back within a window",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const window = 1000
        // 50 ms each way: the first 20 acquires are let in by Redis while their callers may still give up.
        const slow = yield* slowNetwork(redis.port, 50)
        const one = yield* RedisRateLimit.make({ url: slow.url, keyPrefix: "interrupted:" })
        const two = yield* RedisRateLimit.make({ url: redis.url, keyPrefix: "interrupted:" })
        const first = yield* one.limiter({ key: "9", limit: 20, windowMillis: window })
        const second = yield* two.limiter({ key: "9", limit: 20, windowMillis: window })

        const callers = FastCheck.sample(
          FastCheck.record({ duration: FastCheck.nat(30), interruptAt: FastCheck.nat(300) }),
          { numRuns: 1000, seed: 9 }
        )
        const before = yield* fallbackCount
        yield* Effect.forEach(
          callers,
          (c) => first.withPermit(Effect.sleep(c.duration)).pipe(Effect.timeoutOption(c.interruptAt)),
          { concurrency: "unbounded", discard: true }
        )
        figures.faults += callers.length
        const endedAt = Date.now()
        // The calls that ran hold their tokens one window after they ended; nothing holds one longer.
        const granted = yield* takeAll(second, 20).pipe(Effect.timeoutOption("20 seconds"))
        assert.isTrue(Option.isSome(granted), "the second process was admitted at all")
        const waited = Math.max(...Option.getOrThrow(granted)) - endedAt
        assert.isBelow(waited, 2 * window, `admitted ${waited} ms after the interrupted run ended`)
        assert.strictEqual((yield* fallbackCount) - before, 0, "Redis answered throughout")
        phantomPart("interrupted")
      }).pipe(Effect.provide(quiet), Effect.scoped),
    30_000
  )

  it.live(
    "Redis killed mid-burst and started again: one process never sends more than the limit in any window",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const window = 1000
        const limit = 20
        const store = yield* RedisRateLimit.make({
          url: redis.url,
          keyPrefix: "midburst:",
          retryInterval: "200 millis"
        })
        const limiter = yield* store.limiter({ key: "9", limit, windowMillis: window })
        const sent: Array<number> = []
        const before = yield* fallbackCount
        // A burst that goes on arriving, one caller every 10 ms, while Redis dies and comes back.
        const run = yield* Effect.fork(Effect.forEach(
          Array.from({ length: 100 }, (_, i) => i),
          (i) =>
            Effect.sleep(i * 10).pipe(Effect.zipRight(
              limiter.withPermit(Effect.zipRight(Effect.sync(() => sent.push(Date.now())), Effect.sleep("20 millis")))
            )),
          { concurrency: "unbounded", discard: true }
        ))
        // Half of the first window's calls have gone through Redis when it dies.
        while (sent.length < limit / 2) yield* Effect.sleep("5 millis")
        yield* redis.stop
        figures.faults++
        yield* Effect.sleep("1500 millis")
        yield* redis.start
        yield* Fiber.join(run)

        assert.lengthOf(sent, 100)
        assert.isAtMost(Emulator.busiestWindow(sent, window), limit)
        const fellBack = (yield* fallbackCount) - before
        assert.isAbove(fellBack, 0, "calls went through the fallback")
        assert.isBelow(fellBack, 100 - limit / 2, "and through Redis again once it was back")
        held("redis-midburst-fallback")
      }).pipe(Effect.provide(quiet), Effect.scoped),
    30_000
  )

  it.live(
    "SCRIPT FLUSH, out of memory, a read-only replica: calls go on within the limit",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const client = yield* admin(redis.url)
        const window = 500
        const limit = 10
        const store = yield* RedisRateLimit.make({ url: redis.url, keyPrefix: "faults:", retryInterval: "100 millis" })
        const limiter = yield* store.limiter({ key: "9", limit, windowMillis: window })
        const fault = (name: string, breakIt: () => Promise<unknown>, mendIt: () => Promise<unknown>) =>
          Effect.gen(function*() {
            yield* Effect.promise(breakIt)
            figures.faults++
            const before = yield* fallbackCount
            const times = yield* takeAll(limiter, 2 * limit)
            assert.isAtMost(Emulator.busiestWindow(times, window), limit, name)
            yield* Effect.promise(mendIt)
            return (yield* fallbackCount) - before
          })
        // The scripts are loaded again on the next call (NOSCRIPT): no fallback.
        assert.strictEqual(yield* fault("flush", () => client.script("FLUSH"), () => Promise.resolve()), 0)
        // Out of memory, Redis refuses a script's first write but lets one that has already freed memory (by
        // dropping expired calls) go on: through Redis or the fallback, the calls go on within the limit.
        yield* fault(
          "out of memory",
          () => client.config("SET", "maxmemory", "1"),
          () => client.config("SET", "maxmemory", "0")
        )
        const port = yield* freePort
        const readOnly = yield* fault(
          "read-only replica",
          () => client.replicaof("127.0.0.1", port),
          () => client.replicaof("NO", "ONE")
        )
        assert.isAbove(readOnly, 0, "read-only replica: the fallback")
        // Mended: through Redis again, once the retry interval has passed.
        yield* Effect.sleep("200 millis")
        const before = yield* fallbackCount
        yield* takeAll(limiter, limit)
        assert.strictEqual((yield* fallbackCount) - before, 0)
      }).pipe(Effect.provide(quiet), Effect.scoped),
    30_000
  )
})

describe("callbacks on a Redis nonce store that pauses", () => {
  const SECRET = Redacted.make("redis-callback-secret")

  /** The endpoints on a free port of 127.0.0.1, their nonces on `redisUrl`. */
  const endpoints = (redisUrl: string) =>
    HttpServer.serve(Endpoints.router({ authorize: () => Effect.succeed(Option.none()) })).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })),
      Layer.provideMerge(Layer.mergeAll(
        StreamTracker.layer(),
        CallbackReceiver.layer({ secret: SECRET }).pipe(
          Layer.provide(RedisNonceStore.layer({ url: redisUrl, commandTimeout: "200 millis" }))
        )
      )),
      Layer.provideMerge(ZegoMock.layerServices({ appId: 4242, serverSecret: Redacted.make("server-secret") }))
    )

  const signedCreate = (streamId: string) => {
    const timestamp = String(Math.floor(Date.now() / 1000))
    return JSON.stringify({
      event: "stream_create",
      appid: "4242",
      timestamp,
      nonce: "paused-nonce",
      signature: Callback.signature(SECRET, timestamp, "paused-nonce"),
      stream_id: streamId,
      room_session_id: "858012925204410400",
      stream_seq: "1",
      create_time_ms: String(Date.now())
    })
  }

  it.live(
    "a callback refused (503) during the pause was applied, and ZEGOCLOUD's retry after it gets a 2xx",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        yield* Effect.gen(function*() {
          const address = (yield* HttpServer.HttpServer).address as HttpServer.TcpAddress
          const post = (body: string) =>
            Effect.promise(async () => {
              const response = await fetch(`http://127.0.0.1:${address.port}/zego/callback`, { method: "POST", body })
              return { status: response.status, text: await response.text() }
            })
          const body = signedCreate("paused-stream")
          yield* redis.pause
          figures.faults++
          figures.requests += 2
          const during = yield* post(body)
          assert.strictEqual(during.status, 503, during.text)
          // Redis runs what it was sent meanwhile (the late settling among it: the event had been applied before it
          // was sent); then ZEGOCLOUD's retry arrives, is applied again (changing nothing) and answered 2xx, as a
          // replay when the late settling ran first.
          yield* redis.resume
          const retry = yield* post(body)
          assert.strictEqual(retry.status, 200, retry.text)
          const status = yield* (yield* StreamTracker.StreamTracker).peek("paused-stream")
          if (status?.state !== "live") figures.lost++
          assert.strictEqual(status?.state, "live")
          held("callback-redis-pause")
        }).pipe(Effect.provide(endpoints(redis.url)))
      }).pipe(Effect.provide(quiet), Effect.scoped),
    30_000
  )
})
