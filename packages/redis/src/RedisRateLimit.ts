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
 * bucket's guarantee across processes: a sorted set of the calls in use, scored by when each ended (while it
 * runs, by when it was last seen running, a quarter window ahead), kept by atomic Lua scripts timed by the Redis
 * server's clock.
 * - acquire: drops the calls that ended more than a window ago; if fewer than `limit` remain, adds this call
 *   as in flight and says go; else says how long to wait.
 * - renew, every quarter window while this process has calls running: marks them seen now. A call nobody
 *   renews (its process died, or its caller gave up while the script was on its way: a timeout, an
 *   interruption, a Redis pause) lapses a window and a quarter after it was last seen. A caller that gives up
 *   also removes its call in the background, so that token is back as soon as Redis reads the removal.
 * - release, when the call ends: scores it with the end time, so its token returns one window later.
 * Redis runs acquire before the call reaches ZEGOCLOUD and release after, so ZEGOCLOUD never sees more than
 * `limit` calls in any window, however late or unevenly the calls travel.
 *
 * Every call first takes a token from this process's in-process bucket (same limit), then asks Redis. So this
 * process alone never sends more than `limit` calls in any window, whether its calls go through Redis, through
 * the fallback below, or switch between the two mid-burst; and at most `limit` of its callers ask Redis at
 * once, the others waiting in turn in the process.
 *
 * When Redis is unreachable or slow, calls go on under that in-process bucket alone: a warning is logged once
 * per outage, a counter counts the fallbacks, and Redis is tried again after `retryInterval`.
 *
 * @since 0.1.0
 */
import { RateLimit, ServerApi, ZegoError } from "@effect-zego/core"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { Redis, ReplyError } from "ioredis"
import { ACQUIRE, RELEASE, RENEW } from "./internal/budgetScripts.js"
import { urlAndPrefix } from "./internal/config.js"
import { connect, validateTimeouts, validateUrl } from "./internal/connection.js"

/**
 * Options of the Redis store.
 *
 * @example
 * ```ts
 * import type { RedisRateLimit } from "@effect-zego/redis"
 *
 * const options: RedisRateLimit.Options = {
 *   url: "redis://127.0.0.1:6379/0",
 *   keyPrefix: "my-app:rtmp:",
 *   commandTimeout: "250 millis"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
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

/**
 * Calls that went through the in-process bucket because Redis failed or was too slow.
 *
 * @example
 * ```ts
 * import { RedisRateLimit } from "@effect-zego/redis"
 * import * as Effect from "effect/Effect"
 * import * as Metric from "effect/Metric"
 *
 * // How often Redis was not there and the in-process bucket stood in.
 * const fallbackCount = Effect.map(Metric.value(RedisRateLimit.fallbacks), (state) => state.count)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const fallbacks = Metric.counter("zego_rate_limit_redis_fallbacks", {
  description: "Rate-limit tokens taken from the in-process bucket because Redis failed or was too slow",
  // Only goes up: exported to OpenTelemetry as a monotonic COUNTER.
  incremental: true
})

interface RedisWithScripts extends Redis {
  zegoAcquire(key: string, limit: number, windowMillis: number, member: string): Promise<number>
  zegoRenew(key: string, windowMillis: number, ...members: Array<string>): Promise<number>
  zegoRelease(key: string, windowMillis: number, member: string): Promise<number>
}

/** A Redis call that failed: why, and whether Redis answered (then a script did not run unseen). */
interface Failure {
  readonly reason: string
  readonly answered: boolean
}

const failure = (error: unknown): Failure => ({
  reason: error instanceof Error ? error.message : String(error),
  answered: error instanceof ReplyError
})

