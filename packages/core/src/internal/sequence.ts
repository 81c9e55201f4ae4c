/**
 * The default `Sequence`: the millisecond clock, strictly increasing within the process even when two calls
 * read the same millisecond (or the clock steps back).
 *
 * The stream actions need a `Sequence` strictly increasing per StreamId within any 10 seconds. One counter for the
 * whole process gives that to every StreamId at once (the numbers one stream gets are a subsequence of a strictly
 * increasing sequence), with O(1) memory instead of an entry per stream ever seen. It runs ahead of the clock only
 * while calls come faster than one per millisecond, and never repeats even if the wall clock steps back.
 *
 * Every attempt of a call sends a Sequence of its own (a retry's predecessor may have been applied): a number drawn
 * afresh, or with the caller's Sequence, the numbers just above it ({@link ofAttempt}).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { INT64_MAX } from "../Params.js"
import type { Sequence } from "../Params.js"

let last = 0

/** The next number, given the clock's time in milliseconds (whole ones: a `TestClock` after a jittered wait is not). */
export const nextAt = (now: number): number => {
  last = Math.max(Math.floor(now), last + 1)
  return last
}

export const next: Effect.Effect<number> = Effect.map(Clock.currentTimeMillis, nextAt)

/**
 * The Sequence of attempt `attempt` (1, 2, …) of a call given the caller's `first`: `first`, then the numbers just
 * above it (`first + attempt - 1`), the nearest ones the server takes after an earlier attempt that was applied, so
 * the retry keeps the caller's place among its other calls. Past the Int64 range: its largest, again.
 */
export const ofAttempt = (first: Sequence, attempt: number): Sequence => {
  if (attempt <= 1) return first
  const above = BigInt(first) + BigInt(attempt - 1)
  return above > INT64_MAX ? INT64_MAX : above
}
