// The root README's emulator example, verbatim, so that the README stays true.
import { RtmpDispatch } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { assert, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"

const demo = Effect.gen(function*() {
  const emulator = yield* Emulator.make({ apps: [Emulator.demoApp] }) // a free port on 127.0.0.1
  const zego = NodeRtmpDispatch.layerOptions({ ...Emulator.demoApp, baseUrl: emulator.baseUrl })
  const { nodes } = yield* Effect.provide(
    Effect.flatMap(RtmpDispatch.RtmpDispatch, (dispatch) => dispatch.dispatch({ streamId: "s", type: "pull" })),
    zego
  )
  return nodes[0].url // rtmp://127.0.0.1:1935/live/s
}).pipe(Effect.scoped)

it.live("the README's emulator example dispatches against a local emulator", () =>
  Effect.gen(function*() {
    assert.strictEqual(yield* demo, "rtmp://127.0.0.1:1935/live/s")
  }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))))
