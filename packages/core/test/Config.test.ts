import { RtmpDispatch } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { APP_ID, requests, SECRET, SECRET_TEXT, service } from "./utils.js"

const fromEnv = (env: Record<string, string>) =>
  RtmpDispatch.layerConfig().pipe(
    Layer.provideMerge(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET })),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
      new Map(Object.entries({
        ZEGO_APP_ID: String(APP_ID),
        ZEGO_SERVER_SECRET: SECRET_TEXT,
        ZEGO_BASE_URL: "http://127.0.0.1:9",
        ...env
      }))
    )))
  )

const burst = (count: number) =>
  Effect.flatMap(service, (dispatch) =>
    Effect.fork(Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) => dispatch.dispatch({ streamId: `s${i}`, type: "push" }),
      { concurrency: "unbounded" }
    )))

describe("layerConfig's rate limit from the environment", () => {
  it.effect("ZEGO_RATE_LIMIT and ZEGO_RATE_LIMIT_WINDOW set the limit", () =>
    Effect.gen(function*() {
      const fiber = yield* burst(3)
      yield* TestClock.adjust("1999 millis")
      assert.lengthOf(yield* requests, 2)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
      assert.lengthOf(yield* requests, 3)
    }).pipe(Effect.provide(fromEnv({ ZEGO_RATE_LIMIT: "2", ZEGO_RATE_LIMIT_WINDOW: "2 seconds" }))))

  it.effect("ZEGO_RATE_LIMIT=off turns it off", () =>
    Effect.gen(function*() {
      yield* Fiber.join(yield* burst(60))
      assert.lengthOf(yield* requests, 60)
    }).pipe(Effect.provide(fromEnv({ ZEGO_RATE_LIMIT: "off" }))))

  it.effect("unset, the default 40 per second holds", () =>
    Effect.gen(function*() {
      const fiber = yield* burst(41)
      yield* TestClock.adjust("999 millis")
      assert.lengthOf(yield* requests, 40)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(fromEnv({}))))

  it.effect("a ZEGO_RATE_LIMIT that is not a positive integer or off is a ConfigError naming it", () =>
    Effect.gen(function*() {
      for (const value of ["0", "-3", "1.5", "many", "0x28", "1e3", " 40", ""]) {
        const exit = yield* Effect.exit(Layer.build(fromEnv({ ZEGO_RATE_LIMIT: value })))
        assert.strictEqual(exit._tag, "Failure")
        const text = exit._tag === "Failure" ? Cause.pretty(exit.cause) : ""
        assert.include(text, "ZEGO_RATE_LIMIT")
        assert.include(text, "positive integer or off")
      }
    }).pipe(Effect.scoped))
})
