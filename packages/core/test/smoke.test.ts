import { assert, describe, it } from "@effect/vitest"
import { RtmpDispatch } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

describe("smoke", () => {
  it.effect("dispatches", () =>
    Effect.gen(function*() {
      const service = yield* RtmpDispatch.RtmpDispatch
      const result = yield* service.dispatch({ streamId: "abc", type: "publish" })
      assert.strictEqual(result.nodes[0].streamName, "abc")
      assert.strictEqual(result.type, "push")
      const requests = yield* (yield* ZegoMock.ZegoMock).requests
      assert.strictEqual(requests.length, 1)
      console.log(requests[0], result)
    }).pipe(Effect.provide(ZegoMock.layerDispatch({ appId: 12345, serverSecret: Redacted.make("s3cret") }))))
})
