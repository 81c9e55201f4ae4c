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
 * - release, once the call has ended: scores it with the end time, so its token returns one window later.
 * Redis runs acquire before the call reaches ZEGOCLOUD and release after, so ZEGOCLOUD never sees more than
 * `limit` calls in any window, however late or unevenly the calls travel.
 *
 * Cheap on the way: what one turn of the event loop asks of a key (the calls that want a token, the calls that
 * ended) goes to Redis as one script run, sent once the turn's fibers have all had their say. So a call waits for
 * one round trip to Redis, and calls that arrive together share a run (dozens, at 64 dispatches at once on
 * loopback). Nobody waits for a release: one whose run fails is not sent again (its call, no longer renewed,
 * lapses as above: its token comes back later than it might, never earlier). No command is awaited longer than
 * `commandTimeout`, which ioredis enforces for each command (no timer of ours on top); the commands sent in the
 * background settle within it too, and are few: a run per key and turn, a renewal per key and quarter window, a
 * removal per caller that gave up. The scripts read Redis's `TIME` (a fraction of a microsecond of a run's few)
 * rather than each process's clock, so that machines whose clocks disagree still share one budget, and set the key's
 * expiry about once a window, not on every call.
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
import type * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { ReplyError } from "ioredis"
import { randomBytes } from "node:crypto"
import { ACQUIRE, MAX_MEMBERS, RENEW } from "./internal/budgetScripts.js"
import { urlAndPrefix } from "./internal/config.js"
import { connect, failureReason, validateTimeouts, validateUrl } from "./internal/connection.js"

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
  zegoAcquire(
    key: string,
    limit: number,
    windowMillis: number,
    ended: number,
    ...members: Array<string>
  ): Promise<unknown>
  zegoRenew(key: string, windowMillis: number, ...members: Array<string>): Promise<number>
}

/** A Redis call that failed: why, and whether Redis answered (then a script did not run unseen). */
interface Failure {
  readonly reason: string
  readonly answered: boolean
}

const ignore = () => {}

