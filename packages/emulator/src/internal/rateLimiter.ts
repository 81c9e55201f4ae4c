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

/** A limiter that allows every call. */
export const unlimited: RateLimiter = { tryTake: () => true }
