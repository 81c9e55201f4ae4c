/**
 * Faults: random scripts of emulator faults, through the node client over loopback. The outcome is exactly
 * what the retry policy predicts, never a defect, never longer than attempts × (timeout + back-off), and every
 * attempt is signed afresh (no nonce seen twice).
 *
 * Time is the `TestClock`'s, for the client (its per-attempt limit, its back-off) and the emulator (its delay
 * fault) alike: the test moves it only when nothing but time can make progress (the emulator is holding an
 * attempt, or the client is waiting out a back-off), so an answer on a slow machine is never mistaken for a timeout,
 * and the time a dispatch takes is exactly the policy's.
 */
import { RtmpDispatch } from "@effect-zego/core"
import { Emulator, Fault } from "@effect-zego/emulator"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { makeCapture } from "./capture.js"
import { figures, observe, save } from "./figures.js"

const TIMEOUT_MILLIS = 250
const ATTEMPTS = 4
const BACKOFF_MILLIS = [25, 50, 100] // Schedule.exponential("25 millis"): the waits before retries 1, 2, 3
const BOUND_MILLIS = ATTEMPTS * (TIMEOUT_MILLIS + Math.max(...BACKOFF_MILLIS))

type Kind = "timeout" | "http5xx" | "reset" | "malformed" | "rateLimited" | "internal" | "success"

const faultOf: Record<Kind, Fault.Fault> = {
  timeout: Fault.delay(Duration.millis(TIMEOUT_MILLIS * 3)),
  http5xx: Fault.httpStatus(503),
  reset: Fault.reset,
  malformed: Fault.malformed(),
  rateLimited: Fault.code(1010),
  internal: Fault.code(30003),
  success: Fault.delay(Duration.zero) // no fault: the normal answer
}

/** What an attempt that meets the fault ends with, and whether the policy tries again. */
const outcomeOf: Record<Exclude<Kind, "success">, { tag: string; retryable: boolean }> = {
  timeout: { tag: "TransportError", retryable: true },
  http5xx: { tag: "TransportError", retryable: true },
  reset: { tag: "TransportError", retryable: true },
  malformed: { tag: "ResponseDecodeError", retryable: false },
  rateLimited: { tag: "RateLimitedError", retryable: true },
  internal: { tag: "ZegoInternalError", retryable: true }
}

/** The policy's prediction: the outcome, how many attempts reach the emulator, and how long it all takes. */
const predict = (script: ReadonlyArray<Kind>): { outcome: string; attempts: number; millis: number } => {
  let millis = 0
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const kind = script[attempt - 1] ?? "success"
    if (kind === "success") return { outcome: "ok", attempts: attempt, millis }
    const { retryable, tag } = outcomeOf[kind]
    if (kind === "timeout") millis += TIMEOUT_MILLIS
    if (!retryable || attempt === ATTEMPTS) return { outcome: tag, attempts: attempt, millis }
    millis += BACKOFF_MILLIS[attempt - 1]!
  }
  throw new Error("unreachable")
}

/** A real pause (the fiber's clock is the `TestClock`), to let the loopback traffic move. */
const pause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 2)))

/** How long (real time) a dispatch may make no progress before it counts as a hang. */
const HANG_MILLIS = 60_000

const app = Emulator.demoApp
const capture = makeCapture()
const kinds = Object.keys(faultOf) as Array<Kind>
let run = 0

afterAll(() => save("faults"))

