/**
 * The tracker store's copy of entries, from which it answers `getForWrite` without a round trip to Redis: what this
 * instance wrote or read to decide a write on, and what the changes feed brought from the others, at most `capacity` streams (the least
 * recently written forgotten first). It may be behind Redis: the tracker's compare-and-set catches a stale version,
 * and a decision to write nothing is made again on Redis's entry. It is served only while the feed is being read
 * (`following`); a failed feed read empties it, since what the others wrote meanwhile may never arrive.
 */
import type { StreamTracker } from "@effect-zego/core"

/** An entry with its version (the store's counter, a positive integer). */
export interface Kept {
  readonly version: number
  readonly entry: StreamTracker.Entry
}

export const make = (capacity: number) => {
  const entries = new Map<string, Kept>()
  let following = false
  return {
    /** The copy of the stream's entry, when the copy is being served and holds one. */
    get: (streamId: string): Kept | undefined => following ? entries.get(streamId) : undefined,
    /** Keeps `entry` at `version`, unless the copy already holds a later one. */
    put: (streamId: string, version: number, entry: StreamTracker.Entry): void => {
      const held = entries.get(streamId)
      if (held !== undefined) {
        if (held.version >= version) return
        entries.delete(streamId)
      }
      entries.set(streamId, { version, entry })
      if (entries.size > capacity) entries.delete(entries.keys().next().value!)
    },
    /** Forgets the stream: its version in Redis is not the copy's (a write failed on it, or may have run). */
    drop: (streamId: string): void => {
      entries.delete(streamId)
    },
    /** The feed is read: the copy is served. */
    follow: (): void => {
      following = true
    },
    /** The feed failed: the copy is emptied, and not served until the feed is read again. */
    lose: (): void => {
      following = false
      entries.clear()
    }
  }
}

export type Copy = ReturnType<typeof make>
