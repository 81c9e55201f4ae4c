import { RateLimit } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { RedisRateLimit } from "@effect-zego/redis"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import * as Net from "node:net"
import { freePort, startRedis } from "./redisServer.js"

/** Takes `count` tokens from `limiter` all at once; returns when each was granted (wall clock). */
const takeAll = (limiter: RateLimit.Limiter, count: number) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    () => limiter.withPermit(Effect.sync(() => Date.now())),
    { concurrency: "unbounded" }
  )

const captureLogs = () => {
  const lines: Array<string> = []
  return {
    lines,
    layer: Logger.replace(Logger.defaultLogger, Logger.make((options) => lines.push(Logger.logfmtLogger.log(options))))
  }
}

const fallbackCount = Effect.map(Metric.value(RedisRateLimit.fallbacks), (state) => state.count)

/** How many scripts Redis ran (`EVALSHA` and `EVAL`) since its statistics were last reset. */
const scriptRuns = (client: Redis) =>
  Effect.map(
    Effect.promise(() => client.info("commandstats")),
    (stats) => [...stats.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
  )

/**
 * Not Redis: a server on loopback that answers every command (a RESP array of bulk strings, as ioredis sends them)
 * with `+OK`, whatever was asked.
 */
const okToEverything = Effect.acquireRelease(
  Effect.async<Net.Server>((resume) => {
    const server = Net.createServer((socket) => {
      let pending = Buffer.alloc(0)
      socket.on("error", () => {})
      socket.on("data", (chunk) => {
        pending = Buffer.concat([pending, chunk])
        // Answers each whole command; a partial one waits for the rest.
        while (true) {
          const header = pending.indexOf("\r\n")
          if (pending[0] !== 0x2a || header < 0) return
          let at = header + 2
          for (let n = Number(pending.subarray(1, header).toString()); n > 0; n--) {
            const end = pending.indexOf("\r\n", at)
            if (end < 0) return
            at = end + 2 + Number(pending.subarray(at + 1, end).toString()) + 2
            if (at > pending.length) return
          }
          pending = pending.subarray(at)
          socket.write("+OK\r\n")
        }
      })
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) => Effect.sync(() => server.close())
)

/** A plain client of the test's own, to look into Redis. */
const admin = (url: string) =>
  Effect.acquireRelease(Effect.sync(() => new Redis(url)), (client) => Effect.sync(() => client.disconnect()))

describe("RedisRateLimit", () => {
  it.live(
    "keeps any window within the limit for many fibers, across two stores (two processes' worth)",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const keyPrefix = `t${Date.now()}:`
        const one = yield* RedisRateLimit.make({ url: redis.url, keyPrefix })
        const two = yield* RedisRateLimit.make({ url: redis.url, keyPrefix })
        // 10 per 500 ms, from two stores sharing one Redis key.
        const a = yield* one.limiter({ key: "42", limit: 10, windowMillis: 500 })
        const b = yield* two.limiter({ key: "42", limit: 10, windowMillis: 500 })
        const started = Date.now()
        const [fromA, fromB] = yield* Effect.all([takeAll(a, 15), takeAll(b, 15)], { concurrency: 2 })
        const times = [...fromA, ...fromB]
        assert.isAtMost(Emulator.busiestWindow(times, 500), 10)
        // 30 tokens at 10 per 500 ms: the third batch waits two windows (1 s); the upper bound only catches a stall,
        // since a machine ten times slower must pass.
        assert.isAtLeast(Math.max(...times) - started, 995)
        assert.isBelow(Math.max(...times) - started, 25_000)
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )

  it.live("two AppIds keep separate budgets", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const store = yield* RedisRateLimit.make({ url: redis.url })
      // A long window, so that "did not wait for it" holds on a slow machine: ten Redis calls take far less.
      const window = 20_000
      const first = yield* store.limiter({ key: "1001", limit: 5, windowMillis: window })
      const second = yield* store.limiter({ key: "1002", limit: 5, windowMillis: window })
      const started = Date.now()
      yield* takeAll(first, 5)
      yield* takeAll(second, 5)
      assert.isBelow(Date.now() - started, window / 2, "the second app did not wait for the first one's budget")
      const sixth = yield* takeAll(first, 1).pipe(Effect.timeoutOption("1 second"))
      assert.isTrue(sixth._tag === "None", "the first app's sixth call waits for its own window")
    }).pipe(Effect.scoped), { timeout: 60_000 })

  it.live("with Redis unreachable, calls go on through the in-process bucket: one warning, counted fallbacks", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const port = yield* freePort
      const store = yield* RedisRateLimit.make({ url: `redis://127.0.0.1:${port}`, retryInterval: "50 millis" })
      const limiter = yield* store.limiter({ key: "7", limit: 20, windowMillis: 1000 })
      const before = yield* fallbackCount
      const started = Date.now()
      const times = yield* takeAll(limiter, 25)
      assert.isAtMost(Emulator.busiestWindow(times, 1000), 20, "the in-process bucket keeps the limit")
      assert.isBelow(Date.now() - started, 30_000, "nothing hung waiting for Redis")
      assert.strictEqual((yield* fallbackCount) - before, 25)
      assert.lengthOf(logs.lines.filter((l) => l.includes("level=WARN")), 1)
    }).pipe(Effect.provide(logs.layer), Effect.scoped)
  }, { timeout: 60_000 })

  it.live("uses Redis again once it answers, and logs the recovery once", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const redis = yield* startRedis
      const store = yield* RedisRateLimit.make({ url: redis.url, retryInterval: "50 millis" })
      const limiter = yield* store.limiter({ key: "8", limit: 100, windowMillis: 1000 })
      yield* takeAll(limiter, 3)
      yield* redis.stop
      const before = yield* fallbackCount
      yield* takeAll(limiter, 3)
      yield* Effect.sleep("100 millis")
      yield* takeAll(limiter, 3)
      assert.strictEqual((yield* fallbackCount) - before, 6)
      yield* redis.start
      // ioredis reconnects in the background; within a few seconds (a minute at most on a busy machine) the shared
      // store answers again.
      const recovered = yield* Effect.gen(function*() {
        for (let i = 0; i < 600; i++) {
          const counted = yield* fallbackCount
          yield* limiter.withPermit(Effect.void)
          if ((yield* fallbackCount) === counted) return true
          yield* Effect.sleep("100 millis")
        }
        return false
      })
      assert.isTrue(recovered, "the Redis store was used again")
      assert.lengthOf(logs.lines.filter((l) => l.includes("level=WARN")), 1, logs.lines.join("\n"))
      assert.lengthOf(logs.lines.filter((l) => l.includes("answers again")), 1)
    }).pipe(Effect.provide(logs.layer), Effect.scoped)
  }, { timeout: 60_000 })

  it.live(
    "a call renewed while it runs keeps its token; once its process is gone, the token is back soon",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        // A window long enough that a busy machine's delays stay small beside it, short beside the old 15 s hold.
        const window = 3000
        // The first process holds the only token in a call that never ends.
        const gone = yield* Scope.make()
        const first = yield* RedisRateLimit.make({ url: redis.url, keyPrefix: "gone:" }).pipe(Scope.extend(gone))
        const held = yield* first.limiter({ key: "3", limit: 1, windowMillis: window })
        yield* Effect.forkScoped(held.withPermit(Effect.never))
        const second = yield* RedisRateLimit.make({ url: redis.url, keyPrefix: "gone:" })
        const next = yield* second.limiter({ key: "3", limit: 1, windowMillis: window })
        const meanwhile = yield* takeAll(next, 1).pipe(Effect.timeoutOption(2 * window))
        assert.isTrue(meanwhile._tag === "None", "renewals kept the running call counting past its first lease")
        // Then the first process loses Redis for good, as if it died: no renewal or release reaches Redis.
        yield* Scope.close(gone, Exit.void)
        const goneAt = Date.now()
        const [at] = yield* takeAll(next, 1)
        assert.isBelow(
          at! - goneAt,
          4 * window,
          "the call lapsed a window and a quarter on (one more to notice), not 15 s"
        )
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )

  it.live(
    "a Redis that stops answering holds a call about the command timeout, then the in-process bucket runs it",
    () => {
      const logs = captureLogs()
      return Effect.gen(function*() {
        const redis = yield* startRedis
        const store = yield* RedisRateLimit.make({ url: redis.url, commandTimeout: "300 millis" })
        const limiter = yield* store.limiter({ key: "11", limit: 10, windowMillis: 1000 })
        yield* takeAll(limiter, 1)
        // Paused: the connection stays open and the acquire goes out, but no answer comes back.
        yield* redis.pause
        const before = yield* fallbackCount
        const started = Date.now()
        const ran = yield* limiter.withPermit(Effect.sync(() => Date.now())).pipe(Effect.timeoutOption("30 seconds"))
        yield* redis.resume
        assert.isTrue(ran._tag === "Some", "the call ran: no hang")
        const waited = Option.getOrThrow(ran) - started
        // ioredis's timer: no sooner than the command timeout (a little slack for timer rounding), and not much later
        // (generous: a busy machine's timers fire late).
        assert.isAtLeast(waited, 280)
        assert.isBelow(waited, 15_000)
        assert.strictEqual((yield* fallbackCount) - before, 1)
        const warnings = logs.lines.filter((line) => line.includes("level=WARN"))
        assert.lengthOf(warnings, 1)
        assert.include(warnings[0], "no answer within 300ms")
      }).pipe(Effect.provide(logs.layer), Effect.scoped)
    },
    { timeout: 60_000 }
  )

  it.live("an answer that is not the script's is not believed: the call goes on through the in-process bucket", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const server = yield* okToEverything
      const { port } = server.address() as Net.AddressInfo
      const store = yield* RedisRateLimit.make({ url: `redis://127.0.0.1:${port}` })
      const limiter = yield* store.limiter({ key: "14", limit: 10, windowMillis: 1000 })
      const before = yield* fallbackCount
      const ran = yield* limiter.withPermit(Effect.succeed("ran")).pipe(Effect.timeoutOption("30 seconds"))
      assert.deepStrictEqual(ran, Option.some("ran"))
      assert.strictEqual((yield* fallbackCount) - before, 1)
      const warnings = logs.lines.filter((line) => line.includes("level=WARN"))
      assert.lengthOf(warnings, 1)
      assert.include(warnings[0], "an answer that is not the script's")
    }).pipe(Effect.provide(logs.layer), Effect.scoped)
  }, { timeout: 60_000 })

  it.live(
    "calls that ask together share one script run, and so do calls that end together, each scored with its end",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const client = yield* admin(redis.url)
        // A long window: no renewal (every quarter window) runs while the test looks.
        const store = yield* RedisRateLimit.make({ url: redis.url, keyPrefix: "batch:" })
        const limiter = yield* store.limiter({ key: "12", limit: 50, windowMillis: 60_000 })
        const go = yield* Deferred.make<void>()
        let started = 0
        yield* Effect.promise(() => client.config("RESETSTAT"))
        const calls = yield* Effect.fork(Effect.all(
          Array.from({ length: 20 }, () => limiter.withPermit(Effect.zipRight(Effect.sync(() => started++), go))),
          { concurrency: "unbounded" }
        ))
        while (started < 20) yield* Effect.sleep("10 millis")
        const running = yield* Effect.promise(() => client.zrange("batch:12", 0, -1, "WITHSCORES"))
        assert.strictEqual(yield* scriptRuns(client), 1, "the 20 acquires went as one script run")
        yield* Effect.promise(() => client.config("RESETSTAT"))
        const endedBy = yield* Effect.promise(() => client.time()).pipe(
          Effect.map(([s, us]) => Number(s) * 1000 + Math.floor(Number(us) / 1000))
        )
        yield* Deferred.succeed(go, undefined)
        yield* Fiber.join(calls)
        // Released in the background: wait until every call is scored with its end, no later than now.
        const released = yield* Effect.gen(function*() {
          for (let i = 0; i < 300; i++) {
            const scores = yield* Effect.promise(() => client.zrange("batch:12", 0, -1, "WITHSCORES"))
            const now = yield* Effect.promise(() => client.time())
            const nowMillis = Number(now[0]) * 1000 + Math.floor(Number(now[1]) / 1000)
            const ended = scores.filter((_, i) => i % 2 === 1).map(Number).filter((score) => score <= nowMillis)
            if (ended.length === 20) return scores
            yield* Effect.sleep("20 millis")
          }
          return undefined
        })
        assert.isDefined(released, "every call was released")
        // Running, each was scored a quarter window ahead; released, with its end: after the calls were let go.
        assert.isTrue(running.filter((_, i) => i % 2 === 1).every((score) => Number(score) > endedBy + 10_000))
        assert.isTrue(released!.filter((_, i) => i % 2 === 1).every((score) => Number(score) >= endedBy))
        assert.strictEqual(yield* scriptRuns(client), 1, "the 20 releases went as one script run")
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )

  it.live(
    "the budget's key outlives what still counts, its expiry set about once a window, then goes",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const client = yield* admin(redis.url)
        const store = yield* RedisRateLimit.make({ url: redis.url, keyPrefix: "ttl:" })
        const window = 1000
        const limiter = yield* store.limiter({ key: "13", limit: 50, windowMillis: window })
        yield* takeAll(limiter, 1)
        const first = yield* Effect.promise(() => client.pttl("ttl:13"))
        // Two windows at least: an entry counts up to a window and a quarter past now (a running call's score).
        assert.isAbove(first, 2 * window)
        assert.isAtMost(first, 3 * window)
        yield* takeAll(limiter, 1)
        const second = yield* Effect.promise(() => client.pttl("ttl:13"))
        assert.isAtMost(second, first, "not set again while more than two windows were left")
        assert.isAbove(second, 2 * window - 500)
        // Unused for more than three windows: gone.
        yield* Effect.sleep(Duration.millis(3 * window + 500))
        assert.strictEqual(yield* Effect.promise(() => client.exists("ttl:13")), 0)
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )

  it.effect("refuses a URL that is not redis://, without echoing it", () =>
    Effect.gen(function*() {
      for (const url of ["http://user:hunter2@127.0.0.1:6379", "not a url", "redis://"]) {
        const error = yield* Effect.flip(RedisRateLimit.make({ url }))
        assert.strictEqual(error._tag, "InvalidRequestError")
        assert.strictEqual(error.parameter, "url")
        assert.notInclude(error.message, "hunter2")
      }
    }).pipe(Effect.scoped))

  it.effect("refuses a timeout or retry interval it cannot use (unparsable, not positive, past an hour)", () =>
    Effect.gen(function*() {
      for (
        const [parameter, value] of [
          ["commandTimeout", "soon"],
          ["connectTimeout", "-1 seconds"],
          ["commandTimeout", Duration.millis(2 ** 31 + 5)],
          ["retryInterval", "0 millis"]
        ] as const
      ) {
        const error = yield* Effect.flip(RedisRateLimit.make({ url: "redis://127.0.0.1:1", [parameter]: value }))
        assert.strictEqual(error._tag, "InvalidRequestError")
        assert.strictEqual(error.parameter, parameter)
      }
    }).pipe(Effect.scoped))
})
