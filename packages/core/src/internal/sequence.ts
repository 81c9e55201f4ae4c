/**
 * The default `Sequence`: the millisecond clock, strictly increasing within the process even when two calls
 * read the same millisecond (or the clock steps back).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

let last = 0

/** The next number, given the clock's time in milliseconds. */
export const nextAt = (now: number): number => {
  last = Math.max(now, last + 1)
  return last
}

export const next: Effect.Effect<number> = Effect.map(Clock.currentTimeMillis, nextAt)
