/**
 * The server side of the rate limit: at most `limit` accepted calls per key (AppId) in any sliding window of
 * `windowMillis`. A call over the limit is refused (not delayed) and does not count.
 *
 * The window is the same as the core's client limiter: a call at `now` is allowed when the oldest of the last
 * `limit` accepted calls is at least `windowMillis` old.
 */

export interface RateLimiter {
  /** Whether a call for `key` is allowed at `nowMillis`; an allowed call is recorded. */
  readonly tryTake: (key: number, nowMillis: number) => boolean
}

export const make = (limit: number, windowMillis: number): RateLimiter => {
  // Per key, a ring of the times of the last `limit` accepted calls; `head` is the oldest once it is full.
  const rings = new Map<number, { readonly times: Array<number>; head: number }>()
  return {
    tryTake: (key, nowMillis) => {
      let ring = rings.get(key)
      if (ring === undefined) {
        ring = { times: [], head: 0 }
        rings.set(key, ring)
      }
      if (ring.times.length < limit) {
        ring.times.push(nowMillis)
        return true
      }
      if (nowMillis - ring.times[ring.head]! < windowMillis) return false
      ring.times[ring.head] = nowMillis
      ring.head = (ring.head + 1) % limit
      return true
    }
  }
}

/**
 * The same limit per text key (a room): a key idle for a window is forgotten once `capacity` keys are held, so that
 * keys chosen by clients cannot grow it for ever. When every key held is busy, a new key is refused (as too frequent).
 */
export const makeKeyed = (limit: number, windowMillis: number, capacity = 100_000) => {
  const rings = new Map<string, { readonly times: Array<number>; head: number; newest: number }>()
  return {
    tryTake: (key: string, nowMillis: number): boolean => {
      let ring = rings.get(key)
      if (ring === undefined) {
        if (rings.size >= capacity) {
          for (const [old, held] of rings) if (nowMillis - held.newest >= windowMillis) rings.delete(old)
          if (rings.size >= capacity) return false
        }
        ring = { times: [], head: 0, newest: nowMillis }
        rings.set(key, ring)
      }
      if (ring.times.length < limit) {
        ring.times.push(nowMillis)
      } else {
        if (nowMillis - ring.times[ring.head]! < windowMillis) return false
        ring.times[ring.head] = nowMillis
        ring.head = (ring.head + 1) % limit
      }
      ring.newest = nowMillis
      return true
    }
  }
}

/** A limiter that allows every call. */
export const unlimited: RateLimiter = { tryTake: () => true }
