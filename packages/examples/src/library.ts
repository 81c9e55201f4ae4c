import { RtmpDispatch } from "@effect-zego/core"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { NodeRuntime } from "@effect/platform-node"
import { ConfigError, Console, Effect } from "effect"

const program = Effect.gen(function*() {
  const zego = yield* RtmpDispatch.RtmpDispatch
  const { nodes, requestId } = yield* zego.dispatch({ streamId: "match-42", type: "push" })
  yield* Effect.log(`OBS server ${nodes[0].obsServer}, stream key ${nodes[0].obsStreamKey} (${requestId})`)
}).pipe(
  Effect.catchTag("RateLimitedError", (e) => Effect.logWarning(`still rate limited after retries: ${e.requestId}`)),
  Effect.catchTag("NoPublishNodeError", (e) => Effect.logError(e.message))
)

// A failure in one line: the error's message, or the variables that are not set (a secret's value is never shown).
const describe = (error: ConfigError.ConfigError | { readonly message: string; readonly cause?: unknown }): string => {
  if (!ConfigError.isConfigError(error)) return error.message || String(error.cause) // (a port in use has only a cause)
  switch (error._op) {
    case "And":
    case "Or":
      return `${describe(error.left)}; ${describe(error.right)}`
    case "MissingData":
      return `${error.path.join("_")} is not set`
    default:
      return `${error.path.join("_")}: ${error.message}`
  }
}

program.pipe(
  Effect.provide(NodeRtmpDispatch.layer), // reads ZEGO_APP_ID, ZEGO_SERVER_SECRET, …
  Effect.tapError((error) => Console.error(describe(error))), // then exit code 1
  Effect.tapDefect((cause) => Effect.logError(cause)),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
