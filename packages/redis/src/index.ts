/**
 * @effect-zego/redis: one AppId's dispatch rate budget, the callback nonces, and the stream tracker's state, shared
 * across processes and machines, on Redis.
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import { NodeRtmpDispatch } from "@effect-zego/node"
 * import { RedisNonceStore, RedisRateLimit } from "@effect-zego/redis"
 * import * as Layer from "effect/Layer"
 *
 * // Every process shares the AppId's dispatch budget, and refuses a callback replayed to any of them.
 * const DispatchLive = NodeRtmpDispatch.layer.pipe(Layer.provide(RedisRateLimit.layerConfig()))
 * const ReceiverLive = CallbackReceiver.layerConfig().pipe(Layer.provide(RedisNonceStore.layerConfig()))
 * ```
 *
 * @since 0.1.0
 */
/**
 * A callback `NonceStore` on Redis.
 *
 * @example
 * ```ts
 * import { RedisNonceStore } from "@effect-zego/redis"
 *
 * const NoncesLive = RedisNonceStore.layerConfig()
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as RedisNonceStore from "./RedisNonceStore.js"
/**
 * A `RateLimit.Store` on Redis.
 *
 * @example
 * ```ts
 * import { RedisRateLimit } from "@effect-zego/redis"
 *
 * const RateLimitLive = RedisRateLimit.layerConfig()
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as RedisRateLimit from "./RedisRateLimit.js"
/**
 * The stream tracker's `Store` on Redis.
 *
 * @example
 * ```ts
 * import { RedisTrackerStore } from "@effect-zego/redis"
 *
 * const TrackerLive = RedisTrackerStore.layerConfig()
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as RedisTrackerStore from "./RedisTrackerStore.js"
