/**
 * Bounds: durations the timers cannot hold, metric series a server could multiply, environment values that only
 * look like numbers. Each is refused (typed, nothing sent) or kept within a fixed size.
 */
import { RtmpDispatch, ZegoError } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { figures, held, observe, save } from "./figures.js"

const APP_ID = 515151
const SECRET_TEXT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
const SECRET = Redacted.make(SECRET_TEXT)

afterAll(() => save("bounds"))

const build = (options: Partial<RtmpDispatch.Options>) =>
  Effect.scoped(Layer.build(
    RtmpDispatch.layer({ appId: APP_ID, serverSecret: SECRET, baseUrl: "http://127.0.0.1:9", ...options }).pipe(
      Layer.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET }))
    )
  ))

describe("bounds", () => {
  it.live("a timeout or window past the bound (or infinite) is refused at layer build, naming the bound", () =>
    Effect.gen(function*() {
      const tooLong: ReadonlyArray<Partial<RtmpDispatch.Options>> = [
        { timeout: "25 days" },
        { timeout: Duration.infinity },
        { timeout: Duration.hours(2) },
        { rateLimit: { limit: 40, window: Duration.infinity } },
        { rateLimit: { limit: 40, window: "30 days" } }
      ]
      for (const options of tooLong) {
        figures.badInputs++
        const result = yield* observe(build(options), 10_000)
        assert.strictEqual(result._tag, "Failure", JSON.stringify(options))
        if (result._tag !== "Failure") continue
        assert.strictEqual(result.error._tag, "InvalidRequestError")
        assert.include(result.error.message, Duration.format(RtmpDispatch.MAX_DURATION))
      }
      // At the bound, the layer builds.
      const ok = yield* observe(build({ timeout: RtmpDispatch.MAX_DURATION }), 10_000)
      assert.strictEqual(ok._tag, "Success")
      held("duration-bounds")
    }))

  // 500 distinct codes are ten times the series the table allows (two actions × its codes and four more), so one
  // series per code would fail as surely as with thousands; each call costs the CPU of a real one.
  it.live("hundreds of distinct server codes add no metric series: unknown codes count under 'other'", () =>
    Effect.gen(function*() {
      const distinct = 500
      const dispatch = yield* RtmpDispatch.RtmpDispatch
      for (let i = 0; i < distinct; i++) {
        yield* Effect.either(dispatch.dispatch({ streamId: `code${i}`, type: "pull" }, { retry: Schedule.stop }))
      }
      figures.requests += distinct
      const allowed = new Set(["0", "other", "transport", "decode", ...ZegoError.knownCodes.map(String)])
      // The dispatch actions' series: the registry is the process's, and other test files in this worker may have
      // counted other actions' codes (those of their own rows) in it.
      const dispatchActions = new Set(["RTMPDispatchV2", "RTMPDispatch"])
      const labels = (yield* Metric.snapshot)
        .filter((pair) =>
          pair.metricKey.name === "zego_rtmp_dispatch_responses" &&
          pair.metricKey.tags.some((tag) => tag.key === "action" && dispatchActions.has(tag.value))
        )
        .flatMap((pair) => pair.metricKey.tags.filter((tag) => tag.key === "code").map((tag) => tag.value))
      assert.isAtMost(labels.length, allowed.size * 2, "series per action are bounded by the table")
      for (const label of labels) assert.isTrue(allowed.has(label), `label ${label}`)
      assert.include(labels, "other")
      held("metric-labels-bounded")
    }).pipe(Effect.provide(ZegoMock.layerDispatch({
      appId: APP_ID,
      serverSecret: SECRET,
      dispatch: { rateLimit: false },
      handler: (request) => ZegoMock.code(2_000_000 + Number(request.params.StreamId!.slice(4)))
    }))))

  it.live("ZEGO_APP_ID and ZEGO_RATE_LIMIT take decimal digits only; an empty variable says so; nothing is sent", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["ZEGO_APP_ID", "", "empty"],
        ["ZEGO_APP_ID", "0x10", "decimal digits"],
        ["ZEGO_APP_ID", "0b11", "decimal digits"],
        ["ZEGO_APP_ID", "0o7", "decimal digits"],
        ["ZEGO_APP_ID", "1e3", "decimal digits"],
        ["ZEGO_APP_ID", " 12", "decimal digits"],
        ["ZEGO_APP_ID", "12 ", "decimal digits"],
        ["ZEGO_APP_ID", "-5", "decimal digits"],
        ["ZEGO_RATE_LIMIT", "0x28", "decimal digits"],
        ["ZEGO_RATE_LIMIT", "1e3", "decimal digits"],
        ["ZEGO_RATE_LIMIT", "", "decimal digits"]
      ]
      for (const [name, value, says] of cases) {
        figures.badInputs++
        const env = new Map([
          ["ZEGO_APP_ID", String(APP_ID)],
          ["ZEGO_SERVER_SECRET", SECRET_TEXT],
          ["ZEGO_BASE_URL", "http://127.0.0.1:9"],
          [name, value]
        ])
        const exit = yield* Effect.exit(
          Effect.flatMap(RtmpDispatch.RtmpDispatch, (dispatch) => dispatch.dispatch({ streamId: "s", type: "push" }))
            .pipe(
              Effect.provide(RtmpDispatch.layerConfig()),
              Effect.provide(Layer.setConfigProvider(ConfigProvider.fromMap(env)))
            )
        )
        const text = exit._tag === "Failure" ? Cause.pretty(exit.cause) : "success"
        assert.include(text, name, `${name}=${JSON.stringify(value)}`)
        assert.include(text, says, `${name}=${JSON.stringify(value)}`)
        assert.notInclude(text, SECRET_TEXT)
        assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 0, `${name}=${JSON.stringify(value)} sent nothing`)
      }
      held("env-decimal")
    }).pipe(Effect.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET }))))
})
