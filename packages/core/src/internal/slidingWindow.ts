/**
 * A client-side rate limiter that keeps at most `limit` calls in any window of `windowMillis`: each permit is a
 * token that returns to the bucket one window after it was spent. A plain refilling token bucket would let
 * `limit` calls burst and then refill during the same second, which the server counts as over quota.
 * Callers wait for a token instead of being refused. Time comes from Effect's `Clock`, so `TestClock` drives it.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** Waits until a call may go out, then records it. */
export interface Limiter {
  readonly take: Effect.Effect<void>
}

export const make = (limit: number, windowMillis: number): Effect.Effect<Limiter> =>
  Effect.map(Effect.makeSemaphore(1), (mutex) => {
    // The times of the last `limit` permits, oldest at `head` once the ring is full.
    const spent: Array<number> = []
    let head = 0
    const take = Effect.gen(function*() {
      if (spent.length === limit) {
        const wait = spent[head]! + windowMillis - (yield* Clock.currentTimeMillis)
        if (wait > 0) yield* Effect.sleep(wait)
      }
      const now = yield* Clock.currentTimeMillis
      if (spent.length < limit) {
        spent.push(now)
      } else {
        spent[head] = now
        head = (head + 1) % limit
      }
    })
    return { take: mutex.withPermits(1)(take) }
  })

/** A limiter that never waits. */
export const unlimited: Limiter = { take: Effect.void }
