/**
 * A callback `NonceStore` on Redis: every process behind one callback URL (a load balancer spreads ZEGOCLOUD's
 * callbacks and their retries over them) refuses a nonce that any of them applied within the freshness window, and
 * answers "still being applied" (503) for one that another delivery holds.
 *
 * One key per nonce: the prefix and the nonce's SHA-256 (a nonce is caller-controlled text: hashed, it cannot make
 * keys long or odd). `claim` is one `SET key p:<token> PX pending NX` (atomic: of two processes racing with one
 * nonce, one wins; the loser reads the key to tell applied from pending); the claim lapses after the pending
 * timeout, so that a process that died mid-apply does not keep the event from being applied. `commit` sets the
 * key to `a` until the callback's timestamp plus the window, sent without waiting for Redis's answer: the callback
 * is answered one round trip to Redis sooner, any later claim on this connection is read after it, and a commit that
 * fails once sent is logged (its claim lapses, as when a commit fails: a replay of its event is applied again, which
 * the tracker's ordering makes harmless). `release` deletes the key only while it still holds the claim's token. A claim that failed or got no answer in time is deleted the same way right after (Redis runs the
 * delete after the late `SET`, on the same connection), and lapses anyway: it never reads as applied, so
 * ZEGOCLOUD's retry is not taken for a replay. When Redis fails or is slow, `claim` fails with
 * `CallbackUnavailableError` (answer 503, and ZEGOCLOUD retries): a store that cannot tell must not let a replay in.
 *
 * `settleApplied` (what `receiveAndApply` uses: the event is applied first) is one script that reads the key and sets
 * it to `a`: a replay when it already was. With the Redis tracker store on the same URL, the tracker's write commits
 * the nonce itself, in the same script as the entry (see `RedisTrackerStore`), and nothing more is asked of this one.
 *
 * @since 0.1.0
 */
import { CallbackError, CallbackNonceStore, ServerApi, Untrusted, ZegoError } from "@effect-zego/core"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { createHash, randomBytes } from "node:crypto"
import { urlAndPrefix } from "./internal/config.js"
import { connect, failureReason, validateTimeouts, validateUrl, writable } from "./internal/connection.js"
import { APPLIED, link } from "./internal/nonceLink.js"

/**
 * Options of the Redis nonce store.
 *
 * @example
 * ```ts
 * import type { RedisNonceStore } from "@effect-zego/redis"
 *
 * const options: RedisNonceStore.Options = { url: "redis://127.0.0.1:6379/1", commandTimeout: "200 millis" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly url: string
  /** Prefix of the keys. Default `effect-zego:callback-nonce:`. */
  readonly keyPrefix?: string | undefined
  /** The longest a Redis call may take before the callback is refused (503). Default 500 ms; at most an hour. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** How long `make` waits for the first connection. Default 3 s; at most an hour. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** How long a claim may stay unsettled. Default `CallbackNonceStore.DEFAULT_PENDING_TIMEOUT` (10 s); at most an hour. */
  readonly pendingTimeout?: Duration.DurationInput | undefined
}

/** Why a Redis call failed, short (an ioredis message holds no secret, but may be long). */
const reasonOf = (error: unknown, commandTimeout: Duration.Duration): string =>
  `Redis nonce store failed (${Untrusted.quote(failureReason(error, commandTimeout), 120)})`

interface RedisWithScripts extends Redis {
  zegoGiveBack(key: string, claim: string): Promise<number>
  zegoSettleApplied(key: string, millis: number): Promise<number>
}

/** Deletes KEYS[1] only while it holds ARGV[1]: a claim given back never removes another's claim or a commit. */
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

const SETTLED_FIRST = Effect.succeed<CallbackNonceStore.Settled>("first")

/** Sets KEYS[1] applied for ARGV[1] ms (over a claim another delivery holds): 1 when it already was, else 0. */
const SETTLE_APPLIED = `
local replay = redis.call("GET", KEYS[1]) == "${APPLIED}"
redis.call("SET", KEYS[1], "${APPLIED}", "PX", ARGV[1])
if replay then return 1 end
return 0
`

