/**
 * What each stream is now, from verified callbacks and `DescribeRTCStreamState`: ZEGOCLOUD's ordering rule applied
 * (within a room session the larger `stream_seq` wins, duplicates change nothing, an older create after a newer close
 * does not bring a stream back), and a lost callback repaired by asking the server about a stream whose state is
 * unknown or too old.
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type * as Callback from "./Callback.js"
import type * as StreamState from "./StreamState.js"

/** Where a status was learnt: a callback, or a `DescribeRTCStreamState` answer. */
export type Source = "callback" | "describe"

/** A stream's status. */
export type Status =
  | {
    readonly state: "live"
    readonly streamId: string
    /** When the publish started (the server's time). */
    readonly since: Date
    readonly source: Source
    /** When this tracker last learnt something about the stream (its clock). */
    readonly checkedAt: Date
  }
  | {
    readonly state: "closed"
    readonly streamId: string
    /** `unknown` when only `DescribeRTCStreamState` told (it gives no reason). */
    readonly reason: Callback.CloseReason
    readonly closedAt: Date
    readonly source: Source
    readonly checkedAt: Date
  }
  | {
    /** ZEGOCLOUD knows no such stream (41004). */
    readonly state: "absent"
    readonly streamId: string
    readonly source: "describe"
    readonly checkedAt: Date
  }

/** A change of a stream's state, as published on {@link Service.changes}. */
export type Change = Status

/** The service. */
export interface Service {
  /** Applies a verified stream event; `UnknownEvent` changes nothing. Idempotent. */
  readonly apply: (event: Callback.Event) => Effect.Effect<void>
  /** Applies what `DescribeRTCStreamState` said (or 41004, as `undefined`) at the tracker's current time. */
  readonly observe: (streamId: string, state: StreamState.State | undefined) => Effect.Effect<void>
  /**
   * The stream's status; when unknown or older than `maxAge`, first re-checked with `DescribeRTCStreamState` (within
   * that action's budget). A failed re-check leaves the last known status (or `undefined`).
   */
  readonly get: (streamId: string) => Effect.Effect<Status | undefined>
  /** The status as known, with no re-check. */
  readonly peek: (streamId: string) => Effect.Effect<Status | undefined>
  /** The streams known to be live. */
  readonly live: Effect.Effect<ReadonlyArray<Status>>
  /** Every change of state (live → closed, closed → live, …), from the moment of subscription. */
  readonly changes: Stream.Stream<Change>
}

/** Options of the tracker. */
export interface Options {
  /** A status older than this is re-checked by `get`. Default 30 seconds. */
  readonly maxAge?: Duration.DurationInput | undefined
  /** How many streams are kept (the oldest closed ones are forgotten first). Default 10 000. */
  readonly capacity?: number | undefined
}
