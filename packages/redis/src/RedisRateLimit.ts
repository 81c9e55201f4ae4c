/**
 * A `RateLimit.Store` on Redis: every process and machine that uses the same Redis and key prefix shares one
 * AppId's budget (ZEGOCLOUD allows 40 dispatch calls per second per AppId, however many servers make them).
 *
 * Why not `@effect/experimental`'s `RateLimiter` with its Redis store: its "delay" modes are a fixed window
 * and a refilling token bucket, and both let twice the limit through in some one-second window (a burst at
 * the end of one window and another at the start of the next), which ZEGOCLOUD answers with 1010. Reserving
 * future send times in Redis is not enough either: a process's first calls reach the server a hundred
 * milliseconds or more after their reservation (cold code paths, new connections), so the next window's calls,
 * sent on time, land in the same server window. So this is the smallest thing that gives the in-process
 * bucket's guarantee across processes: a sorted set of the calls in use, by two atomic Lua scripts timed by
 * the Redis server's clock.
 * - acquire: drops the calls that ended more than a window ago; if fewer than `limit` remain, adds this call
 *   as in flight (scored far ahead, so it counts until it ends) and says go; else says how long to wait.
 * - release, when the call ends: scores it with the end time, so its token returns one window later.
 * Redis runs acquire before the call reaches ZEGOCLOUD and release after, so ZEGOCLOUD never sees more than
 * `limit` calls in any window, however late or unevenly the calls travel.
 *
 * When Redis is unreachable or slow, calls go on through an in-process bucket with the same limit: a warning
 * is logged once per outage, a counter counts the fallbacks, and Redis is tried again after `retryInterval`.
 */
import { RateLimit, ZegoError } from "@effect-zego/core"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"

/** Options of the Redis store. */
export interface Options {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly url: string
  /** Prefix of the keys; the AppId follows it, so two apps never share a budget. Default `effect-zego:rtmp:`. */
  readonly keyPrefix?: string | undefined
  /** The longest a Redis call may take before the in-process bucket is used instead. Default 500 ms. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** How long the layer waits for its first connection before it starts on the in-process bucket. Default 3 s. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** After a failure, how long the in-process bucket is used before Redis is tried again. Default 1 second. */
  readonly retryInterval?: Duration.DurationInput | undefined
}

/** Calls that went through the in-process bucket because Redis failed or was slow. */
export const fallbacks = Metric.counter("zego_rate_limit_redis_fallbacks", {
  description: "Rate-limit tokens taken from the in-process bucket because Redis failed or was too slow"
})

/**
 * How long an unreleased call holds its token: a process that dies mid-call (or whose release never reaches
 * Redis) gives it back after this and a window. Longer than a dispatch attempt (5 s by default).
 */
const IN_FLIGHT_MILLIS = 15_000

const NOW = `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`

// KEYS[1]: the budget; ARGV: limit, window (ms), this call's member, in-flight hold (ms).
// Returns 0 (go: the call is in) or the ms until a token may be free (wait, then ask again).
const ACQUIRE = `${NOW}
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - window)
local count = redis.call("ZCARD", KEYS[1])
if count < limit then
  redis.call("ZADD", KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
  redis.call("PEXPIRE", KEYS[1], tonumber(ARGV[4]) + window)
  return 0
end
local first = redis.call("ZRANGE", KEYS[1], count - limit, count - limit, "WITHSCORES")
-- An in-flight call frees its token one window after it ends, so ask again after at most one window.
return math.max(1, math.min(tonumber(first[2]) + window - now, window))
`

// KEYS[1]: the budget; ARGV[1]: the call's member. Scores the call with its end time, if it is still there.
const RELEASE = `${NOW}
redis.call("ZADD", KEYS[1], "XX", now, ARGV[1])
return 0
`

interface RedisWithScripts extends Redis {
  zegoAcquire(key: string, limit: number, windowMillis: number, member: string, inFlight: number): Promise<number>
  zegoRelease(key: string, member: string): Promise<number>
}

/** Checks the URL's form; the URL itself is never echoed, since it may hold a password. */
const validateUrl = (url: string): Effect.Effect<void, ZegoError.InvalidRequestError> => {
  const invalid = new ZegoError.InvalidRequestError({
    parameter: "url",
    detail: "the Redis URL must look like redis://host:port (or rediss:// for TLS)"
  })
  try {
    const parsed = new URL(url)
    return (parsed.protocol === "redis:" || parsed.protocol === "rediss:") && parsed.hostname !== ""
      ? Effect.void
      : Effect.fail(invalid)
  } catch {
    return Effect.fail(invalid)
  }
}

const describe = (error: unknown): string => error instanceof Error ? error.message : String(error)

