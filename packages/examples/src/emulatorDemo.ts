import { RtmpDispatch } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { Effect, Logger, LogLevel } from "effect"

const demo = Effect.gen(function*() {
  const emulator = yield* Emulator.make({ apps: [Emulator.demoApp] }) // a free port on 127.0.0.1
  const zego = NodeRtmpDispatch.layerOptions({ ...Emulator.demoApp, baseUrl: emulator.baseUrl })
  const { nodes } = yield* Effect.provide(
    Effect.flatMap(RtmpDispatch.RtmpDispatch, (dispatch) => dispatch.dispatch({ streamId: "s", type: "pull" })),
    zego
  )
  return nodes[0].url
}).pipe(
  Effect.scoped,
  Logger.withMinimumLogLevel(LogLevel.Warning) // the emulator logs each request it answers at Info
)

Effect.runPromise(demo).then(console.log) // rtmp://127.0.0.1:1935/live/s
