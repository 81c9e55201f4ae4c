import { RateLimit } from "@effect-zego/core"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"

/** The most of `times` in any window [t, t + windowMillis). */
const busiest = (times: ReadonlyArray<number>, windowMillis: number) =>
  Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + windowMillis).length))

const call = FastCheck.record({
  startAt: FastCheck.integer({ min: 0, max: 3000 }),
  duration: FastCheck.integer({ min: 0, max: 1500 }),
  // Where between its start and its end the call reaches the server.
  arrival: FastCheck.double({ min: 0, max: 1, noNaN: true })
})

describe("RateLimit.makeInProcess", () => {
  it.effect.prop(
    "however long calls take and wherever they reach the server, no window holds more than the limit",
    [FastCheck.array(call, { minLength: 1, maxLength: 25 }), FastCheck.integer({ min: 1, max: 4 })],
    ([calls, limit]) =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.makeInProcess(limit, 1000)
        const fiber = yield* Effect.fork(Effect.forEach(calls, (c) =>
          Effect.sleep(c.startAt).pipe(
            Effect.zipRight(limiter.withPermit(Effect.gen(function*() {
              const granted = yield* Clock.currentTimeMillis
              yield* Effect.sleep(c.duration)
              const ended = yield* Clock.currentTimeMillis
              return granted + c.arrival * (ended - granted)
            })))
          ), { concurrency: "unbounded" }))
        yield* TestClock.adjust("120 seconds")
        const arrivals = yield* Fiber.join(fiber)
        assert.isAtMost(busiest(arrivals, 1000), limit)
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect("calls within the limit go at once, in one step each", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimit.makeInProcess(5, 1000)
      const granted = yield* Effect.forEach(
        Array.from({ length: 5 }, (_, i) => i),
        () => limiter.withPermit(Clock.currentTimeMillis),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(granted, [0, 0, 0, 0, 0])
    }))
})
