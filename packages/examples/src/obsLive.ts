// An app that hands OBS its ingest settings and knows when each stream is live: the three endpoints of
// `Endpoints.router` on a Node HTTP server. Configure ZEGO_APP_ID, ZEGO_SERVER_SECRET, ZEGO_CALLBACK_SECRET and
// INGEST_TOKEN (and ZEGO_BASE_URL for the emulator), then enter http://<this host>:PORT/zego/callback as the
// project's callback URL in the ZEGOCLOUD console. Give several instances the same ZEGO_REDIS_URL, and they can
// stand behind one load balancer as one app.
import { CallbackReceiver, Endpoints, StreamTracker } from "@effect-zego/core"
import { NodeZego } from "@effect-zego/node"
import { RedisShared } from "@effect-zego/redis"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { createServer } from "node:http"

const Server = Layer.unwrapEffect(Effect.gen(function*() {
  const token = yield* Config.redacted("INGEST_TOKEN")
  const host = yield* Config.string("HOST").pipe(Config.withDefault("127.0.0.1"))
  const port = yield* Config.port("PORT").pipe(Config.withDefault(3000))
  const router = Endpoints.router({
    // Who may publish as what: here, the bearer of INGEST_TOKEN as the stream named by `?stream=`. Use your own
    // sessions; whoever gets an answer can publish as that stream.
    authorize: (request) =>
      Effect.sync(() =>
        request.headers.authorization === `Bearer ${Redacted.value(token)}`
          ? Option.fromNullable(new URL(request.url, "http://app").searchParams.get("stream"))
          : Option.none()
      )
  })
  return HttpServer.serve(router).pipe(
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(createServer, { host, port }))
  )
}))

// A log line for each stream that goes live or closes, whichever instance received the callback.
const LogChanges = Layer.scopedDiscard(Effect.gen(function*() {
  const changes = yield* Effect.flatMap(StreamTracker.StreamTracker, (tracker) => tracker.subscribe)
  yield* Effect.forkScoped(Stream.runForEach(changes, (change) => Effect.log(`${change.streamId} is ${change.state}`)))
}))

const App = Layer.merge(Server, LogChanges).pipe(
  Layer.provide(RedisShared.layerTrackerConfig()), // the tracker: repairs lost callbacks with StreamState
  Layer.provide(CallbackReceiver.layerConfig()), // ZEGO_CALLBACK_SECRET
  Layer.provide(NodeZego.layer), // ZEGO_APP_ID, ZEGO_SERVER_SECRET, …
  // ZEGO_REDIS_URL set: every instance shares the dispatch budget, the callback nonces and the tracker on that Redis;
  // not set: each keeps its own in memory.
  Layer.provide(RedisShared.layerConfig())
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

Layer.launch(App).pipe(
  Effect.tapError((error) => Console.error(describe(error))), // then exit code 1
  Effect.tapDefect((cause) => Effect.logError(cause)),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
