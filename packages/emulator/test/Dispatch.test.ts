/**
 * Successful dispatches: both actions, the pools spread round robin, what the emulator remembers and logs,
 * and the server's lifetime.
 */
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import { EmulatorQuiet, prodApp, rawCall, signedParams, testApp, withClient, withEmulator } from "./utils.js"

const pools = {
  push: [
    { host: "10.0.0.1", port: 1935, app: "live" },
    { host: "10.0.0.2", port: 1936, app: "edge/live" }
  ],
  pull: [{ host: "pull.example", port: 1940, app: "play" }]
}

layer(EmulatorQuiet({ apps: [prodApp, testApp], rateLimit: false, nodes: pools }), { excludeTestServices: true })(
  "dispatch",
  (it) => {
    it.effect("RTMPDispatchV2 answers RTMP URLs, spread round robin over the push pool", () =>
      Effect.gen(function*() {
        const urls = yield* withClient(prodApp, (dispatch) =>
          Effect.forEach(
            ["a", "b", "c", "d"],
            (streamId) => Effect.map(dispatch.dispatch({ streamId, type: "push" }), (r) => r.nodes.map((n) => n.url))
          ))
        assert.deepStrictEqual(urls, [
          ["rtmp://10.0.0.1:1935/live/a"],
          ["rtmp://10.0.0.2:1936/edge/live/b"],
          ["rtmp://10.0.0.1:1935/live/c"],
          ["rtmp://10.0.0.2:1936/edge/live/d"]
        ])
      }))

    it.effect("a pull comes from the pull pool, parsed for OBS and players", () =>
      Effect.gen(function*() {
        const result = yield* withClient(prodApp, (dispatch) => dispatch.dispatch({ streamId: "show", type: "pull" }))
        const node = result.nodes[0]
        assert.strictEqual(node.url, "rtmp://pull.example:1940/play/show")
        assert.strictEqual(node.obsServer, "rtmp://pull.example:1940/play/")
        assert.strictEqual(node.obsStreamKey, "show")
        assert.match(result.requestId, /^\d{19}$/)
      }))

    it.effect("RTMPDispatch answers host:port", () =>
      Effect.gen(function*() {
        const result = yield* withClient(prodApp, (dispatch) =>
          Effect.all([
            dispatch.dispatchAddresses({ streamId: "v1", type: "pull" }),
            dispatch.dispatchAddresses({ streamId: "v1", type: "push" })
          ]))
        assert.deepStrictEqual(result.map((r) => r.addresses.map((a) => a.address)), [
          ["pull.example:1940"],
          [result[1].addresses[0].host === "10.0.0.1" ? "10.0.0.1:1935" : "10.0.0.2:1936"]
        ])
        const raw = yield* rawCall(yield* signedParams(testApp, { Action: "RTMPDispatch", Type: "pull" }))
        assert.deepStrictEqual(raw.body.Data, ["pull.example:1940"])
      }))

    it.effect("it remembers what it dispatched", () =>
      Effect.gen(function*() {
        const { dispatched } = yield* Emulator.Emulator
        const before = Date.now()
        const result = yield* withClient(testApp, (dispatch) =>
          dispatch.dispatchAddresses({ streamId: "m", type: "pull" }))
        const record = (yield* dispatched).at(-1)!
        assert.deepInclude(record, {
          requestId: result.requestId,
          appId: testApp.appId,
          isTest: true,
          action: "RTMPDispatch",
          streamId: "zegotest-100002-m",
          type: "pull",
          clientIp: undefined,
          node: "pull.example:1940",
          host: "pull.example",
          port: 1940,
          app: "play"
        })
        assert.isTrue(record.time.epochMillis >= before - 1000 && record.time.epochMillis <= Date.now() + 1000)
      }))

    it.effect("it remembers every request with the code it answered, refused ones too", () =>
      Effect.gen(function*() {
        const { requests } = yield* Emulator.Emulator
        const before = Date.now()
        const ok = yield* withClient(testApp, (dispatch) => dispatch.dispatch({ streamId: "r1", type: "push" }))
        // A production app that says it is a test app: refused with 30004.
        const refused = yield* withClient(
          prodApp,
          (dispatch) => Effect.flip(dispatch.dispatch({ streamId: "r2", type: "push" })),
          { isTest: true }
        )
        const [first, second] = (yield* requests).slice(-2)
        assert.deepInclude(first, {
          requestId: ok.requestId,
          appId: String(testApp.appId),
          action: "RTMPDispatchV2",
          streamId: "zegotest-100002-r1",
          code: 0
        })
        assert.strictEqual(refused._tag, "InvalidIsTestError")
        assert.deepInclude(second, {
          appId: String(prodApp.appId),
          streamId: `zegotest-${prodApp.appId}-r2`,
          code: 30004
        })
        assert.isTrue(first!.receivedAt >= before - 1000 && first!.receivedAt <= second!.receivedAt)
      }))
  }
)

