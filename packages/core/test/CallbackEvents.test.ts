import { Callback } from "@effect-zego/core"
import { CallbackEvents } from "@effect-zego/core/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"

/** What `Callback.decode` gives for a callback's fields (the signature checked before it plays no part here). */
const decoded = (fields: Record<string, string>) => Either.getOrThrow(Callback.decode(fields))

const envelope = { appid: "4242", timestamp: "1700000001", nonce: "n-7", stream_id: "obs-1", room_id: "lobby" }

describe("CallbackEvents", () => {
  it("streamCreated is what Callback.decode gives for the same stream_create, every other field omitted", () => {
    const built = CallbackEvents.streamCreated({
      streamId: "obs-1",
      streamSeq: 3,
      createdAt: 1_700_000_001_234,
      roomId: "lobby",
      roomSessionId: 858012925204410400n,
      appId: 4242,
      nonce: "n-7"
    })
    const fields = {
      ...envelope,
      event: "stream_create",
      room_session_id: "858012925204410400",
      stream_seq: "3",
      create_time_ms: "1700000001234"
    }
    assert.deepStrictEqual(built, decoded(fields))
  })

  it("streamClosed is what Callback.decode gives for the same stream_close, for every reason", () => {
    for (const reason of Callback.CloseReason.literals) {
      const built = CallbackEvents.streamClosed({
        streamId: "obs-1",
        streamSeq: 4n,
        closedAt: new Date(1_700_000_001_500),
        createdAt: 1_700_000_000_000,
        reason,
        roomId: "lobby",
        appId: 4242,
        nonce: "n-7"
      })
      const fields = {
        ...envelope,
        event: "stream_close",
        stream_seq: "4",
        type: String(built.closeCode),
        destroy_timemillis: "1700000001500",
        create_time_ms: "1700000000000"
      }
      // No room session sent reads as 0n: the builder's default is 1n, so that events of one session compare.
      assert.deepStrictEqual({ ...built, roomSessionId: 0n }, decoded(fields), reason)
    }
  })

  it("defaults: the event's own time as the timestamp, room session 1, a normal close", () => {
    const closed = CallbackEvents.streamClosed({ streamId: "s", streamSeq: 2, closedAt: 1_700_000_009_999 })
    assert.strictEqual(closed.timestamp, 1_700_000_009)
    assert.strictEqual(closed.roomSessionId, 1n)
    assert.strictEqual(closed.reason, "normal")
    assert.strictEqual(closed.closeCode, 0)
    assert.isUndefined(closed.createdAt)
  })
})
