import { RtmpDispatch } from "@effect-zego/core"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { exampleServer, SECRET_TEXT } from "./exampleServer.js"

describe("NodeRtmpDispatch", () => {
  it.scoped(
    "gets the node from a real loopback server through undici, reusing connections",
    () =>
      Effect.gen(function*() {
        const server = yield* exampleServer
        const layer = NodeRtmpDispatch.layerOptions({
          appId: 1540531164,
          serverSecret: Redacted.make(SECRET_TEXT),
          baseUrl: server.baseUrl
        })
        const results = yield* Effect.flatMap(
          RtmpDispatch.RtmpDispatch,
          (dispatch) => Effect.replicateEffect(dispatch.dispatch({ streamId: "caodantest", type: "pull" }), 10)
        ).pipe(Effect.provide(layer))
        for (const result of results) {
          assert.strictEqual(result.requestId, "5094436160208407316")
          assert.strictEqual(result.nodes[0].url, "rtmp://81.69.49.115:1935/1540531164/caodantest")
          assert.strictEqual(result.nodes[0].obsServer, "rtmp://81.69.49.115:1935/1540531164/")
        }
        assert.strictEqual(server.urls.length, 10)
        assert.strictEqual(server.urls[0]?.searchParams.get("Action"), "RTMPDispatchV2")
        // Keep-alive: undici hands a connection back to its pool a moment after the body is read, so a call right
        // behind the previous one may open another connection (more often on a busy machine); without keep-alive
        // there would be ten.
        assert.isAtMost(server.connections(), 5, "keep-alive reuses connections")
      }),
    { timeout: 20_000 }
  )

  it.scoped("reads its configuration from the ZEGO_* environment", () =>
    Effect.gen(function*() {
      const server = yield* exampleServer
      const env = new Map([
        ["ZEGO_APP_ID", "1540531164"],
        ["ZEGO_SERVER_SECRET", SECRET_TEXT],
        ["ZEGO_BASE_URL", server.baseUrl]
      ])
      const result = yield* Effect.flatMap(
        RtmpDispatch.RtmpDispatch,
        (dispatch) => dispatch.dispatch({ streamId: "caodantest", type: "push" })
      ).pipe(
        Effect.provide(NodeRtmpDispatch.layer.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(env)))))
      )
      assert.strictEqual(result.nodes[0].streamName, "caodantest")
      assert.strictEqual(server.urls[0]?.searchParams.get("Type"), "push")
    }), { timeout: 20_000 })

  it.live("a connection refused on loopback is a TransportError after the retries", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.flatMap(
        RtmpDispatch.RtmpDispatch,
        (dispatch) => dispatch.dispatch({ streamId: "s", type: "push" })
      ))
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual((error as { reason?: string }).reason, "Connection")
      assert.include(error.message, "ECONNREFUSED", "the cause is named")
    }).pipe(
      Effect.provide(NodeRtmpDispatch.layerOptions({
        appId: 1,
        serverSecret: Redacted.make(SECRET_TEXT),
        baseUrl: "http://127.0.0.1:1",
        retry: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(2)))
      }))
    ))
})

describe("per-attempt timeout on the live clock", () => {
  /**
   * A loopback server that never answers; resolves `received` when a request arrives, `closed` when its connection
   * goes away.
   */
  const silentServer = Effect.acquireRelease(
    Effect.async<{ baseUrl: string; received: Promise<void>; closed: Promise<void>; server: Http.Server }>(
      (resume) => {
        let onRequest = () => {}
        let onClose = () => {}
        const received = new Promise<void>((resolve) => (onRequest = resolve))
        const closed = new Promise<void>((resolve) => (onClose = resolve))
        const server = Http.createServer((req) => {
          onRequest()
          req.socket.once("close", onClose)
        })
        server.listen(0, "127.0.0.1", () =>
          resume(Effect.succeed({
            baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            received,
            closed,
            server
          })))
      }
    ),
    ({ server }) => Effect.sync(() => server.closeAllConnections())
  )

  const layerFor = (baseUrl: string, timeout: Duration.DurationInput) =>
    NodeRtmpDispatch.layerOptions({
      appId: 1,
      serverSecret: Redacted.make(SECRET_TEXT),
      baseUrl,
      timeout,
      retry: Schedule.stop
    })

  it.live("a silent server gives a TransportError Timeout after the limit, and the request is aborted", () =>
    Effect.gen(function*() {
      const server = yield* silentServer
      const started = Date.now()
      const error = yield* Effect.flip(
        Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "s", type: "push" })).pipe(
          Effect.provide(layerFor(server.baseUrl, "300 millis"))
        )
      )
      const elapsed = Date.now() - started
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual((error as { reason?: string }).reason, "Timeout")
      assert.isAtLeast(elapsed, 290)
      // Only a guard against a limit that is not applied at all: a slow machine may take seconds past it.
      assert.isBelow(elapsed, 20_000)
      yield* Effect.promise(() => server.closed)
    }).pipe(Effect.scoped))

  it.live("interrupting a dispatch mid-request aborts the request", () =>
    Effect.gen(function*() {
      const server = yield* silentServer
      const fiber = yield* Effect.fork(
        Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "s", type: "push" })).pipe(
          Effect.provide(layerFor(server.baseUrl, "30 seconds"))
        )
      )
      // Interrupted once the request is in, however long it took to get there.
      yield* Effect.promise(() => server.received)
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => server.closed).pipe(
        Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => "not aborted" })
      )
    }).pipe(Effect.scoped))
})