describe("the server", () => {
  it.live("listens on 127.0.0.1 at a free port, with the default pools", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      assert.isAbove(emulator.port, 0)
      assert.strictEqual(emulator.host, "127.0.0.1")
      assert.strictEqual(emulator.baseUrl, `http://127.0.0.1:${emulator.port}`)
      const result = yield* withClient(prodApp, (dispatch) => dispatch.dispatch({ streamId: "demo", type: "push" }))
      assert.strictEqual(result.nodes[0].url, "rtmp://127.0.0.1:1935/live/demo")
    }).pipe(withEmulator()))

  it.live("answers 404 off / and 405 for a method other than GET", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Emulator.Emulator
      const statuses = yield* Effect.promise(() =>
        Promise.all([
          fetch(`${baseUrl}/other`).then((r) => r.status),
          fetch(`${baseUrl}/?Action=RTMPDispatchV2`, { method: "POST" }).then((r) => r.status)
        ])
      )
      assert.deepStrictEqual(statuses, [404, 405])
    }).pipe(withEmulator()))

  it.live("stops when its scope closes", () =>
    Effect.gen(function*() {
      const baseUrl = yield* Effect.map(Emulator.Emulator, (e) => e.baseUrl).pipe(withEmulator())
      const refused = yield* Effect.promise(() => fetch(baseUrl).then(() => false, () => true))
      assert.isTrue(refused)
    }))

  it.live("the demo app works out of the box", () =>
    Effect.gen(function*() {
      const result = yield* withClient(Emulator.demoApp, (dispatch) =>
        dispatch.dispatch({ streamId: "demo", type: "push" }))
      assert.strictEqual(result.nodes[0].obsStreamKey, "demo")
      const test = yield* withClient(Emulator.demoTestApp, (dispatch) =>
        dispatch.dispatch({ streamId: "demo", type: "pull" }))
      assert.strictEqual(test.streamId, `zegotest-${Emulator.demoTestApp.appId}-demo`)
    }).pipe(withEmulator({ apps: [Emulator.demoApp, Emulator.demoTestApp] })))

  it.live("logs each request with its Signature redacted, and never the secret", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.map(Logger.logfmtLogger, (line) => {
          lines.push(line)
        })
      )
      const params = yield* signedParams(prodApp)
      yield* Effect.gen(function*() {
        yield* rawCall(params)
        yield* rawCall({ ...params, Signature: "feedface" })
        // The name percent-encoded: the server reads it as Signature, the log hides it all the same.
        const { baseUrl } = yield* Emulator.Emulator
        const query = new URLSearchParams({ ...params, Signature: "c0ffee" }).toString()
        yield* Effect.promise(() => fetch(`${baseUrl}/?${query.replace("&Signature=", "&%53ignature=")}`))
      }).pipe(Effect.provide(Emulator.layer({ apps: [prodApp] }).pipe(Layer.provide(capture))))
      assert.strictEqual(lines.length, 3)
      const secret = Redacted.value(prodApp.serverSecret)
      for (const line of lines) {
        assert.include(line, "Signature=<redacted>")
        assert.notInclude(line, params.Signature!)
        assert.notInclude(line, "feedface")
        assert.notInclude(line, "c0ffee")
        assert.notInclude(line, secret)
        assert.include(line, "RTMPDispatchV2")
      }
      assert.include(lines[0]!, "Code 0")
      assert.include(lines[1]!, "Code 100000005")
    }))
})
