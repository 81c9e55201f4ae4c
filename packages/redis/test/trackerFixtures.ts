/**
 * Stream events (and signed callbacks of them), a `StreamState` that counts its describes, and trackers on one Redis:
 * what the tracker tests share.
 */
import { Callback, StreamState, StreamTracker, ZegoError } from "@effect-zego/core"
import { CallbackEvents } from "@effect-zego/core/testing"
import { RedisTrackerStore } from "@effect-zego/redis"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"

export const APP_ID = 4242
export const SESSION = 858012925204410400n
/** The histories' start: a day before now, so that no time is ahead of the trackers' clocks. */
export const T0 = Math.floor((Date.now() - 86_400_000) / 1000) * 1000

export const created = (
  streamId: string,
  streamSeq: number,
  at: number,
  roomSessionId = SESSION
): Callback.StreamCreated =>
  CallbackEvents.streamCreated({ streamId, streamSeq, createdAt: at, roomSessionId, appId: APP_ID })

export const closed = (
  streamId: string,
  streamSeq: number,
  at: number,
  options: {
    readonly reason?: Callback.CloseReason
    readonly createdAt?: number | undefined
    readonly roomSessionId?: bigint
  } = {}
): Callback.StreamClosed =>
  CallbackEvents.streamClosed({ streamId, streamSeq, closedAt: at, roomSessionId: SESSION, appId: APP_ID, ...options })

export const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000)

/** What `DescribeRTCStreamState` answers for a stream, as a `StreamState` service whose describes are counted. */
export const countingState = (
  answer: (streamId: string) => Effect.Effect<StreamState.State, StreamState.DescribeError>,
  calls: Ref.Ref<number>
): StreamState.Service => ({
  appId: APP_ID,
  baseUrl: "http://oracle",
  streamIdAsSent: (streamId) => streamId,
  describe: (streamId) => Effect.zipRight(Ref.update(calls, (n) => n + 1), answer(streamId))
})

/** A tracker on its own store (its own connections, as another process would have) over `state`. */
export const trackerOn = (
  store: RedisTrackerStore.Options,
  state: StreamState.Service,
  options: RedisTrackerStore.TrackerOptions = {}
): Effect.Effect<StreamTracker.Service, never, Scope.Scope> =>
  Effect.orDie(
    Effect.flatMap(
      RedisTrackerStore.make(store),
      (made) => Effect.provideService(StreamTracker.make({ ...options, store: made }), StreamState.StreamState, state)
    )
  )

/**
 * A stream's true history (as the core's tracker tests draw it): create, close, create, … with increasing
 * `stream_seq` and server times at least 501 ms apart, in one or two room sessions (the second restarts its seq).
 */
export const History = (streamId: string) =>
  FastCheck.record({
    steps: FastCheck.array(
      FastCheck.record({
        gap: FastCheck.integer({ min: 501, max: 5000 }),
        reason: FastCheck.constantFrom(...Callback.CloseReason.literals),
        withCreatedAt: FastCheck.boolean()
      }),
      { maxLength: 8 }
    ),
    switchAt: FastCheck.option(FastCheck.nat(8), { nil: undefined }),
    sessions: FastCheck.tuple(
      FastCheck.bigInt({ min: 1n, max: 2n ** 64n }),
      FastCheck.bigInt({ min: 1n, max: 2n ** 64n })
    ).filter(([a, b]) => a !== b)
  }).map(({ sessions, steps, switchAt }) => {
    const events: Array<Callback.StreamCreated | Callback.StreamClosed> = []
    let time = T0
    let seq = 0
    let session = sessions[0]
    let lastCreate = T0
    steps.forEach((step, i) => {
      time += step.gap
      if (i % 2 === 0) {
        if (switchAt !== undefined && i === switchAt * 2 && i > 0) {
          session = sessions[1]
          seq = 0
        }
        lastCreate = time
        events.push(created(streamId, ++seq, time, session))
      } else {
        const next = steps[i + 1]
        const nextInLaterSecond = next === undefined || Math.floor((time + next.gap) / 1000) > Math.floor(time / 1000)
        events.push(closed(streamId, ++seq, time, {
          reason: step.reason,
          roomSessionId: session,
          createdAt: step.withCreatedAt || !nextInLaterSecond ? lastCreate : undefined
        }))
      }
    })
    return events
  })

/** Each event of `history` delivered 0 (`minCopies` 0: lost) to 3 times, shuffled, each copy to one of `instances`. */
export const Delivered = (streamId: string, minCopies: number, instances: number) =>
  History(streamId).chain((history) =>
    FastCheck.array(FastCheck.integer({ min: minCopies, max: 3 }), {
      minLength: history.length,
      maxLength: history.length
    }).chain((copies) => {
      const all = history.flatMap((event, i) => Array.from({ length: copies[i]! }, () => event))
      return FastCheck.tuple(
        FastCheck.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        FastCheck.array(FastCheck.nat(instances - 1), { minLength: all.length, maxLength: all.length })
      ).map(([delivery, to]) => ({ history, delivery, to }))
    })
  )

/** What `DescribeRTCStreamState` says at the end of `history`: active, closed, or 41004. */
export const oracle = (
  history: ReadonlyArray<Callback.StreamCreated | Callback.StreamClosed>
): Effect.Effect<StreamState.State, StreamState.DescribeError> => {
  const last = history.at(-1)
  const previous = history.at(-2)
  if (last === undefined) {
    return Effect.fail(
      new ZegoError.StreamNotFoundError({
        code: 41004,
        serverMessage: "oracle",
        requestId: "oracle-1",
        action: "DescribeRTCStreamState",
        retryable: false
      })
    )
  }
  return Effect.succeed(
    last._tag === "StreamCreated"
      ? {
        state: "active",
        requestId: "oracle-1",
        streamId: last.streamId,
        createdAt: seconds(last.createdAt.getTime())
      }
      : {
        state: "closed",
        requestId: "oracle-1",
        streamId: last.streamId,
        createdAt: seconds(previous?._tag === "StreamCreated" ? previous.createdAt.getTime() : 0),
        closedAt: seconds(last.closedAt.getTime())
      }
  )
}

/** A status without its `checkedAt` (each instance's clock): what two instances must agree on. */
export const settled = (status: StreamTracker.Status | undefined) => {
  if (status === undefined) return undefined
  const { checkedAt: _, ...rest } = status
  return rest
}

/** A signed stream callback of `streamId` (app 4242, one room session) as ZEGOCLOUD posts it, made now. */
export const signedCallback =
  (secret: Redacted.Redacted, streamId: string) =>
  (event: "stream_create" | "stream_close", seq: number, nonce: string) => {
    const timestamp = String(Math.floor(Date.now() / 1000))
    return JSON.stringify({
      event,
      appid: "4242",
      timestamp,
      nonce,
      signature: Callback.signature(secret, timestamp, nonce),
      stream_id: streamId,
      room_session_id: "858012925204410400",
      stream_seq: String(seq),
      create_time_ms: String(T0),
      ...(event === "stream_close" ? { type: "0", destroy_timemillis: String(T0 + 5000) } : {})
    })
  }
