/**
 * The rate limit per AppId (1010), with the client's limiter off and on.
 */
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { prodApp, testApp, withClient, withEmulator } from "./utils.js"

const streams = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`)

/** Dispatches every stream at once; the tag and code of each failure, "ok" for each success, sorted. */
const burst = (
  count: number,
  app = prodApp,
  rateLimit: { readonly limit: number; readonly window: Duration.DurationInput } | false = false,
  timeout: Duration.DurationInput = "2 seconds"
) =>
  withClient(app, (dispatch) =>
    Effect.forEach(
      streams(count),
      (streamId) =>
        dispatch.dispatch({ streamId, type: "push" }).pipe(
          Effect.match({
            onFailure: (error) => "code" in error ? `${error._tag} ${error.code}` : error._tag,
            onSuccess: () => "ok"
          })
        ),
      { concurrency: "unbounded" }
    ), { rateLimit, timeout }).pipe(Effect.map((results) => [...results].sort()))

const tally = (results: ReadonlyArray<string>) =>
  results.reduce<Record<string, number>>((counts, r) => ({ ...counts, [r]: (counts[r] ?? 0) + 1 }), {})

describe("rate limit", () => {
  // Under the TestClock the 45 calls arrive at one instant whatever the machine's load (in real time a loaded
  // machine spread them past the window, or the client timed them out), so the count is exact.
  it.effect("by default 40 calls per second per AppId; with the client's limiter off, the rest get 1010", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(tally(yield* burst(45, prodApp, false, "30 seconds")), {
        ok: 40,
        "RateLimitedError 1010": 5
      })
    }).pipe(withEmulator({ apps: [prodApp] })))

  it.live("a configured limit, counted per AppId", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(tally(yield* burst(8)), { ok: 5, "RateLimitedError 1010": 3 })
      assert.deepStrictEqual(tally(yield* burst(2, testApp)), { ok: 2 })
    }).pipe(withEmulator({ apps: [prodApp, testApp], rateLimit: { limit: 5, window: "1 second" } })))

  it.live("the window slides: a refused AppId is served again once its oldest call is a window old", () =>
    Effect.gen(function*() {
      const one = (streamId: string) =>
        withClient(prodApp, (dispatch) => Effect.either(dispatch.dispatch({ streamId, type: "push" })))
      for (const streamId of streams(3)) assert.strictEqual((yield* one(streamId))._tag, "Right")
      assert.strictEqual((yield* one("over"))._tag, "Left")
      yield* Effect.sleep("250 millis")
      assert.strictEqual((yield* one("again"))._tag, "Right")
    }).pipe(withEmulator({ apps: [prodApp], rateLimit: { limit: 3, window: "250 millis" } })))

  it.live("rateLimit false: no limit", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(tally(yield* burst(60)), { ok: 60 })
    }).pipe(withEmulator({ apps: [prodApp], rateLimit: false })))

  // The client counts a token from the END of its call and the server counts the call when it arrives, so the
  // same limit and window on both sides never refuse a call, however unevenly the calls travel.
  it.live("with the client's limiter on, no call is refused: the client waits instead", () =>
    Effect.gen(function*() {
      const started = Date.now()
      assert.deepStrictEqual(tally(yield* burst(12, prodApp, { limit: 5, window: "200 millis" })), { ok: 12 })
      assert.isAtLeast(Date.now() - started, 2 * 200, "two more windows for 12 calls at 5 per window")
    }).pipe(withEmulator({ apps: [prodApp], rateLimit: { limit: 5, window: "200 millis" } })))
})

describe("busiestWindow", () => {
  it("counts the most times in any window, a time one window later being outside it", () => {
    assert.strictEqual(Emulator.busiestWindow([], 1000), 0)
    assert.strictEqual(Emulator.busiestWindow([0, 999, 1000, 1999], 1000), 2)
    assert.strictEqual(Emulator.busiestWindow([5, 0, 10, 1004, 1006], 1000), 3)
    assert.strictEqual(Emulator.busiestWindow([0, 0, 0], 1), 3)
  })
})
