import { type Actions, RoomStreams, RtmpDispatch, StreamControl, StreamRelay, StreamState } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { APP_ID, mockLayer, requests, SECRET, service } from "./utils.js"

/** A dispatch signed with `signer`'s AppId and secret against a mock that expects APP_ID and SECRET. */
const dispatchSignedBy = (signer: { appId: number; serverSecret: Redacted.Redacted<string> }) =>
  Effect.flatMap(RtmpDispatch.RtmpDispatch, (s) => s.dispatch({ streamId: "s", type: "push" })).pipe(
    Effect.provide(
      RtmpDispatch.layer({ ...signer, baseUrl: "http://127.0.0.1:1" }).pipe(
        Layer.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET }))
      )
    ),
    Effect.exit
  )

const defectOf = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isFailure(exit) && Cause.isDie(exit.cause) ? Cause.pretty(exit.cause) : `not a defect: ${String(exit)}`

describe("ZegoMock", () => {
  it.effect("a wrong signature fails loudly, naming what differs", () =>
    Effect.gen(function*() {
      const defect = defectOf(yield* dispatchSignedBy({ appId: APP_ID, serverSecret: Redacted.make("other-secret") }))
      assert.include(defect, "ZegoMock: Signature is")
      assert.include(defect, "SignatureNonce=")
      assert.include(defect, "Timestamp=")
      assert.notInclude(defect, Redacted.value(SECRET))
    }))

  it.effect("a wrong AppId fails loudly", () =>
    Effect.gen(function*() {
      const defect = defectOf(yield* dispatchSignedBy({ appId: 999, serverSecret: SECRET }))
      assert.include(defect, `AppId is "999", expected "${APP_ID}"`)
    }))

  it.effect("records every request with its parameters", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      yield* dispatch.dispatch({ streamId: "a", type: "push" })
      yield* dispatch.dispatchAddresses({ streamId: "b", type: "pull", clientIp: "198.51.100.1" })
      const sent = yield* requests
      assert.deepStrictEqual(sent.map((r) => [r.action, r.params.StreamId, r.params.Type, r.requestId]), [
        ["RTMPDispatchV2", "a", "push", "mock-1"],
        ["RTMPDispatch", "b", "pull", "mock-2"]
      ])
      assert.strictEqual(sent[1]?.params.ClientIP, "198.51.100.1")
    }).pipe(Effect.provide(mockLayer())))

  it.effect("answers from a handler, which may be an Effect", () =>
    Effect.gen(function*() {
      const result = yield* (yield* service).dispatch({ streamId: "h", type: "pull" })
      assert.strictEqual(result.nodes[0].url, "rtmp://10.1.1.1:1935/pull/h")
    }).pipe(Effect.provide(mockLayer({
      handler: (request) => Effect.succeed(ZegoMock.success([`rtmp://10.1.1.1:1935/pull/${request.params.StreamId}`]))
    }))))

  it.effect("a request past the end of the script is a defect", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      yield* dispatch.dispatch({ streamId: "s", type: "push" })
      const exit = yield* Effect.exit(dispatch.dispatch({ streamId: "s", type: "push" }))
      assert.include(defectOf(exit), "the script has no reply left for mock-2")
    }).pipe(Effect.provide(mockLayer({ script: [ZegoMock.success()] }))))

  it.effect("answers every action by default with its row's sampleData, which the action's service reads", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const dispatch = yield* RtmpDispatch.RtmpDispatch
      const state = yield* StreamState.StreamState
      const control = yield* StreamControl.StreamControl
      const rooms = yield* RoomStreams.RoomStreams
      const relay = yield* StreamRelay.StreamRelay
      const cdnUrl = "rtmp://127.0.0.1:1935/live/key"
      // One call per action: a new row of the table does not type-check here until it has one.
      const calls: Record<Actions.Name, Effect.Effect<unknown, unknown>> = {
        RTMPDispatchV2: Effect.map(dispatch.dispatch({ streamId: "s1", type: "push" }), (d) => d.nodes[0].url),
        RTMPDispatch: Effect.map(
          dispatch.dispatchAddresses({ streamId: "s1", type: "pull" }),
          (d) => `${d.addresses[0].host}:${d.addresses[0].port}`
        ),
        DescribeRTCStreamState: Effect.map(state.describe("s1"), (s) => [s.state, s.createdAt.getTime()]),
        ForbidRTCStream: control.forbid("s1"),
        ResumeRTCStream: control.resume("s1"),
        AddStream: rooms.announce({ roomId: "r1", streamId: "s1" }),
        DeleteStream: rooms.withdraw({ roomId: "r1", streamId: "s1" }),
        DescribeSimpleStreamList: Effect.map(rooms.list("r1"), (list) => list.streams),
        CreatCDNTransferRule: relay.start("s1", cdnUrl),
        DeleteCDNTransferRule: relay.stop("s1", cdnUrl),
        ClearCDNTransferRule: relay.clear("s1")
      }
      const answers: Record<string, unknown> = {}
      for (const [action, call] of Object.entries(calls)) answers[action] = yield* call
      assert.strictEqual(answers.RTMPDispatchV2, "rtmp://127.0.0.1:1935/live/s1")
      assert.strictEqual(answers.RTMPDispatch, "127.0.0.1:1935")
      assert.deepStrictEqual(answers.DescribeRTCStreamState, ["active", 1_700_000_000_000])
      assert.deepStrictEqual(answers.DescribeSimpleStreamList, [])
      assert.deepStrictEqual((yield* requests).map((r) => r.action), Object.keys(calls))
    }).pipe(Effect.provide(ZegoMock.layerServices({ appId: APP_ID, serverSecret: SECRET }))))
})
