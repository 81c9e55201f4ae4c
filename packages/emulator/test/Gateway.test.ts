/**
 * The gateway checks, in front of the action: public parameters, the app, the time, the signature, replays.
 */
import { Signature } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, layer } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { EmulatorQuiet, prodApp, rawCall, rawCode, signedParams, testApp, withClient } from "./utils.js"

/** A clock `offsetMillis` ahead of `clock`. */
const skewed = (clock: Clock.Clock, offsetMillis: number): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => clock.unsafeCurrentTimeMillis() + offsetMillis,
  unsafeCurrentTimeNanos: () => clock.unsafeCurrentTimeNanos() + BigInt(offsetMillis) * 1_000_000n,
  currentTimeMillis: Effect.sync(() => clock.unsafeCurrentTimeMillis() + offsetMillis),
  currentTimeNanos: Effect.sync(() => clock.unsafeCurrentTimeNanos() + BigInt(offsetMillis) * 1_000_000n),
  sleep: (duration) => clock.sleep(duration)
})

const MINUTE = 60_000

layer(EmulatorQuiet(), { excludeTestServices: true })("gateway", (it) => {
  describe("public parameters", () => {
    it.effect("AppId missing or malformed: 100000001", () =>
      Effect.gen(function*() {
        for (const AppId of [undefined, "", "12ab", "-1", "1.5", "4294967296", "99999999999"]) {
          assert.strictEqual(yield* rawCode(prodApp, { AppId }), 100000001, `AppId=${AppId}`)
        }
      }))

    it.effect("Timestamp missing: 100000002; malformed: 100000003", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* rawCode(prodApp, { Timestamp: undefined }), 100000002)
        for (const Timestamp of ["yesterday", "-5", "1.5e9", "17000000000000000"]) {
          assert.strictEqual(yield* rawCode(prodApp, { Timestamp }), 100000003, `Timestamp=${Timestamp}`)
        }
      }))

    it.effect("SignatureNonce missing: 100000008; Signature missing: 100000009", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* rawCode(prodApp, { SignatureNonce: undefined }), 100000008)
        assert.strictEqual(yield* rawCode(prodApp, { SignatureNonce: "" }), 100000008)
        assert.strictEqual(yield* rawCode(prodApp, { Signature: undefined }), 100000009)
      }))

    it.effect("SignatureVersion missing: 100000013; not 2.0: 100000014", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* rawCode(prodApp, { SignatureVersion: undefined }), 100000013)
        assert.strictEqual(yield* rawCode(prodApp, { SignatureVersion: "1.0" }), 100000014)
        assert.strictEqual(yield* rawCode(prodApp, { SignatureVersion: "2" }), 100000014)
      }))

    it.effect("Action missing: 100000006; not a dispatch action: 100000007", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* rawCode(prodApp, { Action: undefined }), 100000006)
        assert.strictEqual(yield* rawCode(prodApp, { Action: "DescribeRTMPDispatch" }), 100000007)
        assert.strictEqual(yield* rawCode(prodApp, { Action: "rtmpdispatchv2" }), 100000007)
        assert.strictEqual(yield* rawCode(prodApp, { Action: "RTMPDispatch" }), 0)
      }))
  })

  describe("the app and its signature", () => {
    it.effect("an unknown AppId: 100000010, a GatewayError through the client", () =>
      Effect.gen(function*() {
        const stranger = { appId: 424242, serverSecret: Redacted.make("00000000000000000000000000000000") }
        assert.strictEqual(yield* rawCode(stranger), 100000010)
        const error = yield* withClient(stranger, (dispatch) =>
          Effect.flip(dispatch.dispatch({ streamId: "s", type: "push" })))
        assert.strictEqual(error._tag, "GatewayError")
        assert.strictEqual("code" in error && error.code, 100000010)
      }))

    it.effect("a timestamp more than 10 minutes off: 100000004, with the server's time in Date", () =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        for (const offset of [-11 * MINUTE, 11 * MINUTE]) {
          const answer = yield* rawCall(
            yield* signedParams(prodApp, {}, { timestamp: Math.floor((now + offset) / 1000) })
          )
          assert.strictEqual(answer.body.Code, 100000004)
          const date = Date.parse(answer.headers.get("date") ?? "")
          assert.isTrue(Math.abs(date - now) < 5_000, "Date is the server's time")
        }
        for (const offset of [-9 * MINUTE, 9 * MINUTE]) {
          const answer = yield* rawCall(
            yield* signedParams(prodApp, {}, { timestamp: Math.floor((now + offset) / 1000) })
          )
          assert.strictEqual(answer.body.Code, 0, "within 10 minutes")
        }
      }))

    it.effect("the client corrects its clock from the Date of a 100000004 and succeeds", () =>
      Effect.gen(function*() {
        const { dispatched } = yield* Emulator.Emulator
        const before = (yield* dispatched).length
        const clock = yield* Effect.clock
        const result = yield* withClient(prodApp, (dispatch) => dispatch.dispatch({ streamId: "skewed", type: "pull" }))
          .pipe(
            Effect.withClock(skewed(clock, 11 * MINUTE))
          )
        assert.strictEqual(result.streamId, "skewed")
        assert.strictEqual((yield* dispatched).length, before + 1)
      }))

    it.effect("a wrong signature: 100000005, SignatureInvalidError through the client", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* rawCode(prodApp, { Signature: "0".repeat(32) }), 100000005)
        const params = yield* signedParams(prodApp)
        assert.strictEqual(
          yield* rawCode(prodApp, { ...params, Signature: params.Signature!.toUpperCase() }),
          100000005
        )
        // A signature of the right secret over another timestamp.
        assert.strictEqual(
          yield* rawCode(prodApp, { ...params, Timestamp: String(Number(params.Timestamp) - 1) }),
          100000005
        )
        const wrongSecret = { ...prodApp, serverSecret: Redacted.make("ffffffffffffffffffffffffffffffff") }
        const error = yield* withClient(
          wrongSecret,
          (dispatch) => Effect.flip(dispatch.dispatch({ streamId: "s", type: "push" }))
        )
        assert.strictEqual(error._tag, "SignatureInvalidError")
      }))

    it.effect("a nonce used again within the window is a replay: 100000005", () =>
      Effect.gen(function*() {
        const params = yield* signedParams(prodApp, { StreamId: "replayed" })
        const first = yield* rawCall(params)
        const second = yield* rawCall(params)
        assert.strictEqual(first.body.Code, 0)
        assert.strictEqual(second.body.Code, 100000005)
        assert.include(second.body.Message, "replay")
        // Re-signed with the same nonce and a new timestamp: still a replay.
        const later = Number(params.Timestamp) + 1
        const resigned = yield* signedParams(prodApp, {}, { nonce: params.SignatureNonce!, timestamp: later })
        assert.strictEqual((yield* rawCall(resigned)).body.Code, 100000005)
        // Nonces are per AppId.
        const other = yield* signedParams(testApp, {}, { nonce: params.SignatureNonce! })
        assert.strictEqual((yield* rawCall(other)).body.Code, 0)
      }))

    it.effect("the golden vector of the documentation signs as the emulator checks", () =>
      Effect.sync(() => {
        const sign = Signature.sign({
          appId: 12345,
          nonce: "4fd24687296dd9f3",
          serverSecret: Redacted.make("9193cc662a4c0ec135ec71fb57194b38"),
          timestamp: 1615186943
        })
        assert.strictEqual(sign, "43e5cfcca828314675f91b001390566a")
      }))
  })

  it.effect("every answer is an HTTP 200 envelope with a fresh RequestId and a Date", () =>
    Effect.gen(function*() {
      const answers = [
        yield* rawCall(yield* signedParams(prodApp)),
        yield* rawCall(yield* signedParams(prodApp, { AppId: undefined })),
        yield* rawCall(yield* signedParams(prodApp, { Type: "sideways" }))
      ]
      assert.deepStrictEqual(answers.map((answer) => answer.body.Code), [0, 100000001, 30010])
      for (const answer of answers) {
        assert.strictEqual(answer.status, 200)
        assert.match(answer.body.RequestId, /^\d{19}$/)
        assert.isString(answer.body.Message)
        assert.isFalse(Number.isNaN(Date.parse(answer.headers.get("date") ?? "")))
        assert.include(answer.headers.get("content-type") ?? "", "application/json")
      }
      assert.strictEqual(new Set(answers.map((answer) => answer.body.RequestId)).size, answers.length)
      assert.deepStrictEqual(answers[0]!.body.Data, ["rtmp://127.0.0.1:1935/live/stream"])
      assert.notProperty(answers[1]!.body, "Data")
    }))
})
