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
import * as FiberId from "effect/FiberId"
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
    /** A call's token: when the call ended (`undefined` while it runs). */
    interface Slot {
      end: number | undefined
      readonly ended: Deferred.Deferred<number>
    }
    // The last `limit` calls' tokens, oldest at `head` once the ring is full.
    const slots: Array<Slot> = []
    let head = 0
    // Callers on the slow path (waiting for the mutex or a token): while there are any, nobody takes the fast one.
    let waiting = 0

    const occupy = (): Slot => {
      const slot: Slot = { end: undefined, ended: Deferred.unsafeMake(FiberId.none) }
      if (slots.length < limit) {
        slots.push(slot)
      } else {
        slots[head] = slot
        head = (head + 1) % limit
      }
      return slot
    }
    /** A token free right now, taken at once (the usual case, in one synchronous step), or `undefined`. */
    const takeFree = (now: number): Slot | undefined => {
      if (waiting > 0) return undefined
      const oldest = slots[head]
      if (slots.length < limit || (oldest!.end !== undefined && oldest!.end + windowMillis <= now)) return occupy()
      return undefined
    }
    /** Waits, under the mutex and in turn, for the oldest call's token to return, then takes it. */
    const takeInTurn = (restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        waiting++
        return Effect.gen(function*() {
          yield* restore(mutex.take(1))
          return yield* Effect.ensuring(
            Effect.zipRight(
              restore(Effect.gen(function*() {
                if (slots.length < limit) return
                const oldestEnd = yield* Deferred.await(slots[head]!.ended)
                const wait = oldestEnd + windowMillis - (yield* Clock.currentTimeMillis)
                if (wait > 0) yield* Effect.sleep(wait)
              })),
              Effect.sync(occupy)
            ),
            mutex.release(1)
          )
        }).pipe(Effect.ensuring(Effect.sync(() => waiting--)))
      })
    const end = (slot: Slot) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        slot.end = now
        return Deferred.succeed(slot.ended, now)
      })

    // Waiting is interruptible; once a call holds a token, the token is always ended, or the ring would stall.
    const withPermit = <A, E, R>(call: Effect.Effect<A, E, R>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const free = takeFree(now)
          return Effect.flatMap(
            free === undefined ? takeInTurn(restore) : Effect.succeed(free),
            (slot) => Effect.ensuring(restore(call), end(slot))
          )
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