describe("faults", () => {
  it.effect("random fault scripts end as the retry policy predicts", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ apps: [app], rateLimit: false })
      const client = yield* Layer.build(NodeRtmpDispatch.layerOptions({
        appId: app.appId,
        serverSecret: app.serverSecret,
        baseUrl: emulator.baseUrl,
        timeout: Duration.millis(TIMEOUT_MILLIS),
        retry: Schedule.exponential(Duration.millis(BACKOFF_MILLIS[0]!)).pipe(
          Schedule.intersect(Schedule.recurs(ATTEMPTS - 1))
        ),
        rateLimit: false
      }))
      const dispatch = yield* Effect.provide(RtmpDispatch.RtmpDispatch, client)
      const runtime = yield* Effect.runtime<never>()
      const hang = Effect.sync(() => {
        figures.hangs++
        return { _tag: "Hang" as const }
      })

      /**
       * Dispatches `streamId` and moves the clock as the policy says it must be moved, at the moment it must be:
       * by the time limit once an attempt the emulator holds (a delay fault) has arrived and the client's timer for
       * it is set, by the back-off once the client waits one. Meanwhile traffic is on its way, and only real time
       * passes, however long it takes. A dispatch that does nothing for a minute of real time is a hang.
       */
      const driven = (streamId: string, script: ReadonlyArray<Kind>) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.fork(observe(dispatch.dispatch({ streamId, type: "push" }), BOUND_MILLIS * 10))
          const done = () => fiber.unsafePoll() !== null
          const until = (ready: Effect.Effect<boolean>) =>
            Effect.gen(function*() {
              const giveUp = Date.now() + HANG_MILLIS
              while (!done() && !(yield* ready)) {
                if (Date.now() > giveUp) return false
                yield* pause
              }
              return true
            })
          const arrived = (attempt: number) =>
            Effect.map(emulator.requests, (all) => all.filter((r) => r.streamId === streamId).length >= attempt)
          const timerAt = (at: number) => Effect.map(TestClock.sleeps(), (ends) => [...ends].includes(at))

          let now = yield* Clock.currentTimeMillis
          for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
            if (!(yield* until(arrived(attempt)))) break
            if (done()) break
            if (script[attempt - 1] === "timeout") {
              if (!(yield* until(timerAt(now + TIMEOUT_MILLIS)))) break
              yield* TestClock.adjust(Duration.millis(TIMEOUT_MILLIS))
              now += TIMEOUT_MILLIS
            }
            if (attempt === ATTEMPTS) break
            const backoff = BACKOFF_MILLIS[attempt - 1]!
            if (!(yield* until(timerAt(now + backoff)))) break
            if (done()) break
            yield* TestClock.adjust(Duration.millis(backoff))
            now += backoff
          }
          if (!(yield* until(Effect.succeed(false))) || !done()) {
            yield* Fiber.interrupt(fiber)
            return yield* hang
          }
          return yield* Fiber.join(fiber)
        })

      const property = FastCheck.asyncProperty(
        FastCheck.array(FastCheck.constantFrom(...kinds), { minLength: 1, maxLength: 6 }),
        (script) =>
          Runtime.runPromise(runtime)(Effect.gen(function*() {
            const streamId = `fault-${++run}`
            for (const kind of script) {
              yield* emulator.addFault({ fault: faultOf[kind], next: 1, streamId: `^${streamId}$` })
            }
            const predicted = predict(script)
            const started = yield* Clock.currentTimeMillis
            const result = yield* driven(streamId, script)
            const elapsed = (yield* Clock.currentTimeMillis) - started
            // Timers of interrupted races and of the emulator's delays stay queued on the TestClock: run them all
            // out now, so that the next dispatch finds only its own.
            yield* TestClock.adjust("1 hour")
            yield* emulator.clearFaults
            const seen = (yield* emulator.requests).filter((r) => r.streamId === streamId)
            figures.requests += seen.length
            figures.faults += script.slice(0, seen.length).filter((kind) => kind !== "success").length
            if (result._tag === "Failure") capture.addError(result.error)

            const outcome = result._tag === "Success"
              ? "ok"
              : result._tag === "Failure"
              ? result.error._tag
              : result._tag
            assert.strictEqual(outcome, predicted.outcome, `script ${script.join(", ")}`)
            assert.strictEqual(seen.length, predicted.attempts, `attempts for ${script.join(", ")}`)
            assert.strictEqual(elapsed, predicted.millis, `clock time for ${script.join(", ")}`)
            assert.isAtMost(elapsed, BOUND_MILLIS, `took ${elapsed} ms for ${script.join(", ")}`)
            assert.strictEqual(new Set(seen.map((r) => r.nonce)).size, seen.length, "a nonce was sent twice")
          }))
      )
      yield* Effect.promise(() => FastCheck.assert(property, { numRuns: 40 }))
      for (const text of capture.texts) assert.notInclude(text, Redacted.value(app.serverSecret))
    }).pipe(
      Effect.provide(capture.layer),
      // The emulator logs every request at Info: kept in the capture, searched for the secret.
      Effect.provide(Logger.minimumLogLevel(LogLevel.All)),
      Effect.scoped
    ), { timeout: 120_000 })
})
