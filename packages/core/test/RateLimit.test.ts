import { RateLimit } from "@effect-zego/core"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { runs } from "./utils.js"

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
    { fastCheck: { numRuns: runs(20) }, timeout: 120_000 }
  )

  it.live(
    "1 000 callers interrupted at random, waiting or running, leave no token behind",
    () =>
      Effect.gen(function*() {
        const limit = 10
        const limiter = yield* RateLimit.makeInProcess(limit, 100)
        const callers = FastCheck.sample(
          FastCheck.record({ duration: FastCheck.nat(20), interruptAt: FastCheck.nat(400) }),
          { numRuns: 1000, seed: 9 }
        )
        const granted: Array<number> = []
        const monotonic = Effect.map(Clock.currentTimeNanos, (nanos) => Number(nanos) / 1e6)
        yield* Effect.forEach(callers, (c) =>
          limiter.withPermit(
            Effect.zipRight(
              Effect.flatMap(monotonic, (t) => Effect.sync(() => granted.push(t))),
              Effect.sleep(c.duration)
            )
          ).pipe(Effect.timeoutOption(c.interruptAt)), { concurrency: "unbounded", discard: true })
        assert.isAtMost(busiest(granted, 100), limit)
        assert.isBelow(granted.length, 1000, "some callers were interrupted")
        // Every token comes back: the next `limit` calls all go (a lost token would hold one of them forever).
        const next = yield* Effect.forEach(
          Array.from({ length: limit }, (_, i) => i),
          (i) => limiter.withPermit(Effect.succeed(i)),
          { concurrency: "unbounded" }
        ).pipe(Effect.timeoutOption("20 seconds"))
        assert.isTrue(next._tag === "Some", "every token came back")
      }),
    { timeout: 60_000 }
  )

  it.effect("waiting callers go first come, first served; one that gives up leaves the queue", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimit.makeInProcess(2, 1000)
      const order: Array<[number, number]> = []
      const call = (i: number) =>
        limiter.withPermit(Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => order.push([i, t]))))
      const fibers = yield* Effect.forEach(Array.from({ length: 8 }, (_, i) => i), (i) => Effect.fork(call(i)))
      yield* Fiber.interrupt(fibers[3]!)
      yield* Fiber.interrupt(fibers[5]!)
      yield* TestClock.adjust("5 seconds")
      // Call n goes once call n - 2 has ended a window ago; the two that gave up took no turn.
      assert.deepStrictEqual(order, [[0, 0], [1, 0], [2, 1000], [4, 1000], [6, 2000], [7, 2000]])
    }))

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