/** A call asking Redis for a token, in the next script run; `answer` wakes its fiber. */
interface Ask {
  readonly member: string
  readonly answer: (effect: Effect.Effect<number, Failure>) => void
  /** Its caller gave up before the script run was sent: it is left out. */
  cancelled: boolean
  sent: boolean
}

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
    // The renewals end with the store.
    const scope = yield* Effect.scope
    // Every command settles within `commandTimeout` (see `connect`): no call needs a timer of its own.
    const redis = (yield* connect(options.url, { commandTimeout: timeout, connectTimeout })) as RedisWithScripts
    redis.defineCommand("zegoAcquire", { numberOfKeys: 1, lua: ACQUIRE })
    redis.defineCommand("zegoRenew", { numberOfKeys: 1, lua: RENEW })

    const failure = (error: unknown): Failure => ({
      reason: failureReason(error, timeout),
      answered: error instanceof ReplyError
    })

    // This store's calls are named by a random prefix and a counter: unique across processes, short in Redis.
    const memberPrefix = `${randomBytes(12).toString("base64url")}:`
    let calls = 0

    // On the monotonic clock, so that a step of the wall clock does not stretch or skip the retry interval.
    const monotonicMillis = (clock: Clock.Clock) => Number(clock.unsafeCurrentTimeNanos()) / 1_000_000
    let outage = false
    let nextTry = 0

    const failed = (reason: string) =>
      Effect.clockWith((clock) => {
        nextTry = monotonicMillis(clock) + retryMillis
        if (outage) return Effect.void
        outage = true
        return Effect.logWarning(
          `Redis rate-limit store failed (${reason}): using the in-process bucket until Redis answers`
        )
      })

    const answered = () => {
      outage = false
      return Effect.logInfo("Redis rate-limit store answers again: the shared budget is back in use")
    }

    const limiter: RateLimit.Store["limiter"] = ({ key, limit, windowMillis }) =>
      Effect.map(RateLimit.makeInProcess(limit, windowMillis), (local) => {
        const redisKey = prefix + key

        // What this turn of the event loop asks of Redis: the calls asking for a token and the calls that ended (so
        // that their tokens return one window after they ended). One script run does it all, once every fiber this
        // turn woke has had its say; nobody awaits it but the asking calls. A release that fails is not sent again:
        // its call, no longer renewed, lapses a window and a quarter after it was last seen (its token comes back
        // later than it might, never earlier).
        let asking: Array<Ask> = []
        let ended: Array<string> = []
        let scheduled = false
        const schedule = () => {
          if (scheduled) return
          scheduled = true
          setImmediate(sendTurn)
        }
        const sendTurn = () => {
          scheduled = false
          const asks = asking.filter((ask) => !ask.cancelled)
          const releases = ended
          asking = []
          ended = []
          let a = 0
          let r = 0
          while (a < asks.length || r < releases.length) {
            const releasing = releases.slice(r, r + MAX_MEMBERS)
            const askingNow = asks.slice(a, a + MAX_MEMBERS - releasing.length)
            r += releasing.length
            a += askingNow.length
            send(askingNow, releasing)
          }
        }
        const send = (asks: ReadonlyArray<Ask>, releases: ReadonlyArray<string>) => {
          for (const ask of asks) ask.sent = true
          let answer: Promise<unknown>
          try {
            answer = redis.zegoAcquire(
              redisKey,
              limit,
              windowMillis,
              releases.length,
              ...releases,
              ...asks.map((ask) => ask.member)
            )
          } catch (error) {
            answer = Promise.reject(error)
          }
          answer.then((waits) => {
            for (let i = 0; i < asks.length; i++) {
              const wait = Array.isArray(waits) ? waits[i] : undefined
              // A Redis that answers something else is not believed: the call goes on without it.
              asks[i]!.answer(
                typeof wait === "number" && wait >= 0 && wait <= windowMillis
                  ? Effect.succeed(wait)
                  : Effect.fail({ reason: "an answer that is not the script's", answered: false })
              )
            }
          }, (error) => {
            const failed = failure(error)
            for (const ask of asks) ask.answer(Effect.fail(failed))
          })
        }

        /** Asks Redis for a token in this turn's script run: 0 (go), or how long to wait before asking again. */
        const askRedis = (member: string, asked: { unsure: boolean }) =>
          Effect.async<number, Failure>((answer) => {
            const ask: Ask = { member, answer, cancelled: false, sent: false }
            asking.push(ask)
            schedule()
            return Effect.sync(() => {
              ask.cancelled = true
              // Never sent: Redis never holds it.
              if (!ask.sent) asked.unsure = false
            })
          })

        /**
         * Asks Redis until it lets this call in: `true`, or `false` when Redis failed or is in its retry interval.
         * `asked.unsure` says whether Redis may hold the call without this caller knowing it (an acquire that got no
         * answer, or said go).
         */
        const acquire = (member: string, asked: { unsure: boolean }): Effect.Effect<boolean> => {
          const ask: Effect.Effect<boolean> = Effect.suspend(() => {
            asked.unsure = true
            return Effect.matchEffect(askRedis(member, asked), {
              onFailure: (failure) => {
                asked.unsure = !failure.answered
                return Effect.as(failed(failure.reason), false)
              },
              onSuccess: (wait) => {
                asked.unsure = wait === 0
                if (outage) return Effect.zipRight(answered(), wait === 0 ? Effect.succeed(true) : later(wait))
                return wait === 0 ? Effect.succeed(true) : later(wait)
              }
            })
          })
          const later = (wait: number) => Effect.zipRight(Effect.sleep(Duration.millis(wait)), acquire(member, asked))
          return outage
            ? Effect.clockWith((clock) => monotonicMillis(clock) < nextTry ? Effect.succeed(false) : ask)
            : ask
        }

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
            for (let i = 0; i < members.length; i += MAX_MEMBERS) {
              redis.zegoRenew(redisKey, windowMillis, ...members.slice(i, i + MAX_MEMBERS)).catch(ignore)
            }
          }
        })
        /** Marks a call running: renewed from now on (the renewals start with the first running call). */
        const hold = (member: string): Effect.Effect<void> | undefined => {
          running.add(member)
          if (renewing) return undefined
          renewing = true
          return Effect.asVoid(Effect.forkIn(Effect.interruptible(renewals), scope))
        }

        const release = (member: string) => {
          running.delete(member)
          ended.push(member)
          schedule()
        }

        // A caller that gave up after its acquire may have reached Redis (a timeout, an interruption): take the
        // call out, so that no token waits for a call that will never run. The removal follows the acquire on the
        // same connection, so it lands even when the acquire ran late; one that fails leaves the call to lapse.
        const abandon = (member: string) => void redis.zrem(redisKey, member).catch(ignore)

        /** Runs the call holding the Redis token `member`, released however the call ends. */
        const holding = <A, E, R>(
          restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>,
          call: Effect.Effect<A, E, R>,
          member: string
        ): Effect.Effect<A, E, R> => {
          const run = Effect.matchCauseEffect(restore(call), {
            onFailure: (cause) => {
              release(member)
              return Effect.failCause(cause)
            },
            onSuccess: (value) => {
              release(member)
              return Effect.succeed(value)
            }
          })
          const startRenewals = hold(member)
          return startRenewals === undefined ? run : Effect.zipRight(startRenewals, run)
        }

        const viaRedis = <A, E, R>(call: Effect.Effect<A, E, R>) =>
          Effect.uninterruptibleMask((restore) => {
            const member = memberPrefix + (calls++).toString(36)
            const asked = { unsure: false }
            return Effect.matchCauseEffect(restore(acquire(member, asked)), {
              // Interrupted while asking.
              onFailure: (cause) => {
                if (asked.unsure) abandon(member)
                return Effect.failCause(cause)
              },
              onSuccess: (admitted) => {
                if (admitted) return holding(restore, call, member)
                if (asked.unsure) abandon(member)
                return Effect.zipRight(Metric.increment(fallbacks), restore(call))
              }
            })
          })

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
