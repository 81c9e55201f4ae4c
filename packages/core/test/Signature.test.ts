import { Signature } from "@effect-zego/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"

const input = FastCheck.record({
  appId: FastCheck.integer({ min: 0, max: 4_294_967_295 }),
  nonce: FastCheck.hexaString({ minLength: 16, maxLength: 16 }),
  secret: FastCheck.hexaString({ minLength: 32, maxLength: 32 }),
  timestamp: FastCheck.integer({ min: 0, max: 4_102_444_800 })
})

const signOf = (i: typeof input extends FastCheck.Arbitrary<infer A> ? A : never) =>
  Signature.sign({ appId: i.appId, nonce: i.nonce, serverSecret: Redacted.make(i.secret), timestamp: i.timestamp })

describe("Signature", () => {
  it("matches ZEGOCLOUD's golden vector", () => {
    const signature = Signature.sign({
      appId: 12345,
      nonce: "4fd24687296dd9f3",
      serverSecret: Redacted.make("9193cc662a4c0ec135ec71fb57194b38"),
      timestamp: 1615186943
    })
    assert.strictEqual(signature, "43e5cfcca828314675f91b001390566a")
  })

  it.prop(
    "equals node:crypto's md5 of the concatenation",
    [input, FastCheck.string({ maxLength: 80 })],
    ([i, secret]) => {
      const text = `${i.appId}${i.nonce}${secret}${i.timestamp}`
      assert.strictEqual(
        Signature.sign({ appId: i.appId, nonce: i.nonce, serverSecret: Redacted.make(secret), timestamp: i.timestamp }),
        createHash("md5").update(text, "utf8").digest("hex")
      )
    }
  )

  it.prop("is always 32 lowercase hex characters", [input], ([i]) => {
    assert.match(signOf(i), /^[0-9a-f]{32}$/)
  })

  it.prop("changes when any input changes", [input, input], ([a, b]) => {
    for (const key of ["appId", "nonce", "secret", "timestamp"] as const) {
      if (a[key] === b[key]) continue
      assert.notStrictEqual(signOf(a), signOf({ ...a, [key]: b[key] }), `changing ${key} kept the signature`)
    }
  })

  it.effect("makes nonces of 16 hex characters that do not repeat", () =>
    Effect.gen(function*() {
      const nonces = yield* Effect.replicateEffect(Signature.makeNonce, 1000)
      for (const nonce of nonces) assert.match(nonce, /^[0-9a-f]{16}$/)
      assert.strictEqual(new Set(nonces).size, nonces.length)
    }))

  it.effect("signs public parameters with the Clock's Unix seconds and the clock offset", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_615_186_943_500)
      const serverSecret = Redacted.make("9193cc662a4c0ec135ec71fb57194b38")
      const params = yield* Signature.publicParams({ appId: 12345, serverSecret })
      assert.strictEqual(params.Timestamp, "1615186943")
      assert.strictEqual(params.SignatureVersion, "2.0")
      assert.strictEqual(params.AppId, "12345")
      assert.strictEqual(
        params.Signature,
        Signature.sign({ appId: 12345, nonce: params.SignatureNonce, serverSecret, timestamp: 1615186943 })
      )
      const ahead = yield* Signature.publicParams({ appId: 12345, serverSecret, clockOffsetMillis: 3_600_000 })
      assert.strictEqual(ahead.Timestamp, "1615190543")
    }))
})
