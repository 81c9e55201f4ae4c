import { RoomStreams, RtmpDispatch, StreamControl } from "@effect-zego/core"
import { NodeZego } from "@effect-zego/node"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { exampleServer, SECRET_TEXT } from "./exampleServer.js"

describe("NodeZego", () => {
  it.scoped("provides the four services over one client: its keep-alive connections serve every action", () =>
    Effect.gen(function*() {
      const server = yield* exampleServer
      const program = Effect.gen(function*() {
        yield* (yield* RtmpDispatch.RtmpDispatch).dispatch({ streamId: "s", type: "push" })
        yield* (yield* StreamControl.StreamControl).forbid("s")
        yield* (yield* StreamControl.StreamControl).resume("s")
        yield* (yield* RoomStreams.RoomStreams).announce({ roomId: "room-1", streamId: "s" })
      })
      yield* Effect.provide(
        Effect.repeatN(program, 2),
        NodeZego.layerOptions({ appId: 12345, serverSecret: Redacted.make(SECRET_TEXT), baseUrl: server.baseUrl })
      )
      assert.deepStrictEqual(server.urls.slice(0, 4).map((url) => url.searchParams.get("Action")), [
        "RTMPDispatchV2",
        "ForbidRTCStream",
        "ResumeRTCStream",
        "AddStream"
      ])
      assert.lengthOf(server.urls, 12)
      assert.strictEqual(server.urls[3]?.searchParams.get("UserId"), "Server-Administrator")
      // One agent: a client per service would open at least four connections. Undici hands a connection back to its
      // pool a moment after the body is read, so a call right behind the previous one may open a second.
      assert.isAtMost(server.connections(), 3)
    }))

  it.scoped("reads its configuration from the ZEGO_* environment", () =>
    Effect.gen(function*() {
      const server = yield* exampleServer
      const env = ConfigProvider.fromMap(
        new Map([["ZEGO_APP_ID", "12345"], ["ZEGO_SERVER_SECRET", SECRET_TEXT], ["ZEGO_BASE_URL", server.baseUrl]])
      )
      const result = yield* Effect.provide(
        Effect.flatMap(StreamControl.StreamControl, (control) => control.forbid("s")),
        NodeZego.layer.pipe(Layer.provide(Layer.setConfigProvider(env)))
      )
      assert.strictEqual(result.streamId, "s")
    }))
})
