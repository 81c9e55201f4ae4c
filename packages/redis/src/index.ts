/**
 * @effect-zego/redis: one AppId's dispatch rate budget, and the callback nonces, shared across processes and
 * machines, on Redis.
 *
 * @since 0.1.0
 */
/**
 * A callback `NonceStore` on Redis.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RedisNonceStore from "./RedisNonceStore.js"
/**
 * A `RateLimit.Store` on Redis.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RedisRateLimit from "./RedisRateLimit.js"
