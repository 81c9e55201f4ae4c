// The README's "After the dispatch" examples, over the mock, so that the README stays true.
import { RoomStreams, StreamControl, StreamRelay, StreamState } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { assert, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"

const layer = ZegoMock.layerServices({ appId: 12345, serverSecret: Redacted.make("test-secret") })

it.effect("the README's three services", () =>
  Effect.gen(function*() {
    const state = yield* (yield* StreamState.StreamState).describe("match-42")
    assert.strictEqual(state.state, "active")

    const control = yield* StreamControl.StreamControl
    yield* control.forbid("match-42") // { requestId, streamId }
    yield* control.resume("match-42")

    const rooms = yield* RoomStreams.RoomStreams
    yield* rooms.announce({ roomId: "match-room", streamId: "match-42", title: "Final", extraInfo: "{\"seat\":1}" })
    yield* rooms.withdraw({ roomId: "match-room", streamId: "match-42" })

    const relay = yield* StreamRelay.StreamRelay
    yield* relay.start("match-42", "rtmp://a.rtmp.youtube.com/live2/xxxx-xxxx-xxxx") // { requestId, streamId, cdnUrl }
    yield* relay.stop("match-42", "rtmp://a.rtmp.youtube.com/live2/xxxx-xxxx-xxxx")
    yield* relay.clear("match-42") // { requestId, streamId }

    const sent = yield* (yield* ZegoMock.ZegoMock).requests
    assert.deepStrictEqual(sent.map((request) => request.action), [
      "DescribeRTCStreamState",
      "ForbidRTCStream",
      "ResumeRTCStream",
      "AddStream",
      "DeleteStream",
      "CreatCDNTransferRule",
      "DeleteCDNTransferRule",
      "ClearCDNTransferRule"
    ])
  }).pipe(Effect.provide(layer)))
