/**
 * What a callback leaves in memory once its request is over: the nonce store's entry, the tracker's entry, the event
 * an app keeps. Each must hold its own few strings, never the body they were read from (a cut string can keep its
 * whole source alive). Measured on a real Node HTTP server on loopback serving `Endpoints.router`, and on the
 * receiver itself, with bodies padded far past the size of what is kept, so that a body kept per callback stands out
 * of the heap's noise.
 */
import { Callback, CallbackReceiver, Endpoints, StreamTracker } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createServer } from "node:http"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { figures, held, save } from "./figures.js"

const SECRET = Redacted.make("callback-memory-secret")
/** Far more than anything kept per callback (a few hundred bytes): a body kept whole shows as this much. */
const PAD = 32 * 1024
const N = 400
/** A body kept per callback would show as at least PAD; what is kept shows as under a tenth of it, give or take. */
const BOUND = PAD / 4

afterAll(() => save("callback-memory"))

/** The garbage collector, exposed at run time (vitest does not start Node with --expose-gc). */
const collectGarbage = (): () => void => {
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
}
const gc = collectGarbage()
const heapUsed = Effect.sync(() => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
})

const stack = HttpServer.serve(Endpoints.router({ authorize: () => Effect.succeed(Option.none()) })).pipe(
  Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })),
  Layer.provideMerge(Layer.mergeAll(StreamTracker.layer(), CallbackReceiver.layer({ secret: SECRET }))),
  Layer.provideMerge(ZegoMock.layerServices({ appId: 424242, serverSecret: Redacted.make("server-secret") }))
)

const baseUrl = Effect.map(HttpServer.HttpServer, (server) => {
  const address = server.address as HttpServer.TcpAddress
  return `http://127.0.0.1:${address.port}`
})

type Format = "json" | "urlEncodedJson" | "form"
const FORMATS: ReadonlyArray<Format> = ["json", "urlEncodedJson", "form"]

let nonces = 0
/** A signed callback as `format`: a 17-character stream id, a 20-character nonce, and a long `pad` field. */
const signedBody = (event: string, i: number, format: Format) => {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = `memory-nonce-${String(++nonces).padStart(7, "0")}`
  const fields: Record<string, string> = {
    event,
    appid: "424242",
    timestamp,
    nonce,
    signature: Callback.signature(SECRET, timestamp, nonce),
    stream_id: `mem-${event.slice(0, 4)}-${String(i).padStart(8, "0")}`,
    room_session_id: "858012925204410400",
    stream_seq: "1",
    create_time_ms: String(Date.now()),
    pad: "p".repeat(PAD)
  }
  const json = JSON.stringify(fields)
  return format === "json" ? json : format === "urlEncodedJson" ?
    encodeURIComponent(json) :
    new URLSearchParams(fields).toString()
}

const post = (url: string, body: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/zego/callback`, { method: "POST", body })
    return { status: response.status, text: await response.text() }
  })

/** Heap kept per callback after `count` callbacks of `event`, each answered 200. */
const retainedPerCallback = (url: string, event: string, from: number, count: number) =>
  Effect.gen(function*() {
    const before = yield* heapUsed
    for (let i = from; i < from + count; i++) {
      const answer = yield* post(url, signedBody(event, i, FORMATS[i % 3]!))
      assert.strictEqual(answer.status, 200, answer.text)
    }
    figures.requests += count
    return ((yield* heapUsed) - before) / count
  })

describe("memory kept per callback", () => {
  it.live("a held nonce, a tracked stream and a kept event hold none of their body", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      // Warm up both paths: the server's, the client's and the tracker's own allocations, and compiled code.
      yield* retainedPerCallback(url, "room_create", 0, 150)
      yield* retainedPerCallback(url, "stream_create", 0, 150)
      // An event the tracker does not apply: only its nonce stays, for the freshness window.
      const perNonce = yield* retainedPerCallback(url, "room_create", 1000, N)
      // A stream event: its nonce, and the stream's entry in the tracker.
      const perStream = yield* retainedPerCallback(url, "stream_create", 2000, N)
      const tracker = yield* StreamTracker.StreamTracker
      assert.strictEqual((yield* tracker.peek(`mem-stre-${String(2000).padStart(8, "0")}`))?.state, "live")

      // The events an app keeps, straight from a receiver: every field it decodes, an unknown event's fields cut.
      const receiver = yield* Effect.orDie(CallbackReceiver.makeReceiver({ secret: SECRET }))
      const before = yield* heapUsed
      const kept: Array<Callback.Event> = []
      for (let i = 0; i < N; i++) {
        const event = i % 2 === 0 ? "stream_create" : "room_create"
        kept.push(yield* receiver.receive({ body: signedBody(event, 3000 + i, FORMATS[i % 3]!) }))
      }
      const perEvent = ((yield* heapUsed) - before) / N
      assert.strictEqual(kept.length, N)

      const figure = `per nonce ${Math.round(perNonce)} B, per stream ${Math.round(perStream)} B, per kept event ` +
        `${Math.round(perEvent)} B (bodies of ${PAD} B and more)`
      // Each holds a few hundred bytes (an unknown event keeps up to 1 KiB of its pad) plus the heap's noise.
      assert.isBelow(perNonce, BOUND, figure)
      assert.isBelow(perStream, BOUND, figure)
      assert.isBelow(perEvent, BOUND, figure)
      held("callback-body-not-retained")
    }).pipe(Effect.provide(stack)))
})
