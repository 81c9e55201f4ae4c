/**
 * The servers of the HTTP surfaces' bench (`httpSection.ts`), one variant per process (`child_process.fork`), so
 * that each has a heap and an event loop of its own and the client (the bench's process) does not share them:
 *
 * - `ours`: `Endpoints.router` (callback, ingest, stream status) with `CallbackReceiver` (its in-memory nonce store),
 *   `StreamTracker` (in memory) and `NodeRtmpDispatch` to the canned ZEGOCLOUD server, served by `NodeHttpServer`.
 * - `floor`: handlers doing the same raw work (see below), mounted on the same `NodeHttpServer` and `HttpRouter`.
 * - `raw`: the floor's work on bare `node:http` (for information: what the platform itself costs).
 *
 * The raw work of each surface, the same for `floor` and `raw`:
 * - callback: read the body, `JSON.parse`, SHA-1 (`node:crypto`) of the sorted secret, timestamp and nonce compared
 *   with the signature, a `Map` insert for the nonce (a nonce seen before is answered as a replay) and one for the
 *   stream's state, answer 200 `{"ok":true}`;
 * - stream status: the id checked against the same pattern as `StreamId`, a `Map` read, the status as JSON (times as
 *   ISO 8601), 404 for an unknown stream;
 * - ingest: the dispatch as the bench's raw undici loop makes it (md5 signature with `node:crypto`, `undici.request`
 *   over a keep-alive `Agent`, the envelope parsed and checked by hand), answered as `Endpoints.Ingest`.
 *
 * Every variant knows the same streams at start (`bench-0` …), as live. The parent asks for `stats` (CPU time,
 * requests) over IPC; the server exits when the parent goes away.
 */
import { CallbackReceiver, Endpoints, StreamTracker } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { NodeRtmpDispatch } from "@effect-zego/node"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { Agent, request } from "undici"
import type { HttpParentMessage, HttpServerMessage, Variant } from "./httpShared.js"
import { APP_ID, INGEST_STREAM, streamIdOf, STREAMS } from "./httpShared.js"

const variant = (process.argv[2] ?? "floor") as Variant
const dispatchUrl = process.argv[3] ?? "http://127.0.0.1:1"
const callbackSecret = process.env.BENCH_CALLBACK_SECRET ?? ""
const serverSecret = process.env.BENCH_SERVER_SECRET ?? ""
let requests = 0

// --- the raw work, shared by `floor` and `raw` ---------------------------------------------------------------

interface FloorStatus {
  readonly state: "live" | "closed"
  readonly streamId: string
  readonly since: Date
  readonly seq: string
  readonly checkedAt: Date
}

const nonces = new Map<string, number>()
const states = new Map<string, FloorStatus>()
for (let n = 0; n < STREAMS; n++) {
  const streamId = streamIdOf(n)
  states.set(streamId, { state: "live", streamId, since: new Date(), seq: "0", checkedAt: new Date() })
}

const OK = JSON.stringify({ ok: true })
const REPLAY = JSON.stringify({ ok: true, replay: true })

const sha1Matches = (given: unknown, timestamp: string, nonce: string): boolean => {
  if (typeof given !== "string") return false
  const expected = createHash("sha1").update([callbackSecret, timestamp, nonce].sort().join("")).digest("hex")
  if (given.length !== expected.length) return false
  let diff = 0
  for (let i = 0; i < given.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i)
  return diff === 0
}

/** The floor's callback: status and body of the answer. */
const rawCallback = (text: string): readonly [number, string] => {
  let fields: Record<string, unknown>
  try {
    fields = JSON.parse(text)
  } catch {
    return [400, "{\"error\":\"not JSON\"}"]
  }
  const timestamp = String(fields.timestamp)
  const nonce = String(fields.nonce)
  if (!sha1Matches(fields.signature, timestamp, nonce)) return [401, "{\"error\":\"signature\"}"]
  if (nonces.has(nonce)) return [200, REPLAY]
  nonces.set(nonce, Number(timestamp))
  const streamId = String(fields.stream_id)
  states.set(streamId, {
    state: fields.event === "stream_create" ? "live" : "closed",
    streamId,
    since: new Date(Number(fields.create_time_ms ?? fields.destroy_timemillis)),
    seq: String(fields.stream_seq),
    checkedAt: new Date()
  })
  return [200, OK]
}

const STREAM_ID = /^[A-Za-z0-9_-]{1,256}$/

/** The floor's stream status. */
const rawStatus = (streamId: string): readonly [number, string] => {
  if (!STREAM_ID.test(streamId)) return [400, "{\"error\":\"InvalidRequestError\"}"]
  const status = states.get(streamId)
  if (status === undefined) return [404, JSON.stringify({ streamId, state: "unknown" })]
  return [
    200,
    JSON.stringify({ ...status, since: status.since.toISOString(), checkedAt: status.checkedAt.toISOString() })
  ]
}

const agent = new Agent()

