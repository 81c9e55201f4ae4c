/**
 * Everything effect-zego can share on one Redis, from one URL: what lets several instances of an app stand behind
 * one load balancer and one ZEGOCLOUD callback URL as if they were one.
 *
 * - the AppId's dispatch budget (`RedisRateLimit`): together they stay within ZEGOCLOUD's 40 calls per second;
 * - the callback nonces (`RedisNonceStore`): a callback retried to another instance is refused there as a replay
 *   once one of them applied it, and answered 503 while one is applying it;
 * - the stream tracker (`RedisTrackerStore`): whichever instance applies a callback, every one answers with it and
 *   sees the change on its `changes`.
 *
 * {@link layer} provides the first two where the dispatch layers and the receivers are built (they look for them);
 * {@link layerTracker} is the tracker, which needs `StreamState` from those dispatch layers, so it is a layer of its
 * own. Their `…Config` forms read `ZEGO_REDIS_URL`, and without it keep everything in memory, as one process does.
 * Each store keeps its own promises when Redis fails (the budget falls back to an in-process bucket, a callback is
 * answered 503 and ZEGOCLOUD retries it, a read answers the last known status marked stale); see their modules.
 *
 * @since 0.1.0
 */
import type { CallbackNonceStore, RateLimit, StreamState, ZegoError } from "@effect-zego/core"
import { StreamTracker } from "@effect-zego/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { urlAndPrefix } from "./internal/config.js"
import * as RedisNonceStore from "./RedisNonceStore.js"
import * as RedisRateLimit from "./RedisRateLimit.js"
import * as RedisTrackerStore from "./RedisTrackerStore.js"

/**
 * Where the shared state lives.
 *
 * @example
 * ```ts
 * import type { RedisShared } from "@effect-zego/redis"
 *
 * // Staging and production on one Redis, apart.
 * const options: RedisShared.Options = { url: "redis://10.0.0.5:6379", keyPrefix: "staging:" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  readonly url: string
  /**
   * Put before each store's own prefix (`effect-zego:rtmp:`, `effect-zego:callback-nonce:`, `effect-zego:tracker:`),
   * so that several apps or environments can use one Redis apart. Default: none: the keys are the stores' defaults.
   */
  readonly keyPrefix?: string | undefined
}

/**
 * The budget and the nonces on the Redis of `options` (`RateLimit.RateLimitStore`,
 * `CallbackNonceStore.CallbackNonceStore`): the `RtmpDispatch` and `CallbackReceiver` layers built under it use them.
 * Fails with `InvalidRequestError` for an invalid URL (never echoed: it may hold a password).
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import { NodeZego } from "@effect-zego/node"
 * import { RedisShared } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * // Provided under both: every instance shares the budget and the callback nonces.
 * const ZegoLive = Layer.merge(NodeZego.layer, CallbackReceiver.layerConfig()).pipe(
 *   Layer.provide(RedisShared.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<RateLimit.RateLimitStore | CallbackNonceStore.CallbackNonceStore, ZegoError.InvalidRequestError> => {
  const namespace = options.keyPrefix ?? ""
  return Layer.merge(
    RedisRateLimit.layer({ url: options.url, keyPrefix: `${namespace}effect-zego:rtmp:` }),
    RedisNonceStore.layer({ url: options.url, keyPrefix: `${namespace}effect-zego:callback-nonce:` })
  )
}

/**
 * The options from `ZEGO_REDIS_URL` and `ZEGO_REDIS_PREFIX`; `Option.none()` when `ZEGO_REDIS_URL` is not set.
 *
 * @example
 * ```ts
 * import { RedisShared } from "@effect-zego/redis"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * const read = (env: Map<string, string>) =>
 *   Effect.runSync(RedisShared.configFromEnv.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(env))))
 * assert.deepStrictEqual(read(new Map()), Option.none())
 * assert.deepStrictEqual(
 *   read(new Map([["ZEGO_REDIS_URL", "redis://127.0.0.1:6379"]])),
 *   Option.some({ url: "redis://127.0.0.1:6379", keyPrefix: undefined })
 * )
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const configFromEnv: Config.Config<Option.Option<Options>> = Config.option(
  urlAndPrefix("ZEGO_REDIS_URL", "ZEGO_REDIS_PREFIX")
)

/**
 * {@link layer} when the config gives options (by default {@link configFromEnv}: when `ZEGO_REDIS_URL` is set), and
 * nothing when it gives none: then each process keeps its budget and its nonces in memory, the defaults. So one
 * program runs alone, or as many instances on one Redis, by its environment. Its type provides nothing, since it
 * may not: the layers that use the stores look for them (and fall back to memory) when they are built.
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import { NodeZego } from "@effect-zego/node"
 * import { RedisShared } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_REDIS_URL set: shared by every instance on that Redis; not set: in this process's memory.
 * const ZegoLive = Layer.merge(NodeZego.layer, CallbackReceiver.layerConfig()).pipe(
 *   Layer.provide(RedisShared.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<Option.Option<Options>> = configFromEnv
): Layer.Layer<never, ConfigError.ConfigError | ZegoError.InvalidRequestError> =>
  Layer.unwrapEffect(
    Effect.map(
      config,
      Option.match({ onNone: (): Layer.Layer<never, ZegoError.InvalidRequestError> => Layer.empty, onSome: layer })
    )
  )

/**
 * The stream tracker over `StreamState`, its state on the Redis of `options` (`RedisTrackerStore`), shared by every
 * instance that uses the same Redis and prefix.
 *
 * @example
 * ```ts
 * import { NodeZego } from "@effect-zego/node"
 * import { RedisShared } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * const options = { url: "redis://127.0.0.1:6379" }
 * // The tracker over the dispatch layers, which share the budget: every piece on the one Redis.
 * const TrackerLive = RedisShared.layerTracker(options, { maxAge: "30 seconds" }).pipe(
 *   Layer.provide(NodeZego.layer),
 *   Layer.provide(RedisShared.layer(options))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTracker = (
  options: Options,
  trackerOptions?: RedisTrackerStore.TrackerOptions
): Layer.Layer<StreamTracker.StreamTracker, ZegoError.InvalidRequestError, StreamState.StreamState> =>
  RedisTrackerStore.layer(
    { url: options.url, keyPrefix: `${options.keyPrefix ?? ""}effect-zego:tracker:` },
    trackerOptions
  )

/**
 * {@link layerTracker} when the config gives options (by default {@link configFromEnv}: when `ZEGO_REDIS_URL` is
 * set), and `StreamTracker.layer` in memory when it gives none.
 *
 * @example
 * ```ts
 * import { NodeZego } from "@effect-zego/node"
 * import { RedisShared } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * // ZEGO_REDIS_URL set: every instance reads and writes the streams' state on that Redis; not set: in memory.
 * const TrackerLive = RedisShared.layerTrackerConfig().pipe(
 *   Layer.provide(NodeZego.layer),
 *   Layer.provide(RedisShared.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTrackerConfig = (
  config: Config.Config<Option.Option<Options>> = configFromEnv,
  trackerOptions?: RedisTrackerStore.TrackerOptions
): Layer.Layer<
  StreamTracker.StreamTracker,
  ConfigError.ConfigError | ZegoError.InvalidRequestError,
  StreamState.StreamState
> =>
  Layer.unwrapEffect(
    Effect.map(
      config,
      Option.match({
        onNone: () => StreamTracker.layer(trackerOptions),
        onSome: (options) => layerTracker(options, trackerOptions)
      })
    )
  )