/**
 * The store; the Redis connection is closed with the scope. Fails with `InvalidRequestError` for an invalid option.
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import { RedisNonceStore } from "@effect-zego/redis"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // A receiver with the Redis store passed explicitly (the connection closes with the scope).
 * const receiver = Effect.gen(function*() {
 *   const nonces = yield* RedisNonceStore.make({ url: "redis://127.0.0.1:6379" })
 *   return yield* CallbackReceiver.makeReceiver({ secret: Redacted.make("callback-secret"), nonces })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<CallbackNonceStore.NonceStore, ZegoError.InvalidRequestError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* validateUrl(options.url)
    const { commandTimeout: timeout, connectTimeout } = yield* validateTimeouts(options)
    const pendingMillis = Duration.toMillis(
      yield* ServerApi.boundedDuration(
        "pendingTimeout",
        options.pendingTimeout ?? CallbackNonceStore.DEFAULT_PENDING_TIMEOUT
      )
    )
    const prefix = options.keyPrefix ?? "effect-zego:callback-nonce:"
    if (typeof prefix !== "string") {
      return yield* new ZegoError.InvalidRequestError({ parameter: "keyPrefix", detail: "must be a string" })
    }
    const redis = (yield* connect(options.url, { commandTimeout: timeout, connectTimeout })) as RedisWithScripts
    redis.defineCommand("zegoGiveBack", { numberOfKeys: 1, lua: RELEASE })
    redis.defineCommand("zegoSettleApplied", { numberOfKeys: 1, lua: SETTLE_APPLIED })

    const keyOf = (nonce: string) => prefix + createHash("sha256").update(nonce, "utf8").digest("hex")

    /**
     * Runs one command. ioredis fails it when it gets no answer within `commandTimeout` (and at once while
     * disconnected: the offline queue is off), so the callback never waits longer than that for Redis.
     */
    const command = <A>(run: () => Promise<A>): Effect.Effect<A, CallbackError.CallbackUnavailableError> =>
      Effect.async((resume) => {
        const unavailable = (error: unknown) =>
          resume(Effect.fail(new CallbackError.CallbackUnavailableError({ reason: reasonOf(error, timeout) })))
        try {
          run().then((value) => resume(Effect.succeed(value)), unavailable)
        } catch (error) {
          unavailable(error)
        }
      })

    const giveBack = (key: string, token: string) => redis.zegoGiveBack(key, `p:${token}`)

    // A claim's token tells its holder's key from another's: unique is enough, so a random prefix of this store's and
    // a counter (random bytes for each claim cost a call into the system's generator).
    const tokenPrefix = randomBytes(12).toString("base64url")
    let tokens = 0

    const claim: CallbackNonceStore.NonceStore["claim"] = (nonce, expiresAt) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const token = `${tokenPrefix}${(++tokens).toString(36)}`
        const ttl = Math.ceil(expiresAt - now)
        // Past its window already: the freshness check refuses any replay of it, so it need not be kept.
        if (ttl <= 0) return Effect.succeed<CallbackNonceStore.Claim>({ _tag: "Claimed", token })
        const key = keyOf(nonce)
        return command(() => redis.set(key, `p:${token}`, "PX", Math.min(pendingMillis, ttl), "NX")).pipe(
          // The SET may still run (a paused or slow Redis): send the take-back now, queued behind it, without
          // waiting for its answer, so that the late claim cannot hold off the retry.
          Effect.tapError(() => Effect.sync(() => void giveBack(key, token).catch(() => {}))),
          Effect.flatMap((answer): Effect.Effect<CallbackNonceStore.Claim, CallbackError.CallbackUnavailableError> =>
            answer === "OK"
              ? Effect.succeed({ _tag: "Claimed", token })
              // Held: applied, or claimed by another delivery (a key gone since reads as pending: retry later).
              : Effect.map(command(() => redis.get(key)), (value) => ({
                _tag: value === APPLIED ? "Applied" : "Pending"
              }))
          )
        )
      })

    const runtime = yield* Effect.runtime<never>()
    const warnUncommitted = (error: unknown) =>
      Runtime.runFork(runtime)(
        Effect.logWarning(`${reasonOf(error, timeout)}: an applied callback's nonce was not committed`)
      )

    // Sent, not awaited (see the module's comment); refused at once while Redis is not connected, as a command would be.
    const commit: CallbackNonceStore.NonceStore["commit"] = (nonce, _token, expiresAt) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const ttl = Math.ceil(expiresAt - now)
        if (ttl <= 0) return Effect.void
        if (!writable(redis)) {
          return Effect.fail(
            new CallbackError.CallbackUnavailableError({ reason: reasonOf(new Error("not connected"), timeout) })
          )
        }
        redis.set(keyOf(nonce), APPLIED, "PX", ttl).catch(warnUncommitted)
        return Effect.void
      })

    // A release that fails leaves the claim to lapse after the pending timeout; ZEGOCLOUD's retry is let in then.
    const release: CallbackNonceStore.NonceStore["release"] = (nonce, token) =>
      command(() => giveBack(keyOf(nonce), token)).pipe(
        Effect.catchAll((error) => Effect.logWarning(`${error.reason}: a callback nonce was not given back`))
      )

    const settleApplied: CallbackNonceStore.NonceStore["settleApplied"] = (nonce, expiresAt) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const ttl = Math.ceil(expiresAt - now)
        if (ttl <= 0) return SETTLED_FIRST
        return Effect.map(
          command(() => redis.zegoSettleApplied(keyOf(nonce), ttl)),
          (replay): CallbackNonceStore.Settled => replay === 1 ? "replay" : "first"
        )
      })

    const store: CallbackNonceStore.NonceStore = { claim, commit, release, settleApplied }
    link(store, { url: options.url, keyOf })
    return store
  })