/**
 * The store; the Redis connection is closed with the scope.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-zego/core"
 * import { RedisRateLimit } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * // As `layer` does: the store for as long as the layer lives.
 * const StoreLive = Layer.scoped(RateLimit.RateLimitStore, RedisRateLimit.make({ url: "redis://127.0.0.1:6379" }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<RateLimit.Store, ZegoError.InvalidRequestError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* validateUrl(options.url)
    const { commandTimeout: timeout, connectTimeout } = yield* validateTimeouts(options)
    const retryMillis = Duration.toMillis(
      yield* ServerApi.boundedDuration("retryInterval", options.retryInterval ?? "1 second")
    )
    const prefix = options.keyPrefix ?? "effect-zego:rtmp:"
    // Background work (releases, removals, renewals) ends with the store.
    const scope = yield* Effect.scope
    const redis = (yield* connect(options.url, { commandTimeout: timeout, connectTimeout })) as RedisWithScripts
    redis.defineCommand("zegoAcquire", { numberOfKeys: 1, lua: ACQUIRE })
    redis.defineCommand("zegoRenew", { numberOfKeys: 1, lua: RENEW })
    redis.defineCommand("zegoRelease", { numberOfKeys: 1, lua: RELEASE })

    // On the monotonic clock, so that a step of the wall clock does not stretch or skip the retry interval.
    const monotonicMillis = Effect.map(Clock.currentTimeNanos, (nanos) => Number(nanos) / 1_000_000)
    let outage = false
    let nextTry = 0

    const command = <A>(run: () => Promise<A>): Effect.Effect<A, Failure> =>
      Effect.tryPromise({ try: run, catch: failure }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => ({ reason: `no answer within ${Duration.format(timeout)}`, answered: false })
        })
      )

    /** Runs `effect` in the background, a few times until it succeeds, for as long as the store lives. */
    const inBackground = <A>(effect: Effect.Effect<A, Failure>) =>
      effect.pipe(
        Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(3)))),
        Effect.ignore,
        Effect.interruptible,
        Effect.forkIn(scope),
        Effect.asVoid
      )

    const failed = (reason: string) =>
      Effect.flatMap(monotonicMillis, (now) => {
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

        /**
         * Waits until Redis lets this call in: `true`, or `false` when Redis failed. `asked.unsure` says whether
         * Redis may hold the call without this caller knowing it (an acquire that got no answer, or said go).
         */
        const acquire = (member: string, asked: { unsure: boolean }): Effect.Effect<boolean> =>
          Effect.gen(function*() {
            while (true) {
              if (outage && (yield* monotonicMillis) < nextTry) return false
              asked.unsure = true
              const wait = yield* Effect.either(
                command(() => redis.zegoAcquire(redisKey, limit, windowMillis, member))
              )
              if (Either.isLeft(wait)) {
                asked.unsure = !wait.left.answered
                yield* failed(wait.left.reason)
                return false
              }
              asked.unsure = wait.right === 0
              yield* answered
              if (wait.right === 0) return true
              yield* Effect.sleep(Duration.millis(wait.right))
            }
          })

        // The calls of this process that hold a Redis token, renewed every quarter window so that they keep
        // counting while they run; each renewal goes without waiting for the last one, so a slow answer does
        // not delay the next.
        const running = new Set<string>()
        let renewing = false
        const renewals = Effect.gen(function*() {
          while (true) {
            yield* Effect.sleep(Duration.millis(Math.max(1, Math.floor(windowMillis / 4))))
            if (running.size === 0) {
              renewing = false
              return
            }
            const members = [...running]
            yield* Effect.forkIn(
              Effect.ignore(command(() => redis.zegoRenew(redisKey, windowMillis, ...members))),
              scope
            )
          }
        })
        const hold = (member: string) =>
          Effect.suspend(() => {
            running.add(member)
            if (renewing) return Effect.void
            renewing = true
            return Effect.asVoid(Effect.forkIn(Effect.interruptible(renewals), scope))
          })

        // In the background, so the caller does not wait for it; a release that never arrives leaves the call
        // to lapse one window after its last renewal (safe, only slower).
        const release = (member: string) =>
          Effect.suspend(() => {
            running.delete(member)
            return inBackground(command(() => redis.zegoRelease(redisKey, windowMillis, member)))
          })

        // A caller that gave up after its acquire may have reached Redis (a timeout, an interruption): take the
        // call out, so that no token waits for a call that will never run.
        const abandon = (member: string) => inBackground(command(() => redis.zrem(redisKey, member)))

        const viaRedis = <A, E, R>(call: Effect.Effect<A, E, R>) =>
          Effect.uninterruptibleMask((restore) =>
            Effect.gen(function*() {
              const member = crypto.randomUUID()
              const asked = { unsure: false }
              const admitted = yield* Effect.exit(restore(acquire(member, asked)))
              if (Exit.isSuccess(admitted) && admitted.value) {
                yield* hold(member)
                return yield* Effect.ensuring(restore(call), release(member))
              }
              if (asked.unsure) yield* abandon(member)
              if (Exit.isFailure(admitted)) return yield* Effect.failCause(admitted.cause)
              yield* Metric.increment(fallbacks)
              return yield* restore(call)
            })
          )

        // The in-process token first: this process has then seen every call it made, whichever way it went.
        const withPermit = <A, E, R>(call: Effect.Effect<A, E, R>) => local.withPermit(viaRedis(call))
        return { withPermit }
      })

    return { limiter }
  })

/**
 * The store as a layer: provide it to the `RtmpDispatch` layers that should share the budget.
 *
 * @example
 * ```ts
 * import { NodeRtmpDispatch } from "@effect-zego/node"
 * import { RedisRateLimit } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * // Every process that runs this shares the AppId's 40 dispatches per second.
 * const DispatchLive = NodeRtmpDispatch.layer.pipe(
 *   Layer.provide(RedisRateLimit.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<RateLimit.RateLimitStore, ZegoError.InvalidRequestError> =>
  Layer.scoped(RateLimit.RateLimitStore, make(options))

/**
 * The options read from `ZEGO_RATE_LIMIT_REDIS_URL` and `ZEGO_RATE_LIMIT_REDIS_PREFIX`.
 *
 * @example
 * ```ts
 * import { RedisRateLimit } from "@effect-zego/redis"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 *
 * const options = RedisRateLimit.configFromEnv.pipe(
 *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["ZEGO_RATE_LIMIT_REDIS_URL", "redis://127.0.0.1:6379"]])))
 * )
 * Effect.runPromise(options).then((o) => assert.strictEqual(o.url, "redis://127.0.0.1:6379"))
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const configFromEnv: Config.Config<Options> = urlAndPrefix(
  "ZEGO_RATE_LIMIT_REDIS_URL",
  "ZEGO_RATE_LIMIT_REDIS_PREFIX"
)

/**
 * The store with its options read through Effect `Config` (by default {@link configFromEnv}).
 *
 * @example
 * ```ts
 * import { NodeRtmpDispatch } from "@effect-zego/node"
 * import { RedisRateLimit } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_RATE_LIMIT_REDIS_URL, and optionally ZEGO_RATE_LIMIT_REDIS_PREFIX.
 * const DispatchLive = NodeRtmpDispatch.layer.pipe(Layer.provide(RedisRateLimit.layerConfig()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<Options> = configFromEnv
): Layer.Layer<RateLimit.RateLimitStore, ConfigError.ConfigError | ZegoError.InvalidRequestError> =>
  Layer.scoped(RateLimit.RateLimitStore, Effect.flatMap(config, make))
