import { DirectExchange, RtmpDispatch } from "@effect-zego/core"
import type { ZegoError } from "@effect-zego/core"
import { NodeRtmpDispatch, NodeZegoHttpClient } from "@effect-zego/node"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { exampleServer, SECRET_TEXT } from "./exampleServer.js"

/**
 * The behaviour suite runs against each client the service may be given: the node layers' own (which takes each
 * attempt whole), the same client through `transformClient` (then it is an ordinary `HttpClient` and the core keeps
 * the time limit and the body cap), and `@effect/platform-node`'s undici client.
 */
const clients: ReadonlyArray<{
  readonly name: string
  readonly layer: (
    options: RtmpDispatch.Options
  ) => Layer.Layer<RtmpDispatch.RtmpDispatch, ZegoError.InvalidRequestError>
}> = [
  { name: "NodeRtmpDispatch.layerOptions (NodeZegoHttpClient)", layer: NodeRtmpDispatch.layerOptions },
  {
    name: "NodeZegoHttpClient through transformClient",
    layer: (options) =>
      NodeRtmpDispatch.layerOptions({ ...options, transformClient: HttpClient.mapRequest((request) => request) })
  },
  {
    name: "NodeHttpClient.layerUndici",
    layer: (options) => RtmpDispatch.layer(options).pipe(Layer.provide(NodeHttpClient.layerUndici))
  }
]

/** A loopback server that answers every request with `handler`; `closed` counts the connections that closed. */
const serverWith = (handler: (req: Http.IncomingMessage, res: Http.ServerResponse) => void) =>
  Effect.acquireRelease(
    Effect.async<{ baseUrl: string; closed: () => number; server: Http.Server }>((resume) => {
      let closed = 0
      const server = Http.createServer(handler)
      server.on("connection", (socket) => socket.once("close", () => closed++))
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({
          baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          closed: () => closed,
          server
        })))
    }),
    ({ server }) => Effect.sync(() => server.closeAllConnections())
  )

/**
 * A loopback server that never answers; resolves `closed` when a connection goes away. It watches the connection,
 * not the request: on a busy machine the client may give up before the server has even parsed the request.
 */
const silentServer = Effect.acquireRelease(
  Effect.async<{ baseUrl: string; requested: Promise<void>; closed: Promise<void>; server: Http.Server }>((resume) => {
    let onRequest = () => {}
    let onClose = () => {}
    const requested = new Promise<void>((resolve) => (onRequest = resolve))
    const closed = new Promise<void>((resolve) => (onClose = resolve))
    const server = Http.createServer(() => onRequest())
    server.on("connection", (socket) => socket.once("close", onClose))
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requested,
        closed,
        server
      })))
  }),
  ({ server }) => Effect.sync(() => server.closeAllConnections())
)

const ENVELOPE = JSON.stringify({
  Code: 0,
  Message: "ok",
  RequestId: "5094436160208407316",
  Data: ["rtmp://81.69.49.115:1935/1540531164/caodantest"]
})

const dispatchOnce = Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "s", type: "push" }))

