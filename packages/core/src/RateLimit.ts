/**
 * The client-side rate limit: at most `limit` calls in any `window` per AppId, callers waiting for a token
 * instead of being refused.
 *
 * In this process, a token returns to the bucket one window after its call ENDED. The server counts a call
 * when it arrives, which is after the call started and before it ended, so the server never sees more than
 * `limit` calls in any window, however late or early each call reaches it (a first call that must open a
 * connection arrives later than the next one on a kept-alive connection). A refilling token bucket, or tokens
 * returning one window after the call started, can both let `limit + 1` calls land in one window.
 *
 * Where the tokens live is a {@link Store}: in this process by default, or shared by several processes (the
 * Redis store of `@effect-zego/redis`) when provided as {@link RateLimitStore}.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** At most `limit` calls in any `window`. */
export interface RateLimit {
  readonly limit: number
  readonly window: Duration.DurationInput
}

/** ZEGOCLOUD's quota for the dispatch actions: 40 calls per second per AppId. */
export const defaultRateLimit: RateLimit = { limit: 40, window: "1 second" }

/** Runs a call once the limit allows it. */
export interface Limiter {
  readonly withPermit: <A, E, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** Where the tokens of a key (an AppId) live. */
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
    // When each of the last `limit` calls ended (pending while it runs), oldest at `head` once the ring is full.
    const ended: Array<Deferred.Deferred<number>> = []
    let head = 0

    /** Waits for the oldest call's token, then puts the new call in its place. Runs under the mutex. */
    const waitForToken = Effect.gen(function*() {
      if (ended.length < limit) return
      const oldestEnd = yield* Deferred.await(ended[head]!)
      const wait = oldestEnd + windowMillis - (yield* Clock.currentTimeMillis)
      if (wait > 0) yield* Effect.sleep(wait)
    })
    const occupy = Effect.map(Deferred.make<number>(), (slot) => {
      if (ended.length < limit) {
        ended.push(slot)
      } else {
        ended[head] = slot
        head = (head + 1) % limit
      }
      return slot
    })
    const end = (slot: Deferred.Deferred<number>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => Deferred.succeed(slot, now))

    // Waiting is interruptible; once a call holds a slot, the slot is always ended, or the ring would stall.
    const withPermit = <A, E, R>(call: Effect.Effect<A, E, R>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          yield* restore(mutex.take(1))
          const slot = yield* Effect.zipRight(restore(waitForToken), occupy).pipe(Effect.ensuring(mutex.release(1)))
          return yield* Effect.ensuring(restore(call), end(slot))
        })
      )
    return { withPermit }
  })

/** Tokens kept in this process: each `RtmpDispatch` layer has its own bucket. */
export const inProcess: Store = {
  limiter: ({ limit, windowMillis }) => makeInProcess(limit, windowMillis)
}

/** A limiter that never waits. */
export const unlimited: Limiter = { withPermit: (call) => call }

/** Provides a store to the `RtmpDispatch` layers built with it. */
export const layerStore = (store: Store): Layer.Layer<RateLimitStore> => Layer.succeed(RateLimitStore, store)
