/**
 * @effect-zego/redis: one AppId's dispatch rate budget, and the callback nonces, shared across processes and
 * machines, on Redis.
 */
export * as RedisNonceStore from "./RedisNonceStore.js"
export * as RedisRateLimit from "./RedisRateLimit.js"
