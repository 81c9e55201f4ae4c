/**
 * The rate limit per AppId (1010), with the client's limiter off and on. The counts are exact under `TestClock`:
 * the emulator takes its time from the `Clock`, so every call of a burst arrives at the same instant however slowly
 * the machine serves it. The client's limiter, which waits on the live clock here, is judged by properties that hold
 * whatever the latency.
 */
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { prodApp, testApp, withClient, withEmulator } from "./utils.js"

const streams = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`)

/** Dispatches every stream at once; the tag and code of each failure, "ok" for each success, sorted. */
const burst = (
  count: number,
  app = prodApp,
  rateLimit: { readonly limit: number; readonly window: Duration.DurationInput } | false = false
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
    ), { rateLimit }).pipe(Effect.map((results) => [...results].sort()))

const tally = (results: ReadonlyArray<string>) =>
  results.reduce<Record<string, number>>((counts, r) => ({ ...counts, [r]: (counts[r] ?? 0) + 1 }), {})

describe("rate limit", () => {
  it.effect("by default 40 calls per second per AppId; with the client's limiter off, the rest get 1010", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(tally(yield* burst(45)), { ok: 40, "RateLimitedError 1010": 5 })
      yield* TestClock.adjust("999 millis")
      assert.deepStrictEqual(tally(yield* burst(1)), { "RateLimitedError 1010": 1 }, "a second is a whole window")
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(tally(yield* burst(45)), { ok: 40, "RateLimitedError 1010": 5 })
    }).pipe(withEmulator({ apps: [prodApp] })))

  it.effect("a configured limit, counted per AppId", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(tally(yield* burst(8)), { ok: 5, "RateLimitedError 1010": 3 })
      assert.deepStrictEqual(tally(yield* burst(2, testApp)), { ok: 2 })
    }).pipe(withEmulator({ apps: [prodApp, testApp], rateLimit: { limit: 5, window: "1 second" } })))

  it.effect("the window slides: a refused AppId is served again once its oldest call is a window old", () =>
    Effect.gen(function*() {
      const one = (streamId: string) =>
        withClient(prodApp, (dispatch) => Effect.either(dispatch.dispatch({ streamId, type: "push" })))
      assert.strictEqual((yield* one("first"))._tag, "Right")
      yield* TestClock.adjust("100 millis")
      for (const streamId of streams(2)) assert.strictEqual((yield* one(streamId))._tag, "Right")
      assert.strictEqual((yield* one("over"))._tag, "Left")
      yield* TestClock.adjust("149 millis")
      assert.strictEqual((yield* one("still-over"))._tag, "Left", "the oldest call is 249 ms old")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* one("again"))._tag, "Right", "the oldest call is 250 ms old")
      assert.strictEqual((yield* one("over-again"))._tag, "Left", "the next two are only 150 ms old")
    }).pipe(withEmulator({ apps: [prodApp], rateLimit: { limit: 3, window: "250 millis" } })))

  it.effect("rateLimit false: no limit", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(tally(yield* burst(60)), { ok: 60 })
    }).pipe(withEmulator({ apps: [prodApp], rateLimit: false })))

  // The client counts a token from the END of its call and the server counts the call when it arrives, so the
  // same limit and window on both sides never refuse a call, however unevenly the calls travel. Live: the calls
  // really travel unevenly, and the per-attempt timeout is far beyond any latency, so that none is retried.
  it.live("with the client's limiter on, no call is refused: the client waits instead", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const results = yield* withClient(prodApp, (dispatch) =>
        Effect.forEach(
          streams(12),
          (streamId) => Effect.either(dispatch.dispatch({ streamId, type: "push" })),
          { concurrency: "unbounded" }
        ), { rateLimit: { limit: 5, window: "200 millis" }, timeout: "60 seconds" })
      assert.deepStrictEqual(results.filter((r) => r._tag === "Left"), [])
      assert.isAtLeast(Date.now() - started, 2 * 200, "two more windows for 12 calls at 5 per window")
      const { requests } = yield* Emulator.Emulator
      const seen = yield* requests
      assert.lengthOf(seen, 12)
      assert.isAtMost(Emulator.busiestWindow(seen.map((r) => r.receivedAt), 200), 5)
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
