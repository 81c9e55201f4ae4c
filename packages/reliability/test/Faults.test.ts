/**
 * Faults: random scripts of emulator faults, through the node client over loopback. The outcome is exactly
 * what the retry policy predicts, never a defect, never longer than attempts × (timeout + back-off), and every
 * attempt is signed afresh (no nonce seen twice).
 */
import { RtmpDispatch } from "@effect-zego/core"
import { Emulator, Fault } from "@effect-zego/emulator"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
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

/** The policy's prediction: the outcome, and how many attempts reach the emulator. */
const predict = (script: ReadonlyArray<Kind>): { outcome: string; attempts: number } => {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const kind = script[attempt - 1] ?? "success"
    if (kind === "success") return { outcome: "ok", attempts: attempt }
    const { retryable, tag } = outcomeOf[kind]
    if (!retryable || attempt === ATTEMPTS) return { outcome: tag, attempts: attempt }
  }
  throw new Error("unreachable")
}

const app = Emulator.demoApp
const capture = makeCapture()
const kinds = Object.keys(faultOf) as Array<Kind>
let run = 0

afterAll(() => save("faults"))

describe("faults", () => {
  it.live("random fault scripts end as the retry policy predicts", () =>
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

      const property = FastCheck.asyncProperty(
        FastCheck.array(FastCheck.constantFrom(...kinds), { minLength: 1, maxLength: 6 }),
        (script) =>
          Runtime.runPromise(runtime)(Effect.gen(function*() {
            const streamId = `fault-${++run}`
            for (const kind of script) {
              yield* emulator.addFault({ fault: faultOf[kind], next: 1, streamId: `^${streamId}$` })
            }
            const predicted = predict(script)
            const started = Date.now()
            const result = yield* observe(dispatch.dispatch({ streamId, type: "push" }), BOUND_MILLIS + 5_000)
            const elapsed = Date.now() - started
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
    ), { timeout: 90_000 })
})
