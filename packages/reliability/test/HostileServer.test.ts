/**
 * Hostile server: a loopback server that answers what no ZEGOCLOUD server should. The client answers each
 * with a typed error (or, where the answer is still a valid envelope, a success); nothing is thrown, nothing
 * hangs, and an oversized body is not read past the cap.
 */
import { RtmpDispatch } from "@effect-zego/core"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Http from "node:http"
import { makeCapture } from "./capture.js"
import { figures, observe, save } from "./figures.js"
import { query, serve } from "./loopbackServer.js"

const SECRET = Redacted.make("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
const capture = makeCapture()

afterAll(() => save("hostile-server"))

type Answer = (res: Http.ServerResponse) => void

const json = (body: unknown, headers: Record<string, string> = {}): Answer => (res) =>
  res.writeHead(200, { "content-type": "application/json", ...headers }).end(JSON.stringify(body))

const envelope = (data: unknown, extra: Record<string, unknown> = {}) => ({
  Code: 0,
  Message: "ok",
  RequestId: "hostile-1",
  Data: data,
  ...extra
})

/** A chunked body of `bytes` bytes, written as fast as the client reads: counts what it managed to write. */
const endless = (bytes: number, written: { bytes: number }): Answer => (res) => {
  res.writeHead(200, { "content-type": "application/json" })
  const chunk = Buffer.alloc(64 * 1024, "[")
  const write = () => {
    while (written.bytes < bytes) {
      written.bytes += chunk.length
      if (!res.write(chunk)) return void res.once("drain", write)
    }
    res.end()
  }
  res.on("close", () => res.destroy())
  write()
}

const cases: ReadonlyArray<{ name: string; answer: Answer; expect: string; written?: { bytes: number } }> = [
  {
    name: "a Code that is a string",
    answer: json({ Code: "0", Message: "ok", RequestId: "1" }),
    expect: "ResponseDecodeError"
  },
  {
    name: "a Code that is null",
    answer: json({ Code: null, Message: "ok", RequestId: "1" }),
    expect: "ResponseDecodeError"
  },
  { name: "a Code that is a fraction", answer: json({ Code: 0.5, Message: "ok" }), expect: "ResponseDecodeError" },
  { name: "a javascript: node", answer: json(envelope(["javascript:alert(1)"])), expect: "ResponseDecodeError" },
  { name: "an http: node", answer: json(envelope(["http://203.0.113.9/live/s"])), expect: "ResponseDecodeError" },
  { name: "a garbage node", answer: json(envelope(["\u0000\uffff garbage"])), expect: "ResponseDecodeError" },
  { name: "a node that is a number", answer: json(envelope([42])), expect: "ResponseDecodeError" },
  { name: "Data that is an object", answer: json(envelope({ url: "rtmp://a/b/c" })), expect: "ResponseDecodeError" },
  {
    name: "a huge Data array (over the body cap)",
    answer: json(envelope(Array.from({ length: 20_000 }, (_, i) => `rtmp://198.51.100.1:1935/live/s${i}`))),
    expect: "ResponseDecodeError"
  },
  {
    name: "a Data array of 2 000 valid nodes (under the cap): all kept",
    answer: json(envelope(Array.from({ length: 2000 }, (_, i) => `rtmp://198.51.100.1:1935/live/s${i}`))),
    expect: "ok"
  },
  {
    name: "an HTML page with status 200",
    answer: (res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>"),
    expect: "ResponseDecodeError"
  },
  {
    name: "a valid envelope with a wrong content type (read all the same)",
    answer: (res) =>
      res.writeHead(200, { "content-type": "text/plain" }).end(JSON.stringify(envelope(["rtmp://a/b/c"]))),
    expect: "ok"
  },
  { name: "an empty body", answer: (res) => res.writeHead(200).end(), expect: "ResponseDecodeError" },
  { name: "invalid JSON", answer: (res) => res.writeHead(200).end("{\"Code\":0,"), expect: "ResponseDecodeError" },
  {
    name: "a Content-Length far over the cap",
    answer: (res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(50 * 1024 * 1024) })
      res.write("{")
    },
    expect: "ResponseDecodeError"
  },
  {
    name: "HTTP 502 without an envelope",
    answer: (res) => res.writeHead(502).end("bad gateway"),
    expect: "TransportError"
  },
  { name: "a connection closed at once", answer: (res) => res.socket?.destroy(), expect: "TransportError" },
  {
    name: "a body cut in the middle",
    answer: (res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "500" })
      res.write("{\"Code\":0,\"Mess")
      setTimeout(() => res.socket?.destroy(), 20)
    },
    expect: "TransportError"
  }
]

/**
 * The per-attempt limit of the cases above: far beyond any loopback answer, so that what the client makes of an
 * answer (a decode error, a success, a transport error) never turns into a timeout on a slow machine. Only the
 * silent server, below, is meant to end in a timeout, with a limit of its own.
 */
const ANSWER_TIMEOUT: Duration.DurationInput = "60 seconds"
const SILENT_TIMEOUT: Duration.DurationInput = "1 second"

const oversized = { bytes: 0 }

describe("hostile server", () => {
  it.live(
    "every hostile answer gives a typed error or a success, without a throw or a hang",
    () =>
      Effect.gen(function*() {
        const all: ReadonlyArray<(typeof cases)[number] & { readonly timeout?: Duration.DurationInput }> = [
          ...cases,
          {
            name: "an endless chunked body (the client stops reading at the cap)",
            answer: endless(64 * 1024 * 1024, oversized),
            expect: "ResponseDecodeError"
          },
          { name: "no answer at all", answer: () => {}, expect: "TransportError (Timeout)", timeout: SILENT_TIMEOUT }
        ]
        const baseUrl = yield* serve((req, res) => {
          all[Number(query(req).get("StreamId")?.slice(5))]!.answer(res)
        })
        const client = (timeout: Duration.DurationInput) =>
          NodeRtmpDispatch.layerOptions({
            appId: 1,
            serverSecret: SECRET,
            baseUrl,
            timeout,
            retry: Schedule.stop,
            rateLimit: false
          })
        const outcomes = yield* Effect.forEach(all, (c, i) =>
          Effect.map(
            observe(
              Effect.flatMap(
                RtmpDispatch.RtmpDispatch,
                (dispatch) => dispatch.dispatch({ streamId: `case-${i}`, type: "pull" })
              ).pipe(
                Effect.provide(client(c.timeout ?? ANSWER_TIMEOUT))
              ),
              90_000
            ),
            (result) => {
              figures.faults++
              figures.requests++
              if (result._tag === "Failure") {
                capture.addError(result.error)
              }
              if (result._tag === "Success") return "ok"
              if (result._tag !== "Failure") return result._tag
              const reason = "reason" in result.error && result.error.reason === "Timeout" ? " (Timeout)" : ""
              return `${result.error._tag}${reason}`
            }
          ), { concurrency: 4 })
        assert.deepStrictEqual(
          all.map((c, i) => `${c.name}: ${outcomes[i]}`),
          all.map((c) => `${c.name}: ${c.expect}`)
        )
        // The default cap is 256 KiB: the server could write little more than that (plus socket buffers).
        assert.isBelow(oversized.bytes, 16 * 1024 * 1024, "the client stopped reading the endless body")
        for (const text of capture.texts) assert.notInclude(text, Redacted.value(SECRET))
      }).pipe(Effect.provide(capture.layer), Effect.scoped),
    { timeout: 120_000 }
  )
})
