// The README's "Testing your code with the mock layer" example, verbatim, so that the README stays true.
import { RtmpDispatch } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { assert, it } from "@effect/vitest"
import { Effect, Fiber, Redacted, TestClock } from "effect"

const layer = ZegoMock.layerDispatch({
  appId: 12345,
  serverSecret: Redacted.make("test-secret"),
  script: [ZegoMock.code(1010), ZegoMock.code(1010), ZegoMock.success()] // rate limited twice, then a node
})

it.effect("gets a node despite the rate limit", () =>
  Effect.gen(function*() {
    const zego = yield* RtmpDispatch.RtmpDispatch
    const fiber = yield* Effect.fork(zego.dispatch({ streamId: "s", type: "push" }))
    yield* TestClock.adjust("10 seconds") // the back-off runs on the TestClock
    const { nodes } = yield* Fiber.join(fiber)
    assert.strictEqual(nodes[0].url, "rtmp://127.0.0.1:1935/live/s")
    assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 3)
  }).pipe(Effect.provide(layer)))