for (const client of clients) {
  describe(`over ${client.name}`, () => {
    const layerFor = (baseUrl: string, options: Partial<RtmpDispatch.Options> = {}) =>
      client.layer({
        appId: 1540531164,
        serverSecret: Redacted.make(SECRET_TEXT),
        baseUrl,
        retry: Schedule.stop,
        ...options
      })

    it.scoped(
      "gets the node from a real loopback server, reusing connections",
      () =>
        Effect.gen(function*() {
          const server = yield* exampleServer
          const results = yield* Effect.flatMap(
            RtmpDispatch.RtmpDispatch,
            (dispatch) => Effect.replicateEffect(dispatch.dispatch({ streamId: "caodantest", type: "pull" }), 10)
          ).pipe(Effect.provide(layerFor(server.baseUrl, { retry: undefined })))
          for (const result of results) {
            assert.strictEqual(result.requestId, "5094436160208407316")
            assert.strictEqual(result.nodes[0].url, "rtmp://81.69.49.115:1935/1540531164/caodantest")
            assert.strictEqual(result.nodes[0].obsServer, "rtmp://81.69.49.115:1935/1540531164/")
          }
          assert.strictEqual(server.urls.length, 10)
          assert.strictEqual(server.urls[0]?.searchParams.get("Action"), "RTMPDispatchV2")
          // Keep-alive: undici hands a connection back to its pool a moment after the body is read, so a call right
          // behind the previous one may open another (more often on a busy machine); without keep-alive there would be
          // ten.
          assert.isAtMost(server.connections(), 5, "keep-alive reuses connections")
        }),
      { timeout: 60_000 }
    )

    it.scoped("sends the same request: the path, the query in order, and Accept: application/json", () =>
      Effect.gen(function*() {
        const seen: Array<{ url: string; accept: string | undefined }> = []
        const server = yield* serverWith((req, res) => {
          seen.push({ url: req.url ?? "", accept: req.headers.accept })
          res.writeHead(200, { "content-type": "application/json" }).end(ENVELOPE)
        })
        yield* Effect.flatMap(
          RtmpDispatch.RtmpDispatch,
          (d) => d.dispatch({ streamId: "s-1", type: "publish", clientIp: "203.0.113.7", sequence: 42 })
        ).pipe(Effect.provide(layerFor(`${server.baseUrl}/base/`, { isTest: false })))
        const [request] = seen
        assert.strictEqual(request?.accept, "application/json")
        assert.match(
          request!.url,
          /^\/base\/\?Action=RTMPDispatchV2&StreamId=s-1&Sequence=42&Type=push&ClientIP=203\.0\.113\.7&IsTest=false&AppId=1540531164&SignatureNonce=[0-9a-f]{16}&Timestamp=\d+&SignatureVersion=2\.0&Signature=[0-9a-f]{32}$/
        )
      }))

    it.live("a connection refused on loopback is a TransportError after the retries", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(dispatchOnce)
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual((error as { reason?: string }).reason, "Connection")
        assert.include(error.message, "ECONNREFUSED", "the cause is named")
      }).pipe(
        Effect.provide(layerFor("http://127.0.0.1:1", {
          appId: 1,
          retry: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(2)))
        }))
      ))

    it.live("a silent server gives a TransportError Timeout after the limit, and the request is aborted", () =>
      Effect.gen(function*() {
        const server = yield* silentServer
        const started = Date.now()
        const error = yield* Effect.flip(dispatchOnce.pipe(
          Effect.provide(layerFor(server.baseUrl, { timeout: "300 millis" }))
        ))
        const elapsed = Date.now() - started
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual((error as { reason?: string }).reason, "Timeout")
        assert.isAtLeast(elapsed, 290)
        // Only "no limit at all" is caught: a machine ten times slower than a developer's must pass.
        assert.isBelow(elapsed, 20_000)
        yield* Effect.promise(() => server.closed)
      }).pipe(Effect.scoped))

    it.live("interrupting a dispatch mid-request aborts the request", () =>
      Effect.gen(function*() {
        const server = yield* silentServer
        const fiber = yield* Effect.fork(dispatchOnce.pipe(
          Effect.provide(layerFor(server.baseUrl, { timeout: "30 seconds" }))
        ))
        // Interrupted once the request is on the server, whatever the machine's speed.
        yield* Effect.promise(() => server.requested)
        yield* Fiber.interrupt(fiber)
        yield* Effect.promise(() => server.closed).pipe(
          Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => "not aborted" })
        )
      }).pipe(Effect.scoped))

    it.live("a body past maxResponseBytes is a ResponseDecodeError, with a content-length or without one", () =>
      Effect.gen(function*() {
        const big = JSON.stringify({ Code: 0, Message: "x".repeat(4096), RequestId: "1", Data: [] })
        const server = yield* serverWith((req, res) => {
          if (req.url?.includes("StreamId=chunked")) {
            res.writeHead(200, { "content-type": "application/json" })
            res.write(big.slice(0, 2000))
            setTimeout(() => res.end(big.slice(2000)), 20)
          } else {
            res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(big) })
            res.end(big)
          }
        })
        const layer = layerFor(server.baseUrl, { maxResponseBytes: 1024 })
        for (const streamId of ["sized", "chunked"]) {
          const error = yield* Effect.flip(
            Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId, type: "pull" })).pipe(
              Effect.provide(layer)
            )
          )
          assert.strictEqual(error._tag, "ResponseDecodeError", streamId)
          assert.include(error.message, "larger than 1024 bytes", streamId)
        }
      }).pipe(Effect.scoped))

    it.live("a connection cut in the middle of the body is a TransportError Connection", () =>
      Effect.gen(function*() {
        const server = yield* serverWith((_, res) => {
          res.writeHead(200, { "content-type": "application/json", "content-length": 500 })
          res.write(ENVELOPE.slice(0, 20))
          setTimeout(() => res.socket?.destroy(), 20)
        })
        const error = yield* Effect.flip(dispatchOnce.pipe(Effect.provide(layerFor(server.baseUrl))))
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual((error as { reason?: string }).reason, "Connection")
        assert.notInclude(error.message, "Signature=", "no signed URL in the error")
      }).pipe(Effect.scoped))

    it.live("an HTTP error status without an envelope is a TransportError HttpStatus", () =>
      Effect.gen(function*() {
        const server = yield* serverWith((_, res) => res.writeHead(503).end("<html>busy</html>"))
        const error = yield* Effect.flip(dispatchOnce.pipe(Effect.provide(layerFor(server.baseUrl))))
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual((error as { reason?: string }).reason, "HttpStatus")
        assert.strictEqual((error as { status?: number }).status, 503)
      }).pipe(Effect.scoped))
  })
}

