/**
 * The `Sequence` rule of the stream actions: for one StreamId (of one AppId), strictly increasing within any 10
 * seconds. The calls that passed are strictly increasing, so the largest in the last 10 seconds is the latest one
 * that passed: a call is refused when that one is less than 10 seconds old and not smaller. Entries older than the
 * window are dropped (they are kept in the order of their last call), and at most `capacity` are kept.
 */

export const WINDOW_MILLIS = 10_000

export interface Sequences {
  /** Whether `sequence` may follow for `key` at `nowMillis`; a call that may is recorded. */
  readonly accept: (key: string, sequence: bigint, nowMillis: number) => boolean
}

export const make = (windowMillis = WINDOW_MILLIS, capacity = 100_000): Sequences => {
  const latest = new Map<string, { readonly sequence: bigint; readonly at: number }>()
  return {
    accept: (key, sequence, nowMillis) => {
      for (const [old, entry] of latest) {
        if (nowMillis - entry.at < windowMillis) break
        latest.delete(old)
      }
      const last = latest.get(key)
      if (last !== undefined && nowMillis - last.at < windowMillis && sequence <= last.sequence) return false
      latest.delete(key)
      latest.set(key, { sequence, at: nowMillis })
      if (latest.size > capacity) latest.delete(latest.keys().next().value!)
      return true
    }
  }
}
