/**
 * The streams the emulator's media nodes carry, as ZEGOCLOUD's stream state sees them: a stream is active while at
 * least one publisher holds it (an nginx-rtmp publish allowed by `on_publish` and not yet ended by
 * `on_publish_done`, or a simulated publish); once the last one leaves it is closed, and remembered as closed for
 * the history window. Forbidden stream ids (`ForbidRTCStream`) are refused a publish, and their live publishers are
 * dropped: simulated ones at once, nginx-rtmp ones at their next `on_update`.
 *
 * Every table is bounded: at most `capacity` live streams (a publish past that is refused), closed streams and
 * forbidden ids (the oldest go first), so that no client can exhaust memory.
 */

/** The state of one stream id: `Active` (with its create time) or `Closed` (create and close times), in ms. */
export type State =
  | { readonly _tag: "Active"; readonly createdAt: number }
  | { readonly _tag: "Closed"; readonly createdAt: number; readonly closedAt: number }

/** Whether a publish (or a publisher's update) may go on, and why in words. */
export interface Decision {
  readonly allowed: boolean
  readonly reason: string
}

/**
 * A stream started or ended: what the server callbacks tell. `kicked`: its publishers were dropped because its id
 * was forbidden (`stream_close` type 3), not a publisher's own stop.
 */
export type Change =
  | { readonly _tag: "Created"; readonly streamId: string; readonly atMillis: number }
  | {
    readonly _tag: "Closed"
    readonly streamId: string
    readonly createdAt: number
    readonly atMillis: number
    readonly kicked: boolean
  }

/** Who holds a stream: nginx-rtmp publishers (counted by `on_publish` / `on_publish_done`) and simulated ones. */
export type Source = "rtmp" | "simulated"

export interface Streams {
  /** A publish starting (`on_publish` allowed by the dispatch check, or a simulated publish). */
  readonly publish: (streamId: string, source: Source, nowMillis: number) => Decision
  /** A publisher leaving (`on_publish_done`, or the end of a simulated publish). */
  readonly publishDone: (streamId: string, source: Source, nowMillis: number) => void
  /** Whether a live nginx-rtmp publisher may go on (`on_update`): not when its stream id is forbidden. */
  readonly update: (streamId: string) => Decision
  /** The state now, or `undefined` (never published, or closed longer ago than the history window). */
  readonly state: (streamId: string, nowMillis: number) => State | undefined
  /** Forbids a stream id: publishes are refused; simulated publishers are dropped now. */
  readonly forbid: (streamId: string, nowMillis: number) => void
  /** Lifts a forbid. */
  readonly resume: (streamId: string) => void
  readonly isForbidden: (streamId: string) => boolean
  /**
   * The most recent `max` streams of each kind, for a look at them all (the dashboard): the live ones (newest
   * first), the forbidden ids, the closed ones within the history window (last closed first).
   */
  readonly overview: (nowMillis: number, max: number) => ReadonlyArray<Overview>
}

/**
 * One stream id as the dashboard shows it: `forbidden` while its id is forbidden (even if a publisher is still being
 * dropped), else `active` or `closed`; `since` is when it became so (ms); `live`: a publisher holds it now.
 */
export interface Overview {
  readonly streamId: string
  readonly state: "active" | "closed" | "forbidden"
  readonly since: number
  readonly live: boolean
  /** When its current (or last) publish started, if it was published within the history window. */
  readonly createdAt: number | undefined
}

interface Live {
  readonly createdAt: number
  rtmp: number
  simulated: number
  /** An `on_update` refused its publisher (a forbidden id): the close that follows is a kick. */
  kicked: boolean
}

