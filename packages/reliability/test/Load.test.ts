/**
 * Load: dispatches from 200 fibers against the emulator (40 calls per second per AppId), with the client's limiter
 * on: the emulator never sees more than 40 calls in any one-second window, never answers 1010, every call succeeds
 * and every call's stream reaches the emulator. The test command makes 300 calls (about 8 seconds at 40 a second);
 * `pnpm soak` makes 2 000 (about 50 seconds).
 *
 * What is asserted holds whatever the machine's speed: a slow attempt may time out and be retried, so the emulator
 * can see a call twice; the count of requests is therefore not asserted, only that each stream got through.
 */
import { RtmpDispatch } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import { makeCapture } from "./capture.js"
import { figures, observe, save } from "./figures.js"

/** `ZEGO_SOAK=1` (`pnpm soak`): the long run. */
const SOAK = process.env.ZEGO_SOAK === "1"
const CALLS = SOAK ? 2000 : 300
const FIBERS = 200

const app = Emulator.demoApp
const capture = makeCapture()

afterAll(() => save("load"))

describe("load", () => {
  it.live(
    `${CALLS} dispatches from ${FIBERS} fibers: at most 40 a second reach the emulator, no 1010, all succeed`,
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ apps: [app] })
        const streamIds = Array.from({ length: CALLS }, (_, i) => `load-${i}`)
        const outcomes = yield* Effect.flatMap(RtmpDispatch.RtmpDispatch, (dispatch) =>
          Effect.forEach(
            streamIds,
            (streamId, i) => observe(dispatch.dispatch({ streamId, type: i % 2 === 0 ? "push" : "pull" }), 180_000),
            { concurrency: FIBERS }
          )).pipe(
            Effect.provide(NodeRtmpDispatch.layerOptions({
              appId: app.appId,
              serverSecret: app.serverSecret,
              baseUrl: emulator.baseUrl
            }))
          )
        const seen = yield* emulator.requests
        figures.requests += seen.length
        for (const outcome of outcomes) if (outcome._tag === "Failure") capture.addError(outcome.error)

        assert.deepStrictEqual(outcomes.filter((o) => o._tag !== "Success"), [])
        assert.deepStrictEqual(seen.filter((r) => r.code !== 0).map((r) => r.code), [], "no 1010, no other code")
        assert.isAtMost(Emulator.busiestWindow(seen.map((r) => r.receivedAt), 1000), 40)
        const answered = new Set(seen.map((r) => r.streamId))
        assert.deepStrictEqual(streamIds.filter((id) => !answered.has(id)), [], "every call's stream reached it")
        for (const text of capture.texts) assert.notInclude(text, Redacted.value(app.serverSecret))
      }).pipe(
        Effect.provide(capture.layer),
        // Debug would log a request line per call and the emulator's as many more: Info keeps the capture small.
        Effect.provide(Logger.minimumLogLevel(LogLevel.Info)),
        Effect.scoped
      ),
    // At 40 a second the run takes CALLS / 40 seconds on any machine; the rest is margin for a slow one.
    { timeout: (CALLS / 40) * 1000 + 120_000 }
  )
})
