/**
 * The in-process limiter under load and clock steps, all on `TestClock`: 10 000 waiting callers admitted in
 * turn at the limit with constant work each and flat memory, no memory kept per call made under a huge limit,
 * and a wall clock stepped back or forward by a minute neither stalls nor bursts it.
 */
import { RateLimit } from "@effect-zego/core"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Supervisor from "effect/Supervisor"
import * as TestClock from "effect/TestClock"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { held, save } from "./figures.js"

afterAll(() => save("rate-limit"))

// The collector, for heap figures that count live objects only.
v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void
const heapUsed = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Counts how often fibers resume: the work of waking waiters, without timing anything. */
class CountResumes extends Supervisor.AbstractSupervisor<void> {
  resumes = 0
  value = Effect.void
  override onResume() {
    this.resumes++
  }
}

/** Forks `count` callers at once, each running `wait(i)`, and lets them all run until they park. */
const park = (count: number, wait: (i: number) => Effect.Effect<unknown>, counter = new CountResumes()) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(
      Effect.forEach(Array.from({ length: count }, (_, i) => i), wait, { concurrency: "unbounded", discard: true })
        .pipe(Effect.supervised(counter))
    )
    for (let i = 0; i < 5; i++) yield* Effect.yieldNow()
    return fiber
  })

const LIMIT = 40
const WINDOW = 1000
const WAITERS = 10_000
const fifoParts = new Set<string>()
const fifoPart = (part: string) => {
  fifoParts.add(part)
  if (fifoParts.size === 2) held("limiter-fifo-10k")
}

describe("in-process limiter", () => {
  it.effect(
    "10 000 waiting callers: admitted in FIFO order, exactly the limit per window, constant work, flat memory",
    () =>
      Effect.gen(function*() {
        // What a caller's own fiber costs while it waits, whatever it waits for.
        const gate = yield* Deferred.make<void>()
        const beforeBaseline = heapUsed()
        const baselineFiber = yield* park(WAITERS, () => Deferred.await(gate))
        const baseline = (heapUsed() - beforeBaseline) / WAITERS
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(baselineFiber)

        const limiter = yield* RateLimit.makeInProcess(LIMIT, WINDOW)
        const admitted: Array<number> = []
        const at: Array<number> = []
        const counter = new CountResumes()
        const clock = yield* Effect.clock
        const before = heapUsed()
        const fiber = yield* park(WAITERS, (i) =>
          limiter.withPermit(Effect.sync(() => {
            admitted.push(i)
            at.push(clock.unsafeCurrentTimeMillis())
          })), counter)
        const perWaiter = (heapUsed() - before) / WAITERS - baseline
        assert.strictEqual(admitted.length, LIMIT, "the first window's calls went at once")
        assert.isAtMost(perWaiter, 2048, `a waiting caller costs ${Math.round(perWaiter)} bytes beyond its fiber`)

        yield* TestClock.adjust(`${WAITERS / LIMIT + 1} seconds`)
        yield* Fiber.join(fiber)
        assert.deepStrictEqual(admitted, Array.from({ length: WAITERS }, (_, i) => i), "first come, first served")
        // Call n goes the moment call n - 40's token returns: 40 in each window, never more, never fewer.
        for (let i = 0; i < WAITERS; i++) assert.strictEqual(at[i], Math.floor(i / LIMIT) * WINDOW)
        const resumesPerCall = counter.resumes / WAITERS
        assert.isAtMost(resumesPerCall, 4, "each admission wakes only the caller it admits")
        const retained = heapUsed() - before
        assert.isAtMost(retained, 2_000_000, `${retained} bytes kept once every caller is done`)
        fifoPart("10k")
      }),
    60_000
  )

  it.effect(
    "a huge limit (10^8) keeps no memory per call made once the window has passed",
    () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.makeInProcess(100_000_000, WINDOW)
        const calls = 50_000
        const before = heapUsed()
        for (let i = 0; i < calls; i++) yield* limiter.withPermit(Effect.void)
        yield* TestClock.adjust(WINDOW)
        yield* limiter.withPermit(Effect.void)
        const perCall = (heapUsed() - before) / calls
        assert.isAtMost(perCall, 16, `${perCall} bytes kept per call made`)
        fifoPart("huge-limit")
      }),
    60_000
  )

  it.effect(
    "a wall clock stepped back or forward by 60 s neither stalls nor bursts the limiter",
    () =>
      Effect.gen(function*() {
        // The TestClock's monotonic time, and a wall time that NTP can step.
        const test = yield* Effect.clock
        let step = 0
        const stepped: Clock.Clock = {
          [Clock.ClockTypeId]: Clock.ClockTypeId,
          unsafeCurrentTimeMillis: () => test.unsafeCurrentTimeMillis() + step,
          unsafeCurrentTimeNanos: () => test.unsafeCurrentTimeNanos(),
          currentTimeMillis: Effect.sync(() => test.unsafeCurrentTimeMillis() + step),
          currentTimeNanos: test.currentTimeNanos,
          sleep: (duration) => test.sleep(duration)
        }
        const limiter = yield* RateLimit.makeInProcess(LIMIT, WINDOW)
        const ran: Array<number> = []
        const burst = () =>
          Effect.fork(Effect.withClock(
            Effect.forEach(
              Array.from(
                { length: LIMIT },
                () => limiter.withPermit(Effect.sync(() => ran.push(test.unsafeCurrentTimeMillis())))
              ),
              (call) => call,
              { concurrency: "unbounded", discard: true }
            ),
            stepped
          ))

        yield* Fiber.join(yield* burst())
        assert.lengthOf(ran, LIMIT)
        // NTP steps the wall clock back a minute: the next 40 go one window after the first 40 ended, not 61 s on.
        step -= 60_000
        const second = yield* burst()
        yield* TestClock.adjust(WINDOW - 1)
        assert.lengthOf(ran, LIMIT, "no token returned early")
        yield* TestClock.adjust(1)
        assert.lengthOf(ran, 2 * LIMIT, "no stall after the step back")
        yield* Fiber.join(second)
        // And forward two minutes: every token looks a minute old on the wall clock, yet none returns early.
        step += 120_000
        const third = yield* burst()
        yield* TestClock.adjust(WINDOW - 1)
        assert.lengthOf(ran, 2 * LIMIT, "no burst after the step forward")
        yield* TestClock.adjust(1)
        yield* Fiber.join(third)
        assert.deepStrictEqual(ran, Array.from({ length: 3 * LIMIT }, (_, i) => Math.floor(i / LIMIT) * WINDOW))
        held("limiter-clock-step")
      }),
    30_000
  )
})
