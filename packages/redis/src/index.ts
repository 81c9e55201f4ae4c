/**
 * @effect-zego/redis: one AppId's dispatch rate budget shared across processes and machines, on Redis.
 */
export * as RedisRateLimit from "./RedisRateLimit.js"
