/**
 * The default `Sequence`: the millisecond clock, strictly increasing within the process even when two calls
 * read the same millisecond (or the clock steps back).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

let last = 0

export const next: Effect.Effect<number> = Effect.map(Clock.currentTimeMillis, (now) => {
  last = Math.max(now, last + 1)
  return last
})
