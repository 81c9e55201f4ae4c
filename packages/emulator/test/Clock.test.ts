/**
 * The emulator takes its time from Effect's `Clock`: under `TestClock`, the replay window and `Date` follow it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { prodApp, rawCall, signedParams, withEmulator } from "./utils.js"

const MINUTE = 60_000

describe("time comes from the Clock", () => {
  it.effect("a nonce is remembered for 20 minutes (TestClock), then usable again", () =>
    Effect.gen(function*() {
      const params = yield* signedParams(prodApp)
      assert.strictEqual((yield* rawCall(params)).body.Code, 0)
      yield* TestClock.adjust("19 minutes")
      const resign = Effect.flatMap(
        Clock.currentTimeMillis,
        (now) => signedParams(prodApp, {}, { nonce: params.SignatureNonce!, timestamp: Math.floor(now / 1000) })
      )
      const early = yield* rawCall(yield* resign)
      assert.strictEqual(early.body.Code, 100000005)
      assert.strictEqual(Date.parse(early.headers.get("date")!), 19 * MINUTE, "Date comes from the Clock")
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual((yield* rawCall(yield* resign)).body.Code, 0)
    }).pipe(withEmulator()))
})