/**
 * The store as a layer: a `Callback` receiver built where it is provided uses it.
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import { RedisNonceStore } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // A callback retried to another process is still refused as a replay there.
 * const ReceiverLive = CallbackReceiver.layer({ secret: Redacted.make("callback-secret") }).pipe(
 *   Layer.provide(RedisNonceStore.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<CallbackNonceStore.CallbackNonceStore, ZegoError.InvalidRequestError> =>
  Layer.scoped(CallbackNonceStore.CallbackNonceStore, make(options))

/**
 * The options read from `ZEGO_CALLBACK_REDIS_URL` and `ZEGO_CALLBACK_REDIS_PREFIX`.
 *
 * @example
 * ```ts
 * import { RedisNonceStore } from "@effect-zego/redis"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 *
 * const options = RedisNonceStore.configFromEnv.pipe(
 *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["ZEGO_CALLBACK_REDIS_URL", "redis://127.0.0.1:6379"]])))
 * )
 * Effect.runPromise(options).then((o) => assert.strictEqual(o.keyPrefix, undefined))
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const configFromEnv: Config.Config<Options> = urlAndPrefix(
  "ZEGO_CALLBACK_REDIS_URL",
  "ZEGO_CALLBACK_REDIS_PREFIX"
)

/**
 * The store with its options read through Effect `Config` (by default {@link configFromEnv}).
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import { RedisNonceStore } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_CALLBACK_SECRET, ZEGO_CALLBACK_REDIS_URL, and optionally ZEGO_CALLBACK_REDIS_PREFIX.
 * const ReceiverLive = CallbackReceiver.layerConfig().pipe(Layer.provide(RedisNonceStore.layerConfig()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<Options> = configFromEnv
): Layer.Layer<CallbackNonceStore.CallbackNonceStore, ConfigError.ConfigError | ZegoError.InvalidRequestError> =>
  Layer.scoped(CallbackNonceStore.CallbackNonceStore, Effect.flatMap(config, make))