/** The store; the Redis connection is closed with the scope. */
export const make = (
  options: Options
): Effect.Effect<RateLimit.Store, ZegoError.InvalidRequestError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* validateUrl(options.url)
    const timeout = Duration.decode(options.commandTimeout ?? "500 millis")
    const connectTimeout = Duration.decode(options.connectTimeout ?? "3 seconds")
    const retryMillis = Duration.toMillis(options.retryInterval ?? "1 second")
    const prefix = options.keyPrefix ?? "effect-zego:rtmp:"
    const redis = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Redis(options.url, {
          // Fail at once while disconnected instead of queueing: the caller then uses its in-process bucket.
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: Duration.toMillis(connectTimeout),
          commandTimeout: Duration.toMillis(timeout),
          retryStrategy: (attempt) => Math.min(attempt * 100, 1000)
        }) as RedisWithScripts
        client.defineCommand("zegoAcquire", { numberOfKeys: 1, lua: ACQUIRE })
        client.defineCommand("zegoRelease", { numberOfKeys: 1, lua: RELEASE })
        // Failures reach each call as a rejected command; the connection's own events would only repeat them.
        client.on("error", () => {})
        return client
      }),
      (client) => Effect.sync(() => client.disconnect())
    )
    // Give the first connection a moment, so that a store that starts with Redis up uses it from the first call.
    yield* Effect.async<void>((resume) => {
      if (redis.status === "ready") return resume(Effect.void)
      const done = () => resume(Effect.void)
      redis.once("ready", done)
      redis.once("error", done)
    }).pipe(Effect.timeout(connectTimeout), Effect.ignore)

    let outage = false
    let nextTry = 0

    const command = <A>(run: () => Promise<A>) =>
      Effect.tryPromise({ try: run, catch: describe }).pipe(
        Effect.timeoutFail({ duration: timeout, onTimeout: () => `no answer within ${Duration.format(timeout)}` })
      )

    const failed = (reason: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        nextTry = now + retryMillis
        if (outage) return Effect.void
        outage = true
        return Effect.logWarning(
          `Redis rate-limit store failed (${reason}): using the in-process bucket until Redis answers`
        )
      })

    const answered = Effect.suspend(() => {
      if (!outage) return Effect.void
      outage = false
      return Effect.logInfo("Redis rate-limit store answers again: the shared budget is back in use")
    })

    const limiter: RateLimit.Store["limiter"] = ({ key, limit, windowMillis }) =>
      Effect.map(RateLimit.makeInProcess(limit, windowMillis), (local) => {
        const redisKey = prefix + key
        const fallBack = <A, E, R>(call: Effect.Effect<A, E, R>) =>
          Effect.zipRight(Metric.increment(fallbacks), local.withPermit(call))

        /** Waits until Redis lets this call in: `true`, or `false` when Redis failed. */
        const acquire = (member: string): Effect.Effect<boolean> =>
          Effect.gen(function*() {
            while (true) {
              if (outage && (yield* Clock.currentTimeMillis) < nextTry) return false
              const wait = yield* Effect.either(
                command(() => redis.zegoAcquire(redisKey, limit, windowMillis, member, IN_FLIGHT_MILLIS))
              )
              if (Either.isLeft(wait)) {
                yield* failed(wait.left)
                return false
              }
              yield* answered
              if (wait.right === 0) return true
              yield* Effect.sleep(Duration.millis(wait.right))
            }
          })

        // In the background, so the caller does not wait for it; a few tries, since a release that never
        // arrives holds the token for IN_FLIGHT_MILLIS (safe, only slower).
        const release = (member: string) =>
          command(() => redis.zegoRelease(redisKey, member)).pipe(
            Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(3)))),
            Effect.ignore,
            Effect.forkDaemon
          )

        const withPermit = <A, E, R>(call: Effect.Effect<A, E, R>) =>
          Effect.uninterruptibleMask((restore) =>
            Effect.gen(function*() {
              const member = crypto.randomUUID()
              const admitted = yield* restore(acquire(member))
              if (!admitted) return yield* restore(fallBack(call))
              return yield* Effect.ensuring(restore(call), release(member))
            })
          )
        return { withPermit }
      })

    return { limiter }
  })

/** The store as a layer: provide it to the `RtmpDispatch` layers that should share the budget. */
export const layer = (options: Options): Layer.Layer<RateLimit.RateLimitStore, ZegoError.InvalidRequestError> =>
  Layer.scoped(RateLimit.RateLimitStore, make(options))

/** The options read from `ZEGO_RATE_LIMIT_REDIS_URL` and `ZEGO_RATE_LIMIT_REDIS_PREFIX`. */
export const configFromEnv: Config.Config<Options> = Config.all({
  url: Config.string("ZEGO_RATE_LIMIT_REDIS_URL"),
  keyPrefix: Config.option(Config.string("ZEGO_RATE_LIMIT_REDIS_PREFIX"))
}).pipe(Config.map(({ keyPrefix, url }) => ({ url, keyPrefix: Option.getOrUndefined(keyPrefix) })))

/** The store with its options read through Effect `Config` (by default {@link configFromEnv}). */
export const layerConfig = (
  config: Config.Config<Options> = configFromEnv
): Layer.Layer<RateLimit.RateLimitStore, ConfigError.ConfigError | ZegoError.InvalidRequestError> =>
  Layer.scoped(RateLimit.RateLimitStore, Effect.flatMap(config, make))