export const make = (
  historyMillis: number,
  capacity = 100_000,
  onChange: (change: Change) => void = () => {}
): Streams => {
  const live = new Map<string, Live>()
  /** Closed streams in the order they closed, so that the expired ones are at the front. */
  const closed = new Map<string, { readonly createdAt: number; readonly closedAt: number }>()
  /** Forbidden stream ids and when, oldest forbid first. */
  const forbidden = new Map<string, number>()

  const sweep = (nowMillis: number) => {
    for (const [id, entry] of closed) {
      if (nowMillis - entry.closedAt <= historyMillis && closed.size <= capacity) break
      closed.delete(id)
    }
  }

  const close = (streamId: string, entry: Live, nowMillis: number, kicked: boolean) => {
    live.delete(streamId)
    closed.delete(streamId)
    closed.set(streamId, { createdAt: entry.createdAt, closedAt: nowMillis })
    sweep(nowMillis)
    onChange({ _tag: "Closed", streamId, createdAt: entry.createdAt, atMillis: nowMillis, kicked })
  }

  return {
    publish: (streamId, source, nowMillis) => {
      if (forbidden.has(streamId)) {
        return { allowed: false, reason: `stream ${streamId} is forbidden (ForbidRTCStream; ResumeRTCStream lifts it)` }
      }
      let entry = live.get(streamId)
      if (entry === undefined) {
        if (live.size >= capacity) {
          return { allowed: false, reason: `the emulator already carries ${capacity} live streams` }
        }
        entry = { createdAt: nowMillis, rtmp: 0, simulated: 0, kicked: false }
        live.set(streamId, entry)
        closed.delete(streamId)
        onChange({ _tag: "Created", streamId, atMillis: nowMillis })
      }
      entry[source] += 1
      return { allowed: true, reason: `stream ${streamId} is active` }
    },
    publishDone: (streamId, source, nowMillis) => {
      const entry = live.get(streamId)
      if (entry === undefined || entry[source] === 0) return
      entry[source] -= 1
      if (entry.rtmp + entry.simulated === 0) close(streamId, entry, nowMillis, entry.kicked)
    },
    update: (streamId) => {
      if (!forbidden.has(streamId)) return { allowed: true, reason: `stream ${streamId} is not forbidden` }
      const entry = live.get(streamId)
      if (entry !== undefined) entry.kicked = true
      return { allowed: false, reason: `stream ${streamId} is forbidden (ForbidRTCStream): its publisher is dropped` }
    },
    state: (streamId, nowMillis) => {
      const entry = live.get(streamId)
      if (entry !== undefined) return { _tag: "Active", createdAt: entry.createdAt }
      sweep(nowMillis)
      const done = closed.get(streamId)
      return done === undefined ? undefined : { _tag: "Closed", ...done }
    },
    forbid: (streamId, nowMillis) => {
      forbidden.delete(streamId)
      forbidden.set(streamId, nowMillis)
      if (forbidden.size > capacity) forbidden.delete(forbidden.keys().next().value!)
      const entry = live.get(streamId)
      if (entry !== undefined && entry.simulated > 0) {
        entry.simulated = 0
        entry.kicked = true
        if (entry.rtmp === 0) close(streamId, entry, nowMillis, true)
      }
    },
    resume: (streamId) => {
      forbidden.delete(streamId)
    },
    isForbidden: (streamId) => forbidden.has(streamId),
    overview: (nowMillis, max) => {
      sweep(nowMillis)
      const last = <K, V>(map: Map<K, V>) => [...map].slice(-max).reverse()
      const shown = new Map<string, Overview>()
      for (const [streamId, forbiddenAt] of last(forbidden)) {
        const entry = live.get(streamId) ?? closed.get(streamId)
        shown.set(streamId, {
          streamId,
          state: "forbidden",
          since: forbiddenAt,
          live: live.has(streamId),
          createdAt: entry?.createdAt
        })
      }
      for (const [streamId, entry] of last(live)) {
        if (!shown.has(streamId)) {
          shown.set(streamId, {
            streamId,
            state: "active",
            since: entry.createdAt,
            live: true,
            createdAt: entry.createdAt
          })
        }
      }
      for (const [streamId, entry] of last(closed)) {
        if (!shown.has(streamId)) {
          shown.set(streamId, {
            streamId,
            state: "closed",
            since: entry.closedAt,
            live: false,
            createdAt: entry.createdAt
          })
        }
      }
      return [...shown.values()]
    }
  }
}
