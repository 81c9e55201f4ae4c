/**
 * A callback `NonceStore` on Redis: every process behind one callback URL (a load balancer spreads ZEGOCLOUD's
 * callbacks and their retries over them) refuses a nonce that any of them took within the freshness window.
 *
 * `take` is one `SET key 1 PX ttl NX` (atomic: of two processes racing with one nonce, one wins), the key the prefix
 * and the nonce's SHA-256 (a nonce is caller-controlled text: hashed, it cannot make keys long or odd), kept until
 * the callback's timestamp plus the window. `release` is a `DEL`. When Redis fails or is slow, `take` fails with
 * `CallbackUnavailableError` (answer 503, and ZEGOCLOUD retries): a store that cannot tell must not let a replay in.
 *
 * @since 0.1.0
 */
import { Callback, Untrusted, ZegoError } from "@effect-zego/core"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { createHash } from "node:crypto"
import { urlAndPrefix } from "./internal/config.js"
import { connect, validateUrl } from "./internal/connection.js"

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
  /** The longest a Redis call may take before the callback is refused (503). Default 500 ms. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** How long `make` waits for the first connection. Default 3 s. */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

/** Why a Redis call failed, short (an ioredis message holds no secret, but may be long). */
const reasonOf = (error: unknown): string =>
  `Redis nonce store failed (${Untrusted.quote(error instanceof Error ? error.message : String(error), 120)})`

/**
 * The store; the Redis connection is closed with the scope.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import { RedisNonceStore } from "@effect-zego/redis"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // A receiver with the Redis store passed explicitly (the connection closes with the scope).
 * const receiver = Effect.gen(function*() {
 *   const nonces = yield* RedisNonceStore.make({ url: "redis://127.0.0.1:6379" })
 *   return yield* Callback.makeReceiver({ secret: Redacted.make("callback-secret"), nonces })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Callback.NonceStore, ZegoError.InvalidRequestError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* validateUrl(options.url)
    const timeout = Duration.decode(options.commandTimeout ?? "500 millis")
    const connectTimeout = Duration.decode(options.connectTimeout ?? "3 seconds")
    const prefix = options.keyPrefix ?? "effect-zego:callback-nonce:"
    const redis = yield* connect(options.url, { commandTimeout: timeout, connectTimeout })

    const keyOf = (nonce: string) => prefix + createHash("sha256").update(nonce, "utf8").digest("hex")

    const command = <A>(run: () => Promise<A>): Effect.Effect<A, Callback.CallbackUnavailableError> =>
      Effect.tryPromise({
        try: run,
        catch: (error) => new Callback.CallbackUnavailableError({ reason: reasonOf(error) })
      }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new Callback.CallbackUnavailableError({
              reason: `Redis nonce store gave no answer within ${Duration.format(timeout)}`
            })
        })
      )

    const take: Callback.NonceStore["take"] = (nonce, expiresAt) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const ttl = Math.ceil(expiresAt - now)
        // Past its window already: the freshness check refuses any replay of it, so it need not be kept.
        if (ttl <= 0) return Effect.succeed(true)
        return Effect.map(command(() => redis.set(keyOf(nonce), "1", "PX", ttl, "NX")), (answer) => answer === "OK")
      })

    // A release that fails leaves the nonce to lapse with its window: ZEGOCLOUD's retry is then refused as a replay.
    const release: Callback.NonceStore["release"] = (nonce) =>
      command(() => redis.del(keyOf(nonce))).pipe(
        Effect.catchAll((error) => Effect.logWarning(`${error.reason}: a callback nonce was not given back`))
      )

    return { take, release }
  })

/**
 * The store as a layer: a `Callback` receiver built where it is provided uses it.
 *
 * @example
 * ```ts
 * import { Callback } from "@effect-zego/core"
 * import { RedisNonceStore } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // A callback retried to another process is still refused as a replay there.
 * const ReceiverLive = Callback.layer({ secret: Redacted.make("callback-secret") }).pipe(
 *   Layer.provide(RedisNonceStore.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Callback.CallbackNonceStore, ZegoError.InvalidRequestError> =>
  Layer.scoped(Callback.CallbackNonceStore, make(options))

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
 * import { Callback } from "@effect-zego/core"
 * import { RedisNonceStore } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_CALLBACK_SECRET, ZEGO_CALLBACK_REDIS_URL, and optionally ZEGO_CALLBACK_REDIS_PREFIX.
 * const ReceiverLive = Callback.layerConfig().pipe(Layer.provide(RedisNonceStore.layerConfig()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<Options> = configFromEnv
): Layer.Layer<Callback.CallbackNonceStore, ConfigError.ConfigError | ZegoError.InvalidRequestError> =>
  Layer.scoped(Callback.CallbackNonceStore, Effect.flatMap(config, make))
