/** The tracker's default store: in memory, bounded, forgetting the oldest settled (closed or absent) stream first. */
import * as Effect from "effect/Effect"
import type { Entry, Store } from "../StreamTracker.js"

/**
 * A store of at most `capacity` streams. Two insertion-ordered maps (re-inserted on every `set`) make "the oldest
 * closed or absent, else the oldest live" an O(1) choice: a live stream is what a caller most needs to keep.
 */
export const memory = (capacity: number): Store => {
  const settled = new Map<string, Entry>()
  const live = new Map<string, Entry>()
  // Bounded whatever it is given: NaN, a negative or an infinite capacity would otherwise keep every stream.
  const max = Number.isSafeInteger(Math.floor(capacity)) && capacity >= 1 ? Math.floor(capacity) : 1

  // The oldest key of `map` other than `keep` (the entry just set is never the one forgotten).
  const oldest = (map: Map<string, Entry>, keep: string): string | undefined => {
    for (const key of map.keys()) if (key !== keep) return key
    return undefined
  }

  return {
    get: (streamId) => Effect.sync(() => live.get(streamId) ?? settled.get(streamId)),
    set: (streamId, entry) =>
      Effect.sync(() => {
        live.delete(streamId)
        settled.delete(streamId)
        ;(entry.status.state === "live" ? live : settled).set(streamId, entry)
        if (live.size + settled.size > max) {
          const settledKey = oldest(settled, streamId)
          if (settledKey !== undefined) settled.delete(settledKey)
          else {
            const liveKey = oldest(live, streamId)
            if (liveKey !== undefined) live.delete(liveKey)
          }
        }
      }),
    delete: (streamId) =>
      Effect.sync(() => {
        live.delete(streamId)
        settled.delete(streamId)
      }),
    list: Effect.sync(() => [...settled, ...live])
  }
}
