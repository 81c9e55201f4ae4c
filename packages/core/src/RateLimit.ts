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
 *
 * @since 0.1.0
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * At most `limit` calls in any `window`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RateLimit {
  readonly limit: number
  readonly window: Duration.DurationInput
}

/**
 * ZEGOCLOUD's quota for the dispatch actions: 40 calls per second per AppId.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRateLimit: RateLimit = { limit: 40, window: "1 second" }

/**
 * Runs a call once the limit allows it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limiter {
  readonly withPermit: <A, E, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * Where the tokens of a key (an AppId) live.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // A store that logs the buckets it hands out, and keeps their tokens in this process.
 * const logged: RateLimit.Store = {
 *   limiter: (options) =>
 *     Effect.zipRight(
 *       Effect.log(`bucket ${options.key}: ${options.limit} per ${options.windowMillis} ms`),
 *       RateLimit.inProcess.limiter(options)
 *     )
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  readonly limiter: (options: {
    readonly key: string
    readonly limit: number
    readonly windowMillis: number
  }) => Effect.Effect<Limiter>
}

/**
 * The store `RtmpDispatch` uses when one is provided; without it, {@link inProcess}.
 *
 * @example
 * ```ts
 * import { RateLimit, RtmpDispatch } from "@effect-zego/core"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // Every RtmpDispatch layer below takes its tokens from this store (here the in-process one).
 * const DispatchLive = RtmpDispatch.layer({ appId: 1234567890, serverSecret: Redacted.make("secret") }).pipe(
 *   Layer.provide(Layer.succeed(RateLimit.RateLimitStore, RateLimit.inProcess))
 * )
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class RateLimitStore extends Context.Tag("@effect-zego/core/RateLimitStore")<RateLimitStore, Store>() {}

/** A caller waiting for a token, in a doubly linked FIFO queue so that an interrupted one leaves in O(1). */
interface Waiter {
  prev: Waiter | undefined
  next: Waiter | undefined
  /** Wakes the caller's fiber, once it has suspended. */
  resume: ((effect: Effect.Effect<void>) => void) | undefined
  /** The number of the token taken for this caller (it may not have woken yet); `undefined` while it waits. */
  seq: number | undefined
}

