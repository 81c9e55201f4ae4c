/**
 * The client-side rate limit: at most `limit` calls in any `window` per AppId, callers waiting for a token
 * instead of being refused.
 *
 * A spent token returns to the bucket one window after it was spent. A plain refilling token bucket would let
 * `limit` calls burst and then refill during the same second, which the server counts as over quota.
 *
 * Where the tokens live is a {@link Store}: in this process by default, or shared by several processes (the
 * Redis store of `@effect-zego/redis`) when provided as {@link RateLimitStore}.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** At most `limit` calls in any `window`. */
export interface RateLimit {
  readonly limit: number
  readonly window: Duration.DurationInput
  /**
   * Added to the window before a token returns, default {@link defaultMargin}: a call reaches the server a
   * little after it took its token (signing, the event loop, the network), and not always equally late, so
   * tokens that returned after exactly one window could let `limit + 1` calls land in one window.
   */
  readonly margin?: Duration.DurationInput | undefined
}

/** ZEGOCLOUD's quota for the dispatch actions: 40 calls per second per AppId. */
export const defaultRateLimit: RateLimit = { limit: 40, window: "1 second" }

/** The default {@link RateLimit.margin}: 50 ms, so the default limit allows about 38 calls a second. */
export const defaultMargin: Duration.DurationInput = "50 millis"

/** Waits until a call may go out, then counts it. */
export interface Limiter {
  readonly take: Effect.Effect<void>
}

/** Where the tokens of a key (an AppId) live. `windowMillis` already includes the margin. */
export interface Store {
  readonly limiter: (options: {
    readonly key: string
    readonly limit: number
    readonly windowMillis: number
  }) => Effect.Effect<Limiter>
}

/** The store `RtmpDispatch` uses when one is provided; without it, {@link inProcess}. */
export class RateLimitStore extends Context.Tag("@effect-zego/core/RateLimitStore")<RateLimitStore, Store>() {}

/** A limiter in this process. Time comes from Effect's `Clock`, so `TestClock` drives it. */
export const makeInProcess = (limit: number, windowMillis: number): Effect.Effect<Limiter> =>
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

/** Tokens kept in this process: each `RtmpDispatch` layer has its own bucket. */
export const inProcess: Store = {
  limiter: ({ limit, windowMillis }) => makeInProcess(limit, windowMillis)
}

/** A limiter that never waits. */
export const unlimited: Limiter = { take: Effect.void }

/** Provides a store to the `RtmpDispatch` layers built with it. */
export const layerStore = (store: Store): Layer.Layer<RateLimitStore> => Layer.succeed(RateLimitStore, store)
