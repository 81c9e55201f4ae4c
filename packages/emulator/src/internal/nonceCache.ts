/**
 * The nonces the gateway has accepted, to refuse a replayed request.
 *
 * A request is accepted while its `Timestamp` is within 10 minutes of the server's clock, so a request signed
 * 10 minutes in the future stays acceptable until 20 minutes after it first arrived: each nonce is kept that
 * long. Entries are stored in arrival order, so the expired ones are always at the front. At most `capacity`
 * are kept (the oldest go first), so that a benchmark without a rate limit cannot exhaust memory; past that,
 * replay detection covers the most recent nonces only. A long key is kept as its SHA-256, so that an entry costs
 * about the same whatever nonce a client sends (a nonce may be as long as the request target allows).
 */
import { createHash } from "node:crypto"

const MAX_KEY = 64

const compact = (key: string): string =>
  key.length <= MAX_KEY ? key : `#${createHash("sha256").update(key).digest("base64")}`

export interface NonceCache {
  /** Whether `key` was seen within the retention time; records it otherwise. */
  readonly seen: (key: string, nowMillis: number) => boolean
}

export const make = (retentionMillis: number, capacity = 500_000): NonceCache => {
  const expiries = new Map<string, number>()
  return {
    seen: (fullKey, nowMillis) => {
      const key = compact(fullKey)
      for (const [old, expiry] of expiries) {
        if (expiry > nowMillis) break
        expiries.delete(old)
      }
      if (expiries.has(key)) return true
      expiries.set(key, nowMillis + retentionMillis)
      if (expiries.size > capacity) expiries.delete(expiries.keys().next().value!)
      return false
    }
  }
}
