/**
 * Load: 2 000 dispatches from 200 fibers against the emulator (40 calls per second per AppId), with the
 * client's limiter on: the emulator never sees more than 40 calls in any one-second window, never answers
 * 1010, and all 2 000 succeed. At 40 a second this takes about 50 seconds; it runs beside the other files.
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

const app = Emulator.demoApp
const capture = makeCapture()

afterAll(() => save("load"))

describe("load", () => {
  it.live(
    "2 000 dispatches from 200 fibers: at most 40 a second reach the emulator, no 1010, all succeed",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ apps: [app] })
        const outcomes = yield* Effect.flatMap(RtmpDispatch.RtmpDispatch, (dispatch) =>
          Effect.forEach(
            Array.from({ length: 2000 }, (_, i) => i),
            (i) => observe(dispatch.dispatch({ streamId: `load-${i}`, type: i % 2 === 0 ? "push" : "pull" }), 90_000),
            { concurrency: 200 }
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
        assert.lengthOf(seen, 2000)
        assert.deepStrictEqual(seen.filter((r) => r.code !== 0).map((r) => r.code), [])
        assert.isAtMost(Emulator.busiestWindow(seen.map((r) => r.receivedAt), 1000), 40)
        for (const text of capture.texts) assert.notInclude(text, Redacted.value(app.serverSecret))
      }).pipe(
        Effect.provide(capture.layer),
        // Debug would log 2 000 request lines and the emulator's 2 000 more: Info keeps the capture small.
        Effect.provide(Logger.minimumLogLevel(LogLevel.Info)),
        Effect.scoped
      ),
    { timeout: 100_000 }
  )
})
