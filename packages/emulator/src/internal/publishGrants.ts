/**
 * The streams the emulator dispatched for push, per RTMP application, and when: what its `on_publish` check
 * allows. A publish is allowed while the latest push dispatch of its stream for its application is at most one
 * window old (2 hours by default, as ZEGOCLOUD says a node must be used within 2 hours). Streams are kept in the
 * order of their latest dispatch, so that past `capacity` the oldest go first and a benchmark without a rate
 * limit cannot exhaust memory.
 */
import * as Duration from "effect/Duration"

/** What the check decided, and why in words. */
export type Decision =
  | { readonly allowed: true; readonly reason: string }
  | { readonly allowed: false; readonly reason: string }

export interface PublishGrants {
  /** Records a push dispatch of `streamId` on a node of application `app`. */
  readonly grant: (streamId: string, app: string, nowMillis: number) => void
  /** Whether a publish of `streamId` to application `app` is allowed now. */
  readonly check: (streamId: string, app: string, nowMillis: number) => Decision
  /** Forgets the dispatches of `streamId`, or of every stream when it is `undefined`. */
  readonly forget: (streamId: string | undefined) => void
}

const ago = (millis: number): string => (millis < 1 ? "0ms" : Duration.format(Duration.millis(millis)))

export const make = (windowMillis: number, capacity = 100_000): PublishGrants => {
  /** stream id -> application -> time of the latest push dispatch. */
  const streams = new Map<string, Map<string, number>>()
  return {
    grant: (streamId, app, nowMillis) => {
      const apps = streams.get(streamId) ?? new Map<string, number>()
      streams.delete(streamId)
      apps.set(app, nowMillis)
      streams.set(streamId, apps)
      if (streams.size > capacity) {
        const oldest = streams.keys().next()
        if (oldest.done !== true) streams.delete(oldest.value)
      }
    },
    check: (streamId, app, nowMillis) => {
      const apps = streams.get(streamId)
      if (apps === undefined) {
        return { allowed: false, reason: `no push dispatch of stream ${streamId} (never dispatched, or forgotten)` }
      }
      const at = apps.get(app)
      if (at === undefined) {
        return {
          allowed: false,
          reason: `stream ${streamId} was dispatched for application ${[...apps.keys()].join(", ")}, not ${app}`
        }
      }
      const age = nowMillis - at
      if (age > windowMillis) {
        return {
          allowed: false,
          reason: `stream ${streamId} was dispatched ${ago(age)} ago; a node must be used within ${ago(windowMillis)}`
        }
      }
      return { allowed: true, reason: `stream ${streamId} was dispatched for push ${ago(age)} ago` }
    },
    forget: (streamId) => {
      if (streamId === undefined) streams.clear()
      else streams.delete(streamId)
    }
  }
}