describe("NodeRtmpDispatch", () => {
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
    }), { timeout: 60_000 })
})

describe("NodeZegoHttpClient", () => {
  it.scoped("carries the core's DirectExchange; any transformation gives a client without it", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      assert.isDefined(DirectExchange.get(client))
      assert.isUndefined(DirectExchange.get(HttpClient.mapRequest(client, (request) => request)))
      assert.isUndefined(DirectExchange.get(HttpClient.withTracerPropagation(client, false)))
    }).pipe(Effect.provide(NodeZegoHttpClient.layer)))

  it.scoped("is an ordinary HttpClient for everything else", () =>
    Effect.gen(function*() {
      const server = yield* serverWith((req, res) => res.writeHead(200).end(`you asked for ${req.url}`))
      const client = yield* HttpClient.HttpClient
      const text = yield* Effect.flatMap(client.get(`${server.baseUrl}/hello?x=1`), (response) => response.text)
      assert.strictEqual(text, "you asked for /hello?x=1")
    }).pipe(Effect.provide(NodeZegoHttpClient.layer)))

  it.live("ends an exchange once: a body past the cap stops the read and closes the connection", () =>
    Effect.gen(function*() {
      let wrote = 0
      const server = yield* serverWith((_, res) => {
        res.writeHead(200)
        const timer = setInterval(() => {
          if (!res.write("x".repeat(1024))) return
          wrote++
          if (wrote > 1000) {
            clearInterval(timer)
            res.end()
          }
        }, 1)
        res.on("close", () => clearInterval(timer))
      })
      const url = new URL(server.baseUrl)
      const exchange = DirectExchange.get(yield* HttpClient.HttpClient)!
      const results: Array<DirectExchange.Result> = []
      yield* Effect.async<void>((resume) => {
        exchange.get({ origin: url.origin, path: "/", timeoutMillis: 5000, maxBodyBytes: 4096 }, (result) => {
          results.push(result)
          resume(Effect.void)
        })
      })
      assert.deepStrictEqual(results, [{ _tag: "TooLarge", status: 200 }])
      // The close reaches the server a moment later: wait for it, with a deadline for a slow machine.
      yield* Effect.repeat(Effect.sync(() => server.closed()), {
        until: (closed) => closed >= 1,
        schedule: Schedule.spaced("20 millis").pipe(Schedule.upTo("60 seconds"))
      })
      assert.isAtLeast(server.closed(), 1, "the connection is closed")
      assert.isBelow(wrote, 1000, "the server was stopped long before it finished")
      assert.strictEqual(results.length, 1, "done is called once")
    }).pipe(Effect.scoped, Effect.provide(NodeZegoHttpClient.layer)))

  it.live("a cancelled exchange never calls done", () =>
    Effect.gen(function*() {
      const server = yield* silentServer
      const url = new URL(server.baseUrl)
      const exchange = DirectExchange.get(yield* HttpClient.HttpClient)!
      let called = 0
      const cancel = exchange.get(
        { origin: url.origin, path: "/", timeoutMillis: 50, maxBodyBytes: 4096 },
        () => called++
      )
      cancel()
      yield* Effect.sleep("200 millis")
      assert.strictEqual(called, 0)
    }).pipe(Effect.scoped, Effect.provide(NodeZegoHttpClient.layer)))
})
