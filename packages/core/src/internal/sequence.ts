/**
 * The default `Sequence`: the millisecond clock, strictly increasing within the process even when two calls
 * read the same millisecond (or the clock steps back).
 *
 * The stream actions need a `Sequence` strictly increasing per StreamId within any 10 seconds. One counter for the
 * whole process gives that to every StreamId at once (the numbers one stream gets are a subsequence of a strictly
 * increasing sequence), with O(1) memory instead of an entry per stream ever seen. It runs ahead of the clock only
 * while calls come faster than one per millisecond, and never repeats even if the wall clock steps back.
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
