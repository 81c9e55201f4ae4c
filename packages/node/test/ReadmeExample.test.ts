// The README's library example, verbatim but for the last line, run against a loopback server.
import { RtmpDispatch } from "@effect-zego/core"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { assert, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger } from "effect"
import { exampleServer, SECRET_TEXT } from "./exampleServer.js"

const program = Effect.gen(function*() {
  const zego = yield* RtmpDispatch.RtmpDispatch
  const { nodes, requestId } = yield* zego.dispatch({ streamId: "match-42", type: "push" })
  yield* Effect.log(`OBS server ${nodes[0].obsServer}, stream key ${nodes[0].obsStreamKey} (${requestId})`)
}).pipe(
  Effect.catchTag("RateLimitedError", (e) => Effect.logWarning(`still rate limited after retries: ${e.requestId}`)),
  Effect.catchTag("NoPublishNodeError", (e) => Effect.logError(e.message))
)

it.scoped("the README example logs the OBS settings", () =>
  Effect.gen(function*() {
    const server = yield* exampleServer
    const lines: Array<unknown> = []
    const env = ConfigProvider.fromMap(
      new Map([["ZEGO_APP_ID", "1540531164"], ["ZEGO_SERVER_SECRET", SECRET_TEXT], ["ZEGO_BASE_URL", server.baseUrl]])
    )
    yield* program.pipe(
      Effect.provide(NodeRtmpDispatch.layer),
      Effect.provide(Layer.setConfigProvider(env)),
      Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(message))))
    )
    assert.deepStrictEqual(lines, [[
      "OBS server rtmp://81.69.49.115:1935/1540531164/, stream key caodantest (5094436160208407316)"
    ]])
  }))
