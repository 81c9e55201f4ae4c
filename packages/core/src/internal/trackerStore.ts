/** The tracker's default store: in memory, bounded, forgetting the oldest settled (closed or absent) stream first. */
import * as Effect from "effect/Effect"
import type { Entry, Store, Versioned } from "../StreamTracker.js"

/**
 * At most `capacity` values by stream id, forgetting the oldest settled one first. Two insertion-ordered maps
 * (re-inserted on every `set`) make "the oldest settled, else the oldest live" an O(1) choice: a live stream is what
 * a caller most needs to keep. Also the tracker's last known statuses when its store is elsewhere.
 */
export const bounded = <A>(capacity: number, isLive: (value: A) => boolean) => {
  const settled = new Map<string, A>()
  const live = new Map<string, A>()
  // Bounded whatever it is given: NaN, a negative or an infinite capacity would otherwise keep every stream.
  const max = Number.isSafeInteger(Math.floor(capacity)) && capacity >= 1 ? Math.floor(capacity) : 1

  // The oldest key of `map` other than `keep` (the value just set is never the one forgotten).
  const oldest = (map: Map<string, A>, keep: string): string | undefined => {
    for (const key of map.keys()) if (key !== keep) return key
    return undefined
  }

  return {
    get: (streamId: string): A | undefined => live.get(streamId) ?? settled.get(streamId),
    set: (streamId: string, value: A): void => {
      live.delete(streamId)
      settled.delete(streamId)
      ;(isLive(value) ? live : settled).set(streamId, value)
      if (live.size + settled.size > max) {
        const settledKey = oldest(settled, streamId)
        if (settledKey !== undefined) settled.delete(settledKey)
        else {
          const liveKey = oldest(live, streamId)
          if (liveKey !== undefined) live.delete(liveKey)
        }
      }
    },
    live: (): Array<A> => [...live.values()]
  }
}

/** The version of a stream nothing is kept for. */
export const NOTHING = "0"

/**
 * A store of at most `capacity` streams. Versions come from one counter, so that a stream forgotten and written again
 * never gets back a version an earlier reader holds.
 */
export const memory = (capacity: number): Store => {
  const entries = bounded<Versioned & { readonly entry: Entry }>(capacity, (kept) => kept.entry.status.state === "live")
  let counter = 0
  return {
    get: (streamId) => Effect.sync(() => entries.get(streamId) ?? { entry: undefined, version: NOTHING }),
    compareAndSet: (streamId, version, next) =>
      Effect.sync(() => {
        if ((entries.get(streamId)?.version ?? NOTHING) !== version) return false
        entries.set(streamId, { entry: next, version: String(++counter) })
        return true
      }),
    live: Effect.sync(() => entries.live().map((kept) => kept.entry))
  }
}
