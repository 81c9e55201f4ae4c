import { Params, StreamRelay, ZegoError } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { APP_ID, requests, SECRET, withTime } from "./utils.js"

const noRetry = { retry: Schedule.stop }
const CDN = "rtmp://live.example.com:1935/app/key?token=a&b=c"

const services = (options: Omit<ZegoMock.Options, "appId" | "serverSecret"> & { readonly isTest?: boolean } = {}) =>
  ZegoMock.layerServices({
    appId: APP_ID,
    serverSecret: SECRET,
    ...options,
    services: options.isTest === undefined ? {} : { isTest: options.isTest }
  })

const byAction = (action: string) => Effect.map(requests, (all) => all.filter((request) => request.action === action))

describe("StreamRelay", () => {
  it.effect("start, stop and clear send their actions, CDNUrl escaped and read back whole, a Sequence each", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const relay = yield* StreamRelay.StreamRelay
      const started = yield* relay.start("obs-1", CDN)
      const stopped = yield* relay.stop("obs-1", CDN)
      const cleared = yield* relay.clear("obs-1")
      const sent = yield* requests
      assert.deepStrictEqual(sent.map((r) => r.action), [
        "CreatCDNTransferRule",
        "DeleteCDNTransferRule",
        "ClearCDNTransferRule"
      ])
      assert.deepStrictEqual(sent.map((r) => r.params.CDNUrl), [CDN, CDN, undefined])
      assert.deepStrictEqual(sent.map((r) => r.params.StreamId), ["obs-1", "obs-1", "obs-1"])
      const sequences = sent.map((r) => Number(r.params.Sequence))
      assert.isTrue(sequences[0]! < sequences[1]! && sequences[1]! < sequences[2]!, `${sequences}`)
      assert.deepStrictEqual(started, { requestId: "mock-1", streamId: "obs-1", cdnUrl: CDN })
      assert.deepStrictEqual(stopped, { requestId: "mock-2", streamId: "obs-1", cdnUrl: CDN })
      assert.deepStrictEqual(cleared, { requestId: "mock-3", streamId: "obs-1" })
    }).pipe(Effect.provide(services())))

  it.effect("the CDN's stream key is sent whole, but masked in the debug log and in a connection error's detail", () => {
    const key = "sk-0123456789abcdef"
    const cdnUrl = `rtmp://live.example.com:1935/app/${key}?token=tok3n`
    const logs: Array<string> = []
    const logged = Logger.replace(
      Logger.defaultLogger,
      Logger.make((options) => logs.push(Logger.logfmtLogger.log(options)))
    )
    const sentQuery = `/?Action=CreatCDNTransferRule&CDNUrl=${encodeURIComponent(cdnUrl)}&StreamId=obs-1`
    return Effect.gen(function*() {
      const relay = yield* StreamRelay.StreamRelay
      yield* relay.start("obs-1", cdnUrl)
      const failed = yield* Effect.flip(relay.start("obs-1", cdnUrl, noRetry))
      const [request] = yield* requests
      assert.strictEqual(request?.params.CDNUrl, cdnUrl)
      const masked = encodeURIComponent(Params.maskCdnUrl(cdnUrl))
      assert.strictEqual(masked, encodeURIComponent("rtmp://live.example.com:1935/app/****cdef?****"))
      const lines = logs.filter((line) => line.includes("ZEGOCLOUD request"))
      assert.lengthOf(lines, 2)
      for (const line of lines) assert.include(line, `CDNUrl=${masked}`)
      assert.strictEqual(failed._tag, "TransportError")
      assert.include(failed.message, `CDNUrl=${masked}`)
      for (const text of [...logs, failed.message]) {
        assert.notInclude(text, key)
        assert.notInclude(text, "tok3n")
      }
    }).pipe(
      Effect.provide(services({ script: [ZegoMock.success(), ZegoMock.networkError(`GET ${sentQuery} failed`)] })),
      Effect.provide(Layer.merge(logged, Logger.minimumLogLevel(LogLevel.Debug)))
    )
  })

  it.effect("rtmps:// is a target too; a caller's Sequence is sent", () =>
    Effect.gen(function*() {
      const relay = yield* StreamRelay.StreamRelay
      yield* relay.start("obs-1", "rtmps://live-api-s.facebook.com:443/rtmp/key", { sequence: 42 })
      const [request] = yield* requests
      assert.strictEqual(request?.params.CDNUrl, "rtmps://live-api-s.facebook.com:443/rtmp/key")
      assert.strictEqual(request?.params.Sequence, "42")
    }).pipe(Effect.provide(services())))

  it.effect("a cdnUrl that is not rtmp:// or rtmps:// with a host is an InvalidRequestError; nothing is sent", () =>
    Effect.gen(function*() {
      const relay = yield* StreamRelay.StreamRelay
      const bad = [
        "",
        "https://live.example.com/app/key",
        "live.example.com/app/key",
        "rtmp:///app/key",
        "rtmp://live.example.com/app/key with space",
        "rtmp://live.example.com/app/\nkey",
        `rtmp://live.example.com/${"k".repeat(3000)}`
      ]
      for (const cdnUrl of bad) {
        const error = yield* Effect.flip(relay.start("obs-1", cdnUrl))
        assert.instanceOf(error, ZegoError.InvalidRequestError, cdnUrl)
        assert.strictEqual((error as ZegoError.InvalidRequestError).parameter, "cdnUrl", cdnUrl)
        const stopError = yield* Effect.flip(relay.stop("obs-1", cdnUrl))
        assert.strictEqual(stopError._tag, "InvalidRequestError", cdnUrl)
      }
      const badStream = yield* Effect.flip(relay.clear("no spaces"))
      assert.strictEqual(badStream._tag, "InvalidRequestError")
      assert.lengthOf(yield* requests, 0)
    }).pipe(Effect.provide(services())))

  it.effect("in the test environment: IsTest=true and the zegotest-<AppId>- prefix", () =>
    Effect.gen(function*() {
      const relay = yield* StreamRelay.StreamRelay
      const started = yield* relay.start("obs-1", CDN)
      const cleared = yield* relay.clear("obs-1")
      const sent = yield* requests
      assert.deepStrictEqual(sent.map((r) => [r.params.IsTest, r.params.StreamId]), [
        ["true", `zegotest-${APP_ID}-obs-1`],
        ["true", `zegotest-${APP_ID}-obs-1`]
      ])
      assert.strictEqual(started.streamId, `zegotest-${APP_ID}-obs-1`)
      assert.strictEqual(cleared.streamId, `zegotest-${APP_ID}-obs-1`)
    }).pipe(Effect.provide(services({ isTest: true }))))

  it.effect("the codes of RELAY.md map to their errors, none retried", () =>
    Effect.gen(function*() {
      const relay = yield* StreamRelay.StreamRelay
      const tags: Array<[string, boolean]> = []
      for (let i = 0; i < 4; i++) {
        const error = yield* Effect.flip(relay.start("s", CDN, noRetry))
        tags.push([error._tag, ZegoError.isRetryable(error)])
      }
      for (let i = 0; i < 3; i++) {
        const error = yield* Effect.flip(relay.stop("s", CDN, noRetry))
        tags.push([error._tag, ZegoError.isRetryable(error)])
      }
      for (let i = 0; i < 3; i++) {
        const error = yield* Effect.flip(relay.clear("s", noRetry))
        tags.push([error._tag, ZegoError.isRetryable(error)])
      }
      assert.deepStrictEqual(tags, [
        // CreatCDNTransferRule: 5003, 5004, 30001, 5005
        ["AuthenticationError", false],
        ["InvalidCdnUrlError", false],
        ["InvalidCdnUrlError", false],
        ["InvalidParameterError", false],
        // DeleteCDNTransferRule: 5004, 30001 (documented for Creat only), 5005
        ["InvalidCdnUrlError", false],
        ["UnknownCodeError", false],
        ["InvalidParameterError", false],
        // ClearCDNTransferRule: 5003, 5005, 5004 (documented for Creat and Delete only)
        ["AuthenticationError", false],
        ["InvalidParameterError", false],
        ["UnknownCodeError", false]
      ])
      assert.lengthOf(yield* requests, 10, "nothing was retried")
    }).pipe(Effect.provide(services({
      script: [5003, 5004, 30001, 5005, 5004, 30001, 5005, 5003, 5005, 5004].map((code) => ZegoMock.code(code))
    }))))

  it.effect("the shared codes come from the global table: internal errors and too frequent are retried", () =>
    Effect.gen(function*() {
      const relay = yield* StreamRelay.StreamRelay
      const tags: Array<string> = []
      for (const _ of [5000, 5001, 5002, 5006, 30003, 5007, 30002, 30004, 30005, 30009]) {
        tags.push((yield* Effect.flip(relay.start("s", CDN, noRetry)))._tag)
      }
      assert.deepStrictEqual(tags, [
        ...Array(5).fill("ZegoInternalError"),
        "RateLimitedError",
        "RateLimitedError",
        "InvalidIsTestError",
        "InvalidAppIdError",
        "InvalidStreamIdError"
      ])
      // With the default policy, a 5000 is tried again.
      yield* withTime(relay.clear("s"))
      assert.deepStrictEqual((yield* byAction("ClearCDNTransferRule")).length, 2)
    }).pipe(Effect.provide(services({
      script: [
        ...[5000, 5001, 5002, 5006, 30003, 5007, 30002, 30004, 30005, 30009, 5000].map((code) => ZegoMock.code(code)),
        ZegoMock.success()
      ]
    }))))

  it.effect("the three actions share one budget of 10/s", () =>
    Effect.gen(function*() {
      const relay = yield* StreamRelay.StreamRelay
      const calls = yield* Effect.fork(Effect.all([
        Effect.forEach(Array.from({ length: 8 }), () => relay.start("s", CDN), { concurrency: "unbounded" }),
        Effect.forEach(Array.from({ length: 8 }), () => relay.stop("s", CDN), { concurrency: "unbounded" }),
        Effect.forEach(Array.from({ length: 8 }), () => relay.clear("s"), { concurrency: "unbounded" })
      ], { concurrency: 3 }))
      yield* TestClock.adjust("0 millis")
      assert.lengthOf(yield* requests, 10)
      yield* TestClock.adjust("1 second")
      assert.lengthOf(yield* requests, 20)
      yield* TestClock.adjust("1 second")
      assert.lengthOf(yield* requests, 24)
      yield* Fiber.join(calls)
    }).pipe(Effect.provide(services())))

  it.effect("in the test environment the shared budget is 5/s", () =>
    Effect.gen(function*() {
      const relay = yield* StreamRelay.StreamRelay
      const calls = yield* Effect.fork(Effect.all([
        Effect.forEach(Array.from({ length: 4 }), () => relay.start("s", CDN), { concurrency: "unbounded" }),
        Effect.forEach(Array.from({ length: 4 }), () => relay.clear("s"), { concurrency: "unbounded" })
      ], { concurrency: 2 }))
      yield* TestClock.adjust("0 millis")
      assert.lengthOf(yield* requests, 5)
      yield* TestClock.adjust("1 second")
      assert.lengthOf(yield* requests, 8)
      yield* Fiber.join(calls)
    }).pipe(Effect.provide(services({ isTest: true }))))

  it.effect("layer and make: one service per layer constructor", () =>
    Effect.gen(function*() {
      const made = yield* StreamRelay.make({ appId: APP_ID, serverSecret: SECRET, baseUrl: "http://127.0.0.1:1" })
      assert.strictEqual((yield* made.clear("s")).streamId, "s")
      const invalid = yield* Effect.flip(StreamRelay.make({ appId: -1, serverSecret: SECRET }))
      assert.strictEqual(invalid._tag, "InvalidRequestError")
    }).pipe(Effect.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET }))))
})
