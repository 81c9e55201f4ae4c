/**
 * Fault injection, seen through the node client: each fault maps to the core's typed error, and each rule
 * condition (next N, probability, stream-id pattern, AppId, action) picks the calls it should.
 */
import { Emulator, Fault } from "@effect-zego/emulator"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import { EmulatorQuiet, prodApp, testApp, withClient, withEmulator } from "./utils.js"

/** Adds `rule` for the test, removes every rule afterwards. */
const withFault = (rule: Fault.FaultRule) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.flatMap(Emulator.Emulator, (emulator) => Effect.as(emulator.addFault(rule), emulator)),
    () => self,
    (emulator) => emulator.clearFaults
  )

const push = (streamId = "stream") => ({ streamId, type: "push" as const })

/** The tag (and code, if any) each call of `streamIds` ends with. */
const outcomes = (streamIds: ReadonlyArray<string>, app: Emulator.AppConfig = prodApp) =>
  withClient(app, (dispatch) =>
    Effect.forEach(streamIds, (streamId) =>
      dispatch.dispatch(push(streamId)).pipe(
        Effect.match({
          onFailure: (error) => "code" in error ? `${error._tag} ${error.code}` : error._tag,
          onSuccess: () => "ok"
        })
      )))

layer(EmulatorQuiet(), { excludeTestServices: true })("faults", (it) => {
  describe("each fault, as the client sees it", () => {
    it.effect("a code: the core's error for it (1001: DispatchFailedError)", () =>
      Effect.gen(function*() {
        const error = yield* withClient(prodApp, (dispatch) => Effect.flip(dispatch.dispatch(push())))
        assert.strictEqual(error._tag, "DispatchFailedError")
        assert.strictEqual("code" in error && error.code, 1001)
        assert.strictEqual("serverMessage" in error && error.serverMessage, "dispatch failed")
      }).pipe(withFault({ fault: Fault.code(1001), next: 1 })))

    it.effect("a code with a message of its own, and an unknown code kept as it is", () =>
      Effect.gen(function*() {
        const errors = yield* withClient(prodApp, (dispatch) =>
          Effect.all([Effect.flip(dispatch.dispatch(push("a"))), Effect.flip(dispatch.dispatch(push("b")))]))
        assert.deepStrictEqual(errors.map((e) => [e._tag, "serverMessage" in e && e.serverMessage]), [
          ["RateLimitedError", "slow down"],
          ["RateLimitedError", "slow down"]
        ])
      }).pipe(withFault({ fault: Fault.code(5007, "slow down"), next: 2 })))

    it.effect("code 0 with no Data: the core's no-node error", () =>
      Effect.gen(function*() {
        const error = yield* withClient(prodApp, (dispatch) => Effect.flip(dispatch.dispatch(push())))
        assert.strictEqual(error._tag, "NoPublishNodeError")
      }).pipe(withFault({ fault: Fault.code(0), next: 1 })))

    it.effect("a delay beyond the client's time limit: TransportError Timeout", () =>
      Effect.gen(function*() {
        const error = yield* withClient(
          prodApp,
          (dispatch) => Effect.flip(dispatch.dispatch(push())),
          { timeout: "200 millis" }
        )
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual("reason" in error && error.reason, "Timeout")
      }).pipe(withFault({ fault: Fault.delay("1 second"), next: 1 })))

    it.effect("a delay within the client's time limit: the normal answer, late", () =>
      Effect.gen(function*() {
        const started = Date.now()
        const result = yield* withClient(prodApp, (dispatch) => dispatch.dispatch(push("late")))
        assert.strictEqual(result.streamId, "late")
        assert.isAtLeast(Date.now() - started, 50)
      }).pipe(withFault({ fault: Fault.delay("60 millis"), next: 1 })))

    it.effect("an HTTP 5xx without an envelope: TransportError HttpStatus, retryable", () =>
      Effect.gen(function*() {
        const error = yield* withClient(prodApp, (dispatch) => Effect.flip(dispatch.dispatch(push())))
        assert.strictEqual(error._tag, "TransportError")
        assert.deepInclude(error, { reason: "HttpStatus", status: 503, retryable: true })
      }).pipe(withFault({ fault: Fault.httpStatus(503), next: 1 })))

    it.effect("a malformed body: ResponseDecodeError", () =>
      Effect.gen(function*() {
        const errors = yield* withClient(prodApp, (dispatch) =>
          Effect.all([Effect.flip(dispatch.dispatch(push())), Effect.flip(dispatch.dispatch(push()))]))
        assert.deepStrictEqual(
          errors.map((e) =>
            e._tag
          ),
          ["ResponseDecodeError", "ResponseDecodeError"]
        )
      }).pipe(
        withFault({ fault: Fault.malformed(), next: 1 }),
        withFault({ fault: Fault.malformed("<html>hello</html>"), next: 1 })
      ))

    it.effect("a connection reset: TransportError Connection", () =>
      Effect.gen(function*() {
        const error = yield* withClient(prodApp, (dispatch) => Effect.flip(dispatch.dispatch(push())))
        assert.strictEqual(error._tag, "TransportError")
        assert.deepInclude(error, { reason: "Connection", retryable: true })
      }).pipe(withFault({ fault: Fault.reset, next: 1 })))

    it.effect("a retryable fault, then the normal answer: the client's retry gets through", () =>
      Effect.gen(function*() {
        const { dispatched } = yield* Emulator.Emulator
        const result = yield* withClient(
          prodApp,
          (dispatch) => dispatch.dispatch(push("retried"), { retry: Schedule.recurs(3) })
        )
        assert.strictEqual(result.streamId, "retried")
        assert.strictEqual((yield* dispatched).filter((r) => r.streamId === "retried").length, 1)
      }).pipe(
        withFault({ fault: Fault.reset, next: 1 }),
        withFault({ fault: Fault.httpStatus(502), next: 1 }),
        withFault({ fault: Fault.code(30003), next: 1 })
      ))
  })

  describe("when a rule fires", () => {
    it.effect("next: N calls, then the rule is spent", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* outcomes(["a", "b", "c", "d"]), [
          "DispatchFailedError 1001",
          "DispatchFailedError 1001",
          "ok",
          "ok"
        ])
      }).pipe(withFault({ fault: Fault.code(1001), next: 2 })))

    it.effect("probability: 1 always, 0 never", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* outcomes(["a", "b", "c"]), ["ok", "ok", "ok"])
      }).pipe(
        withFault({ fault: Fault.code(1001), probability: 0 }),
        Effect.zipRight(
          Effect.gen(function*() {
            assert.deepStrictEqual(yield* outcomes(["a", "b", "c"]), Array(3).fill("DispatchFailedError 1001"))
          }).pipe(withFault({ fault: Fault.code(1001), probability: 1 }))
        )
      ))

    it.effect("probability: about that share of the calls", () =>
      Effect.gen(function*() {
        const results = yield* outcomes(Array.from({ length: 60 }, (_, i) => `p${i}`))
        const failed = results.filter((r) => r !== "ok").length
        assert.isTrue(failed > 5 && failed < 55, `${failed} of 60 failed`)
      }).pipe(withFault({ fault: Fault.code(1001), probability: 0.5 })))

    it.effect("streamId: only the streams that match the pattern", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* outcomes(["fault-1", "ok-1", "fault-2", "x-fault-3"]), [
          "NoPublishNodeError 1002",
          "ok",
          "NoPublishNodeError 1002",
          "ok"
        ])
      }).pipe(withFault({ fault: Fault.code(1002), streamId: "^fault-" })))

    it.effect("appId and action: only that app's calls of that action", () =>
      Effect.gen(function*() {
        const prod = yield* withClient(prodApp, (dispatch) =>
          Effect.all([
            Effect.either(dispatch.dispatch(push())),
            Effect.either(dispatch.dispatchAddresses(push()))
          ]))
        assert.deepStrictEqual(prod.map((r) => r._tag), ["Right", "Left"])
        assert.deepStrictEqual(yield* outcomes(["t"], testApp), ["ok"])
      }).pipe(withFault({ fault: Fault.code(1001), appId: prodApp.appId, action: "RTMPDispatch" })))

    it.effect("the first rule that fires wins; clearFaults removes them all", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.addFault({ fault: Fault.code(1005), next: 1 })
        yield* emulator.addFault({ fault: Fault.code(1006), next: 1 })
        assert.deepStrictEqual(yield* outcomes(["a", "b"]), ["AppNotOnlineError 1005", "InvalidParameterError 1006"])
        yield* emulator.addFault({ fault: Fault.code(1001) })
        yield* emulator.clearFaults
        assert.deepStrictEqual(yield* outcomes(["c"]), ["ok"])
      }))

    it.effect("an invalid rule is a defect", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const exit = yield* Effect.exit(emulator.addFault({ fault: Fault.code(1001), probability: 2 }))
        assert.isTrue(Exit.isFailure(exit) && !Exit.isInterrupted(exit))
        const badPattern = yield* Effect.exit(emulator.addFault({ fault: Fault.reset, streamId: "(" }))
        assert.isTrue(Exit.isFailure(badPattern))
        assert.deepStrictEqual(yield* outcomes(["a"]), ["ok"])
      }))
  })
})

describe("faults from the options", () => {
  it.live("are in force from the start", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* outcomes(["a", "b"]), ["ZegoInternalError 30003", "ok"])
    }).pipe(withEmulator({ apps: [prodApp], faults: [{ fault: Fault.code(30003), next: 1 }] })))
})
