/**
 * The action's checks, behind the gateway: StreamId, Type, ClientIP, Sequence, IsTest and the app's
 * environment, the test prefix, empty pools.
 */
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { EmulatorQuiet, prodApp, rawCall, rawCode, signedParams, testApp, withClient } from "./utils.js"

const push = { streamId: "stream", type: "push" } as const

layer(EmulatorQuiet(), { excludeTestServices: true })("action", (it) => {
  describe("parameters", () => {
    it.effect("StreamId missing or invalid: 30009", () =>
      Effect.gen(function*() {
        for (const StreamId of [undefined, "", "has space", "dot.ted", "ü", "x".repeat(257)]) {
          assert.strictEqual(yield* rawCode(prodApp, { StreamId }), 30009, `StreamId=${StreamId}`)
        }
        assert.strictEqual(yield* rawCode(prodApp, { StreamId: "A-z_09".padEnd(256, "x") }), 0)
      }))

    it.effect("Type missing or not push/pull: 30010 (publish is the client's alias, not a wire value)", () =>
      Effect.gen(function*() {
        for (const Type of [undefined, "", "publish", "PUSH", "play"]) {
          assert.strictEqual(yield* rawCode(prodApp, { Type }), 30010, `Type=${Type}`)
        }
        const result = yield* withClient(
          prodApp,
          (dispatch) => dispatch.dispatch({ streamId: "alias", type: "publish" })
        )
        assert.strictEqual(result.type, "push")
      }))

    it.effect("ClientIP not IPv4: 30011; a valid one is recorded", () =>
      Effect.gen(function*() {
        for (const ClientIP of ["::1", "300.1.1.1", "1.2.3", "localhost"]) {
          assert.strictEqual(yield* rawCode(prodApp, { ClientIP }), 30011, `ClientIP=${ClientIP}`)
        }
        const result = yield* withClient(
          prodApp,
          (dispatch) => dispatch.dispatch({ streamId: "with-ip", type: "pull", clientIp: "203.0.113.7" })
        )
        const record = (yield* (yield* Emulator.Emulator).dispatched).find((r) => r.requestId === result.requestId)
        assert.strictEqual(record?.clientIp, "203.0.113.7")
      }))

    it.effect("Sequence missing or not an Int64: 1006, InvalidParameterError", () =>
      Effect.gen(function*() {
        for (const Sequence of [undefined, "", "-1", "1.5", "9223372036854775808"]) {
          assert.strictEqual(yield* rawCode(prodApp, { Sequence }), 1006, `Sequence=${Sequence}`)
        }
        assert.strictEqual(yield* rawCode(prodApp, { Sequence: "9223372036854775807" }), 0)
      }))

    it.effect("IsTest not true/false: 30004; its case does not matter", () =>
      Effect.gen(function*() {
        for (const IsTest of ["", "yes", "1", "maybe"]) {
          assert.strictEqual(yield* rawCode(prodApp, { IsTest }), 30004, `IsTest=${IsTest}`)
        }
        assert.strictEqual(yield* rawCode(prodApp, { IsTest: "FALSE" }), 0)
        assert.strictEqual(yield* rawCode(prodApp, { IsTest: "False" }), 0)
        assert.strictEqual(yield* rawCode(testApp, { IsTest: "TRUE" }), 0)
        assert.strictEqual(yield* rawCode(testApp, { IsTest: "tRuE" }), 0)
      }))
  })

  describe("a production app", () => {
    it.effect("answers with no IsTest or IsTest=false", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* rawCode(prodApp, { IsTest: undefined }), 0)
        const result = yield* withClient(prodApp, (dispatch) => dispatch.dispatch(push), { isTest: false })
        assert.strictEqual(result.streamId, "stream")
      }))

    it.effect("called with IsTest=true: 30004, InvalidIsTestError", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* rawCode(prodApp, { IsTest: "true" }), 30004)
        const error = yield* withClient(prodApp, (dispatch) => Effect.flip(dispatch.dispatch(push)), { isTest: true })
        assert.strictEqual(error._tag, "InvalidIsTestError")
      }))
  })

  describe("a test-environment app", () => {
    it.effect("answers with IsTest=true and the zegotest-<AppId>- prefix, which the client adds", () =>
      Effect.gen(function*() {
        const result = yield* withClient(testApp, (dispatch) => dispatch.dispatch({ streamId: "cam1", type: "push" }))
        assert.strictEqual(result.streamId, "zegotest-100002-cam1")
        assert.strictEqual(result.nodes[0].url, "rtmp://127.0.0.1:1935/live/zegotest-100002-cam1")
        const record = (yield* (yield* Emulator.Emulator).dispatched).find((r) => r.requestId === result.requestId)
        assert.strictEqual(record?.isTest, true)
        assert.strictEqual(record?.appId, testApp.appId)
      }))

    it.effect("a stream id without the prefix (or only the prefix): 30009", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* rawCode(testApp, { StreamId: "cam1" }), 30009)
        assert.strictEqual(yield* rawCode(testApp, { StreamId: "zegotest-100001-cam1" }), 30009)
        assert.strictEqual(yield* rawCode(testApp, { StreamId: "zegotest-100002-" }), 30009)
      }))

    it.effect("called as production (no IsTest, or false): 100000016, a GatewayError", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* rawCode(testApp, { IsTest: undefined }), 100000016)
        assert.strictEqual(yield* rawCode(testApp, { IsTest: "false" }), 100000016)
        const error = yield* withClient(testApp, (dispatch) => Effect.flip(dispatch.dispatch(push)), { isTest: false })
        assert.strictEqual(error._tag, "GatewayError")
        assert.strictEqual("code" in error && error.code, 100000016)
      }))
  })

  it.effect("the action's checks come after the gateway's", () =>
    Effect.gen(function*() {
      const answer = yield* rawCall(yield* signedParams(prodApp, { StreamId: "bad id", Signature: "0".repeat(32) }))
      assert.strictEqual(answer.body.Code, 100000005)
    }))
})

layer(
  EmulatorQuiet({ apps: [prodApp], rateLimit: false, nodes: { push: [], pull: [] } }),
  { excludeTestServices: true }
)("empty pools", (it) => {
  it.effect("no push node: 1002, NoPublishNodeError; no pull node: 1003, NoPullNodeError", () =>
    Effect.gen(function*() {
      const errors = yield* withClient(prodApp, (dispatch) =>
        Effect.all([
          Effect.flip(dispatch.dispatch({ streamId: "s", type: "push" })),
          Effect.flip(dispatch.dispatchAddresses({ streamId: "s", type: "pull" }))
        ]))
      assert.deepStrictEqual(errors.map((error) => [error._tag, "code" in error && error.code]), [
        ["NoPublishNodeError", 1002],
        ["NoPullNodeError", 1003]
      ])
    }))
})
