/**
 * A `RateLimit.Store` on Redis: every process and machine that uses the same Redis and key prefix shares one
 * AppId's budget (ZEGOCLOUD allows 40 dispatch calls per second per AppId, however many servers make them).
 *
 * Why not `@effect/experimental`'s `RateLimiter` with its Redis store: its "delay" modes are a fixed window
 * and a refilling token bucket, and both let twice the limit through in some one-second window (a burst at
 * the end of one window and another at the start of the next), which ZEGOCLOUD answers with 1010. So this is
 * the smallest thing that keeps at most `limit` calls in ANY window and lets callers wait: one atomic Lua
 * script over a sorted set of reserved send times (a sliding log), timed by the Redis server's clock so that
 * machines with different clocks agree. A caller reserves the earliest free slot and sleeps until it.
 *
 * A reservation is a send time, and a call reaches ZEGOCLOUD a little after it (signing, the event loop, a new
 * connection, the network), not always equally late; so the window each reservation covers is widened by
 * `margin` (default 50 ms). The in-process bucket needs no margin: it counts a token from the call's end.
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
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"

/** Options of the Redis store. */
export interface Options {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly url: string
  /** Prefix of the keys; the AppId follows it, so two apps never share a budget. Default `effect-zego:rtmp:`. */
  readonly keyPrefix?: string | undefined
  /** The longest a Redis call may take before the in-process bucket is used instead. Default 200 ms. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** Added to the window of every reservation, for the spread of network and event-loop delays. Default 50 ms. */
  readonly margin?: Duration.DurationInput | undefined
  /** After a failure, how long the in-process bucket is used before Redis is tried again. Default 1 second. */
  readonly retryInterval?: Duration.DurationInput | undefined
}

/** Calls that went through the in-process bucket because Redis failed or was slow. */
export const fallbacks = Metric.counter("zego_rate_limit_redis_fallbacks", {
  description: "Rate-limit tokens taken from the in-process bucket because Redis failed or was too slow"
})

// KEYS[1]: the budget's sorted set; ARGV: limit, window in ms, a unique member. Returns the ms to wait.
// Scores are reserved send times. The new call goes at the earliest time `at` >= now such that fewer than
// `limit` reservations lie in (at - window, at]: since reservations only grow, that is the later of now and
// the `limit`-th latest reservation plus the window.
const RESERVE = `
local now_parts = redis.call("TIME")
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - window)
local count = redis.call("ZCARD", KEYS[1])
local at = now
if count >= limit then
  local nth = redis.call("ZRANGE", KEYS[1], count - limit, count - limit, "WITHSCORES")
  at = math.max(now, tonumber(nth[2]) + window)
end
redis.call("ZADD", KEYS[1], at, ARGV[3])
redis.call("PEXPIRE", KEYS[1], at - now + window)
return at - now
`

interface RedisWithReserve extends Redis {
  zegoReserve(key: string, limit: number, windowMillis: number, member: string): Promise<number>
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
    const timeout = Duration.decode(options.commandTimeout ?? "200 millis")
    const retryMillis = Duration.toMillis(options.retryInterval ?? "1 second")
    const prefix = options.keyPrefix ?? "effect-zego:rtmp:"
    const marginMillis = Duration.toMillis(options.margin ?? "50 millis")
    const redis = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Redis(options.url, {
          // Fail at once while disconnected instead of queueing: the caller then uses its in-process bucket.
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: Duration.toMillis(timeout) * 5,
          commandTimeout: Duration.toMillis(timeout),
          retryStrategy: (attempt) => Math.min(attempt * 100, 1000)
        }) as RedisWithReserve
        client.defineCommand("zegoReserve", { numberOfKeys: 1, lua: RESERVE })
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
    }).pipe(Effect.timeout(Duration.times(timeout, 5)), Effect.ignore)

    let outage = false
    let nextTry = 0

    const reserve = (key: string, limit: number, windowMillis: number) =>
      Effect.tryPromise({
        try: () => redis.zegoReserve(prefix + key, limit, windowMillis + marginMillis, crypto.randomUUID()),
        catch: describe
      }).pipe(
        Effect.timeoutFail({ duration: timeout, onTimeout: () => `no answer within ${Duration.format(timeout)}` })
      )

    const limiter: RateLimit.Store["limiter"] = ({ key, limit, windowMillis }) =>
      Effect.map(RateLimit.makeInProcess(limit, windowMillis), (local) => {
        const fallBack = <A, E, R>(call: Effect.Effect<A, E, R>) =>
          Effect.zipRight(Metric.increment(fallbacks), local.withPermit(call))
        const withPermit = <A, E, R>(call: Effect.Effect<A, E, R>) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            if (outage && now < nextTry) return yield* fallBack(call)
            const reserved = yield* Effect.either(reserve(key, limit, windowMillis))
            if (Either.isLeft(reserved)) {
              nextTry = now + retryMillis
              if (!outage) {
                outage = true
                yield* Effect.logWarning(
                  `Redis rate-limit store failed (${reserved.left}): using the in-process bucket until Redis answers`
                )
              }
              return yield* fallBack(call)
            }
            if (outage) {
              outage = false
              yield* Effect.logInfo("Redis rate-limit store answers again: the shared budget is back in use")
            }
            if (reserved.right > 0) yield* Effect.sleep(Duration.millis(reserved.right))
            return yield* call
          })
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
