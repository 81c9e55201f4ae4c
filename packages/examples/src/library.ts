import { RtmpDispatch } from "@effect-zego/core"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { Effect } from "effect"

const program = Effect.gen(function*() {
  const zego = yield* RtmpDispatch.RtmpDispatch
  const { nodes, requestId } = yield* zego.dispatch({ streamId: "match-42", type: "push" })
  yield* Effect.log(`OBS server ${nodes[0].obsServer}, stream key ${nodes[0].obsStreamKey} (${requestId})`)
}).pipe(
  Effect.catchTag("RateLimitedError", (e) => Effect.logWarning(`still rate limited after retries: ${e.requestId}`)),
  Effect.catchTag("NoPublishNodeError", (e) => Effect.logError(e.message))
)

Effect.runPromise(program.pipe(Effect.provide(NodeRtmpDispatch.layer))) // reads ZEGO_APP_ID, ZEGO_SERVER_SECRET, …
