/**
 * The point of the Redis store: several processes, one AppId, one budget, seen from a real emulator.
 */
import { RtmpDispatch } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { RedisRateLimit } from "@effect-zego/redis"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { startRedis } from "./redisServer.js"

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../build/run/dispatchMany.mjs")

/** Runs the fixture in a separate Node process; resolves with its JSON line. */
const runProcess = (env: Record<string, string>) =>
  Effect.async<{ ok: number; failures: Record<string, number> }, Error>((resume) => {
    const child = spawn(process.execPath, [fixture], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("exit", (code) =>
      code === 0
        ? resume(Effect.try({ try: () => JSON.parse(stdout), catch: () => new Error(`bad output: ${stdout}`) }))
        : resume(Effect.fail(new Error(`exit ${code}: ${stderr}`))))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const app = Emulator.demoApp
const quiet = Logger.minimumLogLevel(LogLevel.Warning)

/**
 * The dispatches each process makes: 240 in all, six seconds of the shared 40 a second, in which the three overlap
 * (each alone would send 40 a second: 120 in a second between them, were the budget not shared).
 */
const PER_PROCESS = 80

describe("a budget shared through Redis", () => {
  it.live(
    `three processes, ${PER_PROCESS} dispatches each: at most 40 a second reach the emulator, no 1010, all succeed`,
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis
        const emulator = yield* Emulator.make({ apps: [app] })
        const env = {
          ZEGO_APP_ID: String(app.appId),
          ZEGO_SERVER_SECRET: Redacted.value(app.serverSecret),
          ZEGO_BASE_URL: emulator.baseUrl,
          ZEGO_RATE_LIMIT_REDIS_URL: redis.url,
          DISPATCH_COUNT: String(PER_PROCESS)
        }
        const results = yield* Effect.all(
          ["a", "b", "c"].map((name) => runProcess({ ...env, STREAM_PREFIX: name })),
          { concurrency: 3 }
        )
        assert.deepStrictEqual(results, [0, 1, 2].map(() => ({ ok: PER_PROCESS, failures: {}, fallbacks: 0 })))
        const seen = yield* emulator.requests
        // Every dispatch reached the emulator (a count of requests would also count a retry).
        assert.strictEqual(new Set(seen.map((r) => r.streamId)).size, 3 * PER_PROCESS)
        assert.deepStrictEqual(seen.filter((r) => r.code !== 0).map((r) => r.code), [])
        assert.isAtMost(Emulator.busiestWindow(seen.map((r) => r.receivedAt), 1000), 40)
      }).pipe(Effect.provide(quiet), Effect.scoped),
    { timeout: 180_000 }
  )

  it.live(
    "Redis stopped mid-run: the run finishes with typed outcomes, one warning, counted fallbacks; back, the limit holds",
    () => {
      const lines: Array<string> = []
      const logs = Logger.replace(
        Logger.defaultLogger,
        Logger.make((options) => lines.push(Logger.logfmtLogger.log(options)))
      )
      return Effect.gen(function*() {
        const redis = yield* startRedis
        const emulator = yield* Emulator.make({ apps: [app] })
        // Two RtmpDispatch layers over the same Redis: two processes' worth, each with its own fallback bucket.
        const client = (name: string) =>
          Effect.flatMap(
            RtmpDispatch.RtmpDispatch,
            (dispatch) =>
              Effect.forEach(
                Array.from({ length: 60 }, (_, i) => `${name}-${i}`),
                (streamId) =>
                  dispatch.dispatch({ streamId, type: "push" }).pipe(
                    Effect.match({ onFailure: (error) => error._tag, onSuccess: () => "ok" })
                  ),
                { concurrency: "unbounded" }
              )
          ).pipe(
            Effect.provide(
              NodeRtmpDispatch.layerOptions({
                appId: app.appId,
                serverSecret: app.serverSecret,
                baseUrl: emulator.baseUrl
              })
                .pipe(Layer.provide(RedisRateLimit.layer({ url: redis.url, retryInterval: "200 millis" })))
            )
          )
        const before = (yield* Metric.value(RedisRateLimit.fallbacks)).count
        const run = yield* Effect.fork(Effect.all([client("x"), client("y")], { concurrency: 2 }))
        // Stopped once the run is under way, started again once calls have fallen back: whatever the machine's speed.
        const poll = Schedule.spaced("20 millis").pipe(Schedule.upTo("60 seconds"))
        yield* Effect.repeat(emulator.requests, { until: (seen) => seen.length > 0, schedule: poll })
        yield* redis.stop
        yield* Effect.repeat(Metric.value(RedisRateLimit.fallbacks), {
          until: (state) => state.count > before,
          schedule: poll
        })
        yield* redis.start
        const outcomes = (yield* Fiber.join(run)).flat()
        assert.lengthOf(outcomes, 120)
        for (const outcome of outcomes) assert.oneOf(outcome, ["ok", "RateLimitedError"], "a typed outcome")
        assert.isAbove((yield* Metric.value(RedisRateLimit.fallbacks)).count - before, 0, "fallbacks were counted")
        const warnings = lines.filter((line) => line.includes("Redis rate-limit store failed"))
        assert.isAtLeast(warnings.length, 1)
        assert.isAtMost(warnings.length, 2, "one warning per outage and per process, not per call")

        // Redis is back: a second burst from two processes' worth stays within the limit again.
        const since = Date.now() + 0
        yield* Effect.sleep("1100 millis")
        const marker = (yield* emulator.requests).length
        const again = (yield* Effect.all([client("v"), client("w")], { concurrency: 2 })).flat()
        assert.deepStrictEqual(again.filter((o) => o !== "ok"), [])
        const after = (yield* emulator.requests).slice(marker)
        assert.deepStrictEqual(after.filter((r) => r.code !== 0).map((r) => r.code), [])
        assert.isAtMost(Emulator.busiestWindow(after.map((r) => r.receivedAt), 1000), 40)
        assert.isAtLeast(Date.now() - since, 2000)
      }).pipe(Effect.provide(logs), Effect.provide(Logger.minimumLogLevel(LogLevel.Info)), Effect.scoped)
    },
    { timeout: 180_000 }
  )
})