/** The floor's ingest: the dispatch as the raw undici loop makes it, answered as `Endpoints.Ingest`. */
const rawIngest = async (): Promise<readonly [number, string]> => {
  const nonce = randomBytes(8).toString("hex")
  const timestamp = Math.floor(Date.now() / 1000)
  const signature = createHash("md5").update(`${APP_ID}${nonce}${serverSecret}${timestamp}`).digest("hex")
  const response = await request(
    `${dispatchUrl}/?Action=RTMPDispatchV2&StreamId=${INGEST_STREAM}&Sequence=${Date.now()}&Type=push` +
      `&AppId=${APP_ID}&SignatureNonce=${nonce}&Timestamp=${timestamp}&SignatureVersion=2.0&Signature=${signature}`,
    { dispatcher: agent }
  )
  const envelope = JSON.parse(await response.body.text()) as { Code?: unknown; Data?: unknown }
  const url = Array.isArray(envelope.Data) ? envelope.Data[0] : undefined
  if (response.statusCode !== 200 || envelope.Code !== 0 || typeof url !== "string") {
    return [502, "{\"error\":\"dispatch\"}"]
  }
  const cut = url.lastIndexOf("/")
  return [
    200,
    JSON.stringify({
      server: url.slice(0, cut),
      streamKey: url.slice(cut + 1),
      url,
      useBy: new Date(Date.now() + Endpoints.INGEST_VALIDITY_MILLIS).toISOString()
    })
  ]
}

// --- the three variants ----------------------------------------------------------------------------------------

const json = ([status, body]: readonly [number, string]) =>
  HttpServerResponse.text(body, { status, contentType: "application/json" })

const floorRouter = HttpRouter.empty.pipe(
  HttpRouter.post(
    Endpoints.defaultPaths.callback,
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => Effect.map(request.text, rawCallback)).pipe(
      Effect.map(json),
      Effect.orElseSucceed(() => HttpServerResponse.text("{}", { status: 400 }))
    )
  ),
  HttpRouter.post(Endpoints.defaultPaths.ingest, Effect.map(Effect.promise(rawIngest), json)),
  HttpRouter.get(
    Endpoints.defaultPaths.streams,
    Effect.map(HttpRouter.params, (params) => json(rawStatus(params.streamId ?? "")))
  )
)

const oursLayer = () => {
  // Statuses stay fresh for the whole run: a re-check is a `DescribeRTCStreamState` call (a round trip to
  // ZEGOCLOUD, here to a mock), whose cost is the engine's, not the read path's measured here.
  const tracker = StreamTracker.layer({ maxAge: "1 hour" }).pipe(
    Layer.provide(ZegoMock.layerServices({ appId: APP_ID, serverSecret: Redacted.make("unused") }))
  )
  const services = Layer.mergeAll(
    tracker,
    CallbackReceiver.layer({ secret: Redacted.make(callbackSecret) }),
    // No rate limit: the bench measures the endpoint's cost, not ZEGOCLOUD's quota of 40 a second.
    NodeRtmpDispatch.layerOptions({
      appId: APP_ID,
      serverSecret: Redacted.make(serverSecret),
      baseUrl: dispatchUrl,
      rateLimit: false
    })
  )
  const router = Endpoints.router({ authorize: () => Effect.succeed(Option.some(INGEST_STREAM)) })
  return HttpServer.serve(router).pipe(
    Layer.provideMerge(NodeHttpServer.layer(server, { host: "127.0.0.1", port: 0, backlog: 4096 })),
    Layer.provideMerge(services)
  )
}

const floorLayer = () =>
  HttpServer.serve(floorRouter).pipe(
    Layer.provideMerge(NodeHttpServer.layer(server, { host: "127.0.0.1", port: 0, backlog: 4096 }))
  )

const send = (message: HttpServerMessage): void => {
  process.send?.(message)
}

/** Every variant's `node:http` server counts its requests the same way. */
const server = () => {
  const http = Http.createServer()
  http.on("request", () => requests++)
  http.keepAliveTimeout = 65_000
  http.headersTimeout = 66_000
  return http
}

const rawServer = () => {
  const http = server()
  const answer = (res: Http.ServerResponse, [status, body]: readonly [number, string]) => {
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
    res.end(body)
  }
  http.on("request", (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const url = req.url ?? ""
    if (req.method === "GET" && url.startsWith("/streams/")) return answer(res, rawStatus(url.slice(9)))
    if (req.method === "POST" && url === Endpoints.defaultPaths.ingest) {
      req.resume()
      rawIngest().then((result) => answer(res, result), () => answer(res, [502, "{}"]))
      return
    }
    if (req.method === "POST" && url === Endpoints.defaultPaths.callback) {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => answer(res, rawCallback(Buffer.concat(chunks).toString("utf8"))))
      return
    }
    answer(res, [404, "{}"])
  })
  http.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
    send({ type: "listening", port: (http.address() as AddressInfo).port })
  })
}

/** Our endpoints' tracker knows the same streams as the floor's `Map`, as live. */
const seed = Effect.flatMap(StreamTracker.StreamTracker, (tracker) =>
  Effect.forEach(
    Array.from({ length: STREAMS }, (_, n) => streamIdOf(n)),
    (streamId) => tracker.observe(streamId, { state: "active", requestId: "seed", streamId, createdAt: new Date() }),
    { discard: true }
  ))

const quiet = Logger.minimumLogLevel(LogLevel.Warning)

const start = async () => {
  if (variant === "raw") return rawServer()
  let listening: HttpServer.HttpServer
  if (variant === "ours") {
    const runtime = ManagedRuntime.make(oursLayer().pipe(Layer.provide(quiet)))
    await runtime.runPromise(seed)
    listening = await runtime.runPromise(HttpServer.HttpServer)
  } else {
    listening = await ManagedRuntime.make(floorLayer().pipe(Layer.provide(quiet))).runPromise(HttpServer.HttpServer)
  }
  send({ type: "listening", port: (listening.address as HttpServer.TcpAddress).port })
}

process.on("message", (message: HttpParentMessage) => {
  const cpu = process.cpuUsage()
  send({ type: "stats", id: message.id, cpuMicros: cpu.user + cpu.system, requests })
})
process.on("disconnect", () => process.exit(0))

start().catch((error) => {
  console.error(error)
  process.exit(1)
})