/**
 * A limiter in this process. Time comes from Effect's `Clock`, so `TestClock` drives it; intervals are read on
 * its monotonic clock (`unsafeCurrentTimeNanos`), so a step of the wall clock (NTP) neither stalls nor bursts it.
 *
 * The calls are numbered as they take a token; call `n` goes once call `n - limit` has returned its token (one
 * window after it ended). Callers wait in a FIFO queue; a call's end and a timer (one at a time, set for the
 * token the first waiter needs) admit the waiters that may go now, with constant work each. The memory kept is
 * the queue and the calls whose token has not returned (running, or ended within the last window): nothing per
 * call made.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // Two calls per second: the third waits for the first one's token.
 * const program = Effect.gen(function*() {
 *   const limiter = yield* RateLimit.makeInProcess(2, 1000)
 *   yield* Effect.all([1, 2, 3].map((n) => limiter.withPermit(Effect.log(`call ${n}`))), { concurrency: "unbounded" })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeInProcess = (limit: number, windowMillis: number): Effect.Effect<Limiter> =>
  Effect.sync(() => {
    /** The number the next call to take a token gets. */
    let next = 0
    /** The calls whose token has not returned: when each ended (monotonic ms), or `Infinity` while it runs. */
    const unreturned = new Map<number, number>()
    // The ended calls of `unreturned`, in the order they ended (so by end time), oldest at `oldest`.
    const ended: Array<number> = []
    let oldest = 0
    let first: Waiter | undefined
    let last: Waiter | undefined
    /** A timer fiber sleeps until the token the first waiter needs returns. */
    let timer = false

    const now = (clock: Clock.Clock) => Number(clock.unsafeCurrentTimeNanos()) / 1_000_000

    /** Forgets the calls whose token has returned. */
    const expire = (at: number) => {
      while (oldest < ended.length && unreturned.get(ended[oldest]!)! + windowMillis <= at) {
        unreturned.delete(ended[oldest]!)
        oldest++
      }
      if (oldest === ended.length) {
        ended.length = 0
        oldest = 0
      } else if (oldest >= 1024 && oldest * 2 >= ended.length) {
        ended.splice(0, oldest)
        oldest = 0
      }
    }

    /** When the next call may take a token: at once (`-Infinity`), at a time, or once a call ends (`Infinity`). */
    const freeAt = () => next < limit ? -Infinity : (unreturned.get(next - limit) ?? -Infinity) + windowMillis

    const take = () => {
      const seq = next++
      unreturned.set(seq, Infinity)
      return seq
    }

    const unlink = (waiter: Waiter) => {
      if (waiter.prev === undefined) first = waiter.next
      else waiter.prev.next = waiter.next
      if (waiter.next === undefined) last = waiter.prev
      else waiter.next.prev = waiter.prev
      waiter.prev = undefined
      waiter.next = undefined
    }

    /**
     * Admits the waiters that may go now, first come first served, and sets the timer if the first one must wait
     * for an ended call's token. Run after every change: a call ended, a caller queued or left, the timer fired.
     */
    const settle = (clock: Clock.Clock): Effect.Effect<void> => {
      const at = now(clock)
      expire(at)
      while (first !== undefined && freeAt() <= at) {
        const waiter = first
        unlink(waiter)
        waiter.seq = take()
        waiter.resume?.(Effect.void)
      }
      const wakeAt = freeAt()
      if (timer || first === undefined || wakeAt === Infinity) return Effect.void
      timer = true
      return Effect.asVoid(Effect.forkDaemon(Effect.interruptible(
        Effect.zipRight(
          clock.sleep(Duration.millis(Math.max(1, Math.ceil(wakeAt - at)))),
          Effect.suspend(() => {
            timer = false
            return settle(clock)
          })
        )
      )))
    }

    /** A caller that stops waiting: out of the queue, or, if it was given a token, the token back at once. */
    const leave = (waiter: Waiter, clock: Clock.Clock) =>
      Effect.suspend(() => {
        waiter.resume = undefined
        if (waiter.seq === undefined) {
          unlink(waiter)
          return Effect.void
        }
        // The call never ran, so nothing reached the server: its token is free now, not one window later.
        unreturned.delete(waiter.seq)
        return settle(clock)
      })

    /** A call that ended: its token returns one window from now. */
    const end = (seq: number, clock: Clock.Clock): Effect.Effect<void> => {
      unreturned.set(seq, now(clock))
      ended.push(seq)
      return settle(clock)
    }

    /**
     * Runs a call holding token `seq` (inside `uninterruptibleMask`, `restore` its) and ends it however the call
     * ends, interruption included: the handlers of `matchCauseEffect` run in the uninterruptible region, as
     * `Effect.ensuring` would run its finaliser, without a second region of its own.
     */
    const holding = <A, E, R>(
      restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>,
      call: Effect.Effect<A, E, R>,
      seq: number,
      clock: Clock.Clock
    ): Effect.Effect<A, E, R> =>
      Effect.matchCauseEffect(restore(call), {
        onFailure: (cause) => Effect.zipRight(end(seq, clock), Effect.failCause(cause)),
        onSuccess: (value) => {
          const ending = end(seq, clock)
          return ending === Effect.void ? Effect.succeed(value) : Effect.as(ending, value)
        }
      })

    // Waiting is interruptible; once a call holds a token, the token is always ended, or it would never return.
    const withPermit = <A, E, R>(call: Effect.Effect<A, E, R>) =>
      Effect.clockWith((clock) =>
        Effect.uninterruptibleMask((restore) => {
          if (first === undefined) {
            const at = now(clock)
            expire(at)
            // The usual case: a free token, taken in one synchronous step.
            if (freeAt() <= at) return holding(restore, call, take(), clock)
          }
          const waiter: Waiter = { prev: last, next: undefined, resume: undefined, seq: undefined }
          if (last === undefined) first = waiter
          else last.next = waiter
          last = waiter
          const turn = Effect.async<void>((resume) => {
            if (waiter.seq !== undefined) resume(Effect.void)
            else waiter.resume = resume
          })
          // Waiting ends only by the turn or by an interruption (then the waiter leaves, whether or not it got
          // a token just before).
          return Effect.zipRight(
            settle(clock),
            Effect.matchCauseEffect(restore(turn), {
              onFailure: (cause) => Effect.zipRight(leave(waiter, clock), Effect.failCause(cause)),
              onSuccess: () => holding(restore, call, waiter.seq!, clock)
            })
          )
        })
      )
    return { withPermit }
  })

/**
 * Tokens kept in this process: each `RtmpDispatch` layer has its own bucket.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const limiter = Effect.runSync(RateLimit.inProcess.limiter({ key: "1234567890", limit: 40, windowMillis: 1000 }))
 * assert.strictEqual(Effect.runSync(limiter.withPermit(Effect.succeed("sent"))), "sent")
 * ```
 *
 * @since 0.1.0
 * @category stores
 */
export const inProcess: Store = {
  limiter: ({ limit, windowMillis }) => makeInProcess(limit, windowMillis)
}

/**
 * A limiter that never waits.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * assert.strictEqual(Effect.runSync(RateLimit.unlimited.withPermit(Effect.succeed(1))), 1)
 * ```
 *
 * @since 0.1.0
 * @category limiters
 */
export const unlimited: Limiter = { withPermit: (call) => call }

/**
 * Provides a store to the `RtmpDispatch` layers built with it.
 *
 * @example
 * ```ts
 * import { RateLimit, RtmpDispatch } from "@effect-zego/core"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // With @effect-zego/redis, pass `RedisRateLimit.layer(…)` instead to share the budget across processes.
 * const DispatchLive = RtmpDispatch.layer({ appId: 1234567890, serverSecret: Redacted.make("secret") }).pipe(
 *   Layer.provide(RateLimit.layerStore(RateLimit.inProcess))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore = (store: Store): Layer.Layer<RateLimitStore> => Layer.succeed(RateLimitStore, store)
