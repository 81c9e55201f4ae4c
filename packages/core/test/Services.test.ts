import { RateLimit, RoomStreams, RtmpDispatch, StreamControl, StreamState, ZegoError } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { APP_ID, requests, SECRET, SECRET_TEXT, withTime } from "./utils.js"

const noRetry = { retry: Schedule.stop }

const services = (
  options: Omit<ZegoMock.Options, "appId" | "serverSecret"> & {
    readonly services?: Partial<RoomStreams.Options>
  } = {}
) => ZegoMock.layerServices({ appId: APP_ID, serverSecret: SECRET, ...options })

const byAction = (action: string) => Effect.map(requests, (all) => all.filter((request) => request.action === action))

describe("StreamState.describe", () => {
  it.effect("sends DescribeRTCStreamState with StreamId and a Sequence, signed; Code 0 is active", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_500)
      const state = yield* (yield* StreamState.StreamState).describe("obs-1")
      const [request] = yield* requests
      assert.strictEqual(request?.action, "DescribeRTCStreamState")
      assert.strictEqual(request?.params.StreamId, "obs-1")
      assert.match(request!.params.Sequence!, /^\d+$/)
      assert.strictEqual(request?.params.AppId, String(APP_ID))
      assert.strictEqual(request?.params.Timestamp, "1700000000")
      assert.isUndefined(request?.params.Type)
      assert.deepStrictEqual(state, {
        state: "active",
        requestId: "mock-1",
        streamId: "obs-1",
        createdAt: new Date(1_700_000_000_000)
      })
    }).pipe(Effect.provide(services())))

  it.effect("41006 is a closed stream, with its times; the caller's Sequence is sent", () =>
    Effect.gen(function*() {
      const state = yield* (yield* StreamState.StreamState).describe("obs-1", { sequence: 7 })
      assert.deepStrictEqual(state, {
        state: "closed",
        requestId: "mock-1",
        streamId: "obs-1",
        createdAt: new Date(1_600_000_000_000),
        closedAt: new Date(1_600_000_060_000)
      })
      assert.strictEqual((yield* requests)[0]?.params.Sequence, "7")
    }).pipe(Effect.provide(services({
      script: [{
        _tag: "Envelope",
        code: 41006,
        message: "stream closed",
        status: 200,
        data: { create_time: "1600000000", close_time: "1600000060" }
      }]
    }))))

  it.effect("41004 is StreamNotFoundError, not retried", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* StreamState.StreamState).describe("gone"))
      assert.strictEqual(error._tag, "StreamNotFoundError")
      assert.isTrue(error._tag === "StreamNotFoundError" && !error.retryable && error.code === 41004)
      assert.lengthOf(yield* requests, 1)
    }).pipe(Effect.provide(services({ script: [ZegoMock.code(41004, "stream not exist")] }))))

  for (
    const [name, data, code] of [
      ["a time that is not digits", { create_time: "1e9" }, 0],
      ["a time that is an object", { create_time: {} }, 0],
      ["no Data at all", undefined, 0],
      ["Data that is an array", [1, 2], 0],
      ["a closed stream without close_time", { create_time: "1600000000" }, 41006]
    ] as const
  ) {
    it.effect(`hostile Data (${name}) is a ResponseDecodeError`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip((yield* StreamState.StreamState).describe("s", noRetry))
        assert.strictEqual(error._tag, "ResponseDecodeError")
        assert.include(error.message, "Data")
      }).pipe(Effect.provide(services({
        script: [{ _tag: "Envelope", code, message: "ok", status: 200, data }]
      }))))
  }

  it.effect("the shared codes map through the global table; another action's code is unknown here", () =>
    Effect.gen(function*() {
      const state = yield* StreamState.StreamState
      const tags: Array<string> = []
      for (let i = 0; i < 6; i++) tags.push((yield* Effect.flip(state.describe("s", noRetry)))._tag)
      assert.deepStrictEqual(tags, [
        "InvalidAppIdError",
        "SignatureExpiredError",
        "AuthenticationError",
        "AuthenticationError",
        "UnknownCodeError",
        "ZegoInternalError"
      ])
    }).pipe(Effect.provide(services({
      script: [3000, 3002, 3003, 40005, 1002, 5006].map((code) => ZegoMock.code(code))
    }))))
})

describe("StreamControl", () => {
  it.effect("forbid and resume send their actions; the Sequence strictly increases per stream", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const control = yield* StreamControl.StreamControl
      const forbidden = yield* control.forbid("obs-1")
      yield* control.resume("obs-1")
      yield* control.forbid("obs-1")
      const sent = yield* requests
      assert.deepStrictEqual(sent.map((r) => r.action), ["ForbidRTCStream", "ResumeRTCStream", "ForbidRTCStream"])
      const sequences = sent.map((r) => Number(r.params.Sequence))
      assert.isTrue(sequences[0]! < sequences[1]! && sequences[1]! < sequences[2]!, `${sequences}`)
      assert.deepStrictEqual(forbidden, { requestId: "mock-1", streamId: "obs-1" })
    }).pipe(Effect.provide(services())))

  it.effect("each attempt sends a Sequence of its own: a retry after a 5xx or a time-out never repeats one", () =>
    Effect.gen(function*() {
      // A frozen clock: the counter alone must keep the attempts apart.
      yield* TestClock.setTime(1_700_000_000_000)
      const control = yield* StreamControl.StreamControl
      yield* withTime(control.forbid("obs-1"))
      const sent = yield* requests
      assert.lengthOf(sent, 3)
      const sequences = sent.map((r) => BigInt(r.params.Sequence!))
      assert.isTrue(sequences[0]! < sequences[1]! && sequences[1]! < sequences[2]!, `${sequences}`)
    }).pipe(Effect.provide(services({
      script: [ZegoMock.raw(503, "busy"), ZegoMock.delay("6 seconds", ZegoMock.success()), ZegoMock.success()]
    }))))

  it.effect("a caller's Sequence goes on the first attempt; each retry sends the next number up", () =>
    Effect.gen(function*() {
      const control = yield* StreamControl.StreamControl
      yield* withTime(control.resume("obs-1", { sequence: 7 }))
      // At the top of the Int64 range there is no number above: the largest is sent again.
      yield* withTime(control.resume("obs-2", { sequence: 9_223_372_036_854_775_806n }))
      assert.deepStrictEqual((yield* requests).map((r) => r.params.Sequence), [
        "7",
        "8",
        "9",
        "9223372036854775806",
        "9223372036854775807",
        "9223372036854775807"
      ])
    }).pipe(Effect.provide(services({
      script: [503, 502, 0, 503, 502, 0].map((status) =>
        status === 0 ? ZegoMock.success() : ZegoMock.raw(status, "bad gateway")
      )
    }))))

  it.effect("in the test environment: IsTest=true and the zegotest-<AppId>- prefix", () =>
    Effect.gen(function*() {
      const result = yield* (yield* StreamControl.StreamControl).forbid("obs-1")
      const [request] = yield* requests
      assert.strictEqual(request?.params.IsTest, "true")
      assert.strictEqual(request?.params.StreamId, `zegotest-${APP_ID}-obs-1`)
      assert.strictEqual(result.streamId, `zegotest-${APP_ID}-obs-1`)
    }).pipe(Effect.provide(services({ services: { isTest: true } }))))

  it.effect("an invalid stream id is refused locally", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* StreamControl.StreamControl).forbid("no spaces"))
      assert.strictEqual(error._tag, "InvalidRequestError")
      assert.lengthOf(yield* requests, 0)
    }).pipe(Effect.provide(services())))
})

describe("RoomStreams", () => {
  it.effect("announce sends AddStream as the server user, every text escaped, CensorFlag as 0/1", () =>
    Effect.gen(function*() {
      const rooms = yield* RoomStreams.RoomStreams
      const result = yield* rooms.announce({
        roomId: "room 1&x=y",
        streamId: "obs-1",
        title: "Ça commence 🎥",
        extraInfo: "{\"k\":1}",
        censor: true
      })
      const [request] = yield* requests
      assert.strictEqual(request?.action, "AddStream")
      assert.deepInclude(request?.params, {
        RoomId: "room 1&x=y",
        UserId: "Server-Administrator",
        StreamId: "obs-1",
        StreamTitle: "Ça commence 🎥",
        ExtraInfo: "{\"k\":1}",
        CensorFlag: "1"
      })
      assert.isUndefined(request?.params.Sequence)
      assert.isUndefined(request?.params.UserName)
      assert.deepStrictEqual(result, { requestId: "mock-1", roomId: "room 1&x=y", streamId: "obs-1" })
    }).pipe(Effect.provide(services())))

  it.effect("withdraw sends DeleteStream; the server user is configurable, and a call may name its own", () =>
    Effect.gen(function*() {
      const rooms = yield* RoomStreams.RoomStreams
      assert.strictEqual(rooms.serverUserId, "backend-1")
      yield* rooms.withdraw({ roomId: "r", streamId: "obs-1" })
      yield* rooms.withdraw({ roomId: "r", streamId: "obs-1", userId: "u2", userName: "Two" })
      const [first, second] = yield* requests
      assert.deepInclude(first?.params, { Action: "DeleteStream", UserId: "backend-1", UserName: "Backend" })
      assert.deepInclude(second?.params, { Action: "DeleteStream", UserId: "u2", UserName: "Two" })
    }).pipe(Effect.provide(services({ services: { serverUserId: "backend-1", serverUserName: "Backend" } }))))

  it.effect("the byte limits are checked locally (UTF-8), and nothing is sent", () =>
    Effect.gen(function*() {
      const rooms = yield* RoomStreams.RoomStreams
      // 64 × "é" is 64 characters but 128 bytes.
      const title = yield* Effect.flip(rooms.announce({ roomId: "r", streamId: "s", title: "é".repeat(64) }))
      const extra = yield* Effect.flip(rooms.announce({ roomId: "r", streamId: "s", extraInfo: "x".repeat(1025) }))
      const stream = yield* Effect.flip(rooms.withdraw({ roomId: "r", streamId: "s".repeat(257) }))
      const surrogate = yield* Effect.flip(rooms.announce({ roomId: "\uD800", streamId: "s" }))
      assert.deepStrictEqual([title._tag, extra._tag, stream._tag, surrogate._tag], [
        "InvalidRequestError",
        "InvalidRequestError",
        "InvalidRequestError",
        "InvalidRequestError"
      ])
      assert.include(title.message, "127 UTF-8 bytes")
      assert.include(extra.message, "1024 UTF-8 bytes")
      assert.lengthOf(yield* requests, 0)
      // At the limit, it goes.
      yield* rooms.announce({ roomId: "r", streamId: "s", title: "é".repeat(63) + "x", extraInfo: "x".repeat(1024) })
      assert.lengthOf(yield* requests, 1)
    }).pipe(Effect.provide(services())))

  it.effect("123 and 124 are retried (StreamUpdateFailedError); 1012 and 138 are not", () =>
    Effect.gen(function*() {
      const rooms = yield* RoomStreams.RoomStreams
      yield* withTime(rooms.announce({ roomId: "r", streamId: "s" }))
      yield* withTime(rooms.withdraw({ roomId: "r", streamId: "s" }))
      assert.lengthOf(yield* requests, 4)
      const conflict = yield* Effect.flip(rooms.announce({ roomId: "r", streamId: "s" }))
      const missing = yield* Effect.flip(rooms.withdraw({ roomId: "r", streamId: "s" }))
      assert.strictEqual(conflict._tag, "StreamConflictError")
      assert.strictEqual(missing._tag, "StreamInfoNotFoundError")
      assert.lengthOf(yield* requests, 6)
      const failed = yield* Effect.flip(rooms.announce({ roomId: "r", streamId: "s" }, noRetry))
      assert.isTrue(failed._tag === "StreamUpdateFailedError" && failed.retryable && failed.code === 123)
    }).pipe(Effect.provide(services({
      script: [
        ZegoMock.code(123),
        ZegoMock.success(),
        ZegoMock.code(124),
        ZegoMock.success(),
        ZegoMock.code(1012),
        ZegoMock.code(138),
        ZegoMock.code(123)
      ]
    }))))

  it.effect("an invalid server user id is an InvalidRequestError of the layer", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.provide(RoomStreams.RoomStreams, services({ services: { serverUserId: "" } }))
      )
      assert.strictEqual(error._tag, "InvalidRequestError")
      assert.include(error.message, "serverUserId")
    }))
})

describe("per-action rate budgets", () => {
  it.effect("dispatch at 40/s does not starve forbid at 20/s", () =>
    Effect.gen(function*() {
      const dispatch = yield* RtmpDispatch.RtmpDispatch
      const control = yield* StreamControl.StreamControl
      const dispatches = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 120 }), () => dispatch.dispatch({ streamId: "s", type: "pull" }), {
          concurrency: "unbounded"
        })
      )
      const forbids = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 20 }), () => control.forbid("s"), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("0 millis")
      // At once: the whole forbid budget, and the whole dispatch budget, whatever the queue of the other.
      assert.lengthOf(yield* byAction("ForbidRTCStream"), 20)
      assert.lengthOf(yield* byAction("RTMPDispatchV2"), 40)
      yield* Fiber.join(forbids)
      yield* TestClock.adjust("1 second")
      assert.lengthOf(yield* byAction("RTMPDispatchV2"), 80)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(dispatches)
    }).pipe(Effect.provide(services())))

  it.effect("forbid at 20/s does not starve dispatch; resume has a budget of its own", () =>
    Effect.gen(function*() {
      const dispatch = yield* RtmpDispatch.RtmpDispatch
      const control = yield* StreamControl.StreamControl
      const forbids = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 60 }), () => control.forbid("s"), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("0 millis")
      yield* Effect.forEach(Array.from({ length: 40 }), () => dispatch.dispatch({ streamId: "s", type: "pull" }), {
        concurrency: "unbounded"
      })
      yield* Effect.forEach(Array.from({ length: 20 }), () => control.resume("s"), { concurrency: "unbounded" })
      assert.lengthOf(yield* byAction("ForbidRTCStream"), 20)
      assert.lengthOf(yield* byAction("RTMPDispatchV2"), 40)
      assert.lengthOf(yield* byAction("ResumeRTCStream"), 20)
      yield* TestClock.adjust("1 second")
      assert.lengthOf(yield* byAction("ForbidRTCStream"), 40)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(forbids)
    }).pipe(Effect.provide(services())))

  it.effect("the two dispatch actions share one budget of 40/s", () =>
    Effect.gen(function*() {
      const dispatch = yield* RtmpDispatch.RtmpDispatch
      const all = yield* Effect.fork(Effect.all([
        Effect.forEach(Array.from({ length: 30 }), () => dispatch.dispatch({ streamId: "s", type: "pull" }), {
          concurrency: "unbounded"
        }),
        Effect.forEach(
          Array.from({ length: 30 }),
          () => dispatch.dispatchAddresses({ streamId: "s", type: "pull" }),
          { concurrency: "unbounded" }
        )
      ], { concurrency: 2 }))
      yield* TestClock.adjust("0 millis")
      assert.lengthOf(yield* requests, 40)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(all)
    }).pipe(Effect.provide(services())))

  it.effect("the test environment's budgets are lower: 10/s describe, 5/s forbid, 1/s announce", () =>
    Effect.gen(function*() {
      const state = yield* StreamState.StreamState
      const control = yield* StreamControl.StreamControl
      const rooms = yield* RoomStreams.RoomStreams
      const fibers = yield* Effect.fork(Effect.all([
        Effect.forEach(Array.from({ length: 20 }), () => state.describe("s"), { concurrency: "unbounded" }),
        Effect.forEach(Array.from({ length: 10 }), () => control.forbid("s"), { concurrency: "unbounded" }),
        Effect.forEach(Array.from({ length: 2 }), () => rooms.announce({ roomId: "r", streamId: "s" }), {
          concurrency: "unbounded"
        })
      ], { concurrency: 3 }))
      yield* TestClock.adjust("0 millis")
      assert.lengthOf(yield* byAction("DescribeRTCStreamState"), 10)
      assert.lengthOf(yield* byAction("ForbidRTCStream"), 5)
      assert.lengthOf(yield* byAction("AddStream"), 1)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fibers)
    }).pipe(Effect.provide(services({ services: { isTest: true } }))))
})

describe("budget keys in a shared store", () => {
  it.effect("`${appId}` for the two dispatch actions (one limiter), `${appId}:${action}` for each other", () =>
    Effect.gen(function*() {
      const asked: Array<string> = []
      const store: RateLimit.Store = {
        limiter: ({ key, limit, windowMillis }) =>
          Effect.sync(() => {
            asked.push(`${key} ${limit}/${windowMillis}`)
            return RateLimit.unlimited
          })
      }
      yield* Effect.provide(
        Effect.void,
        services({ services: { isTest: true } }).pipe(Layer.provide(RateLimit.layerStore(store)))
      )
      assert.sameMembers(asked, [
        `${APP_ID} 40/1000`,
        `${APP_ID}:DescribeRTCStreamState 10/1000`,
        `${APP_ID}:ForbidRTCStream 5/1000`,
        `${APP_ID}:ResumeRTCStream 5/1000`,
        `${APP_ID}:AddStream 1/1000`,
        `${APP_ID}:DeleteStream 1/1000`,
        `${APP_ID}:DescribeSimpleStreamList 50/1000`,
        `${APP_ID}:CDNTransferRule 5/1000`
      ])
    }))
})

describe("the error table", () => {
  it("each action's own codes: their errors and retryability", () => {
    const fields = { serverMessage: "m", requestId: "r" }
    const cases = [
      [41004, "DescribeRTCStreamState", "StreamNotFoundError", false],
      [138, "DeleteStream", "StreamInfoNotFoundError", false],
      [1012, "AddStream", "StreamConflictError", false],
      [1012, "DeleteStream", "StreamConflictError", false],
      [123, "AddStream", "StreamUpdateFailedError", true],
      [124, "DeleteStream", "StreamUpdateFailedError", true],
      [104, "AddStream", "RoomNotFoundError", false],
      [5024, "DeleteStream", "RoomNotFoundError", false],
      [50001, "AddStream", "RoomNotFoundError", false],
      [206, "AddStream", "RateLimitedError", true],
      [207, "DeleteStream", "RateLimitedError", true],
      [104, "DescribeRTCStreamState", "UnknownCodeError", false],
      [41004, "RTMPDispatchV2", "UnknownCodeError", false],
      [1002, "RTMPDispatchV2", "NoPublishNodeError", false],
      [1002, "ForbidRTCStream", "UnknownCodeError", false]
    ] as const
    for (const [code, action, tag, retryable] of cases) {
      const error = ZegoError.fromCode({ ...fields, code, action })
      assert.deepStrictEqual([error._tag, error.retryable], [tag, retryable], `${code} from ${action}`)
      assert.isTrue(ZegoError.isZegoError(error))
    }
    for (const code of [41004, 138, 1012, 123, 124, 3000, 3002, 3003, 40005]) {
      assert.include(ZegoError.knownCodes, code)
    }
  })
})

describe("the layer constructors", () => {
  const env = ConfigProvider.fromMap(
    new Map([["ZEGO_APP_ID", String(APP_ID)], ["ZEGO_SERVER_SECRET", SECRET_TEXT], [
      "ZEGO_BASE_URL",
      "http://127.0.0.1:1"
    ]])
  )
  const mock = ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET })
  const fromEnv = <I>(layer: Layer.Layer<I, unknown, HttpClient.HttpClient>) =>
    layer.pipe(Layer.provideMerge(mock), Layer.provide(Layer.setConfigProvider(env)))

  it.effect("StreamState.layerConfig, StreamControl.layerConfig, RoomStreams.layerConfig read ZEGO_*", () =>
    Effect.gen(function*() {
      yield* (yield* StreamState.StreamState).describe("s")
      yield* (yield* StreamControl.StreamControl).forbid("s")
      yield* (yield* RoomStreams.RoomStreams).announce({ roomId: "r", streamId: "s" })
      assert.deepStrictEqual((yield* requests).map((r) => r.action), [
        "DescribeRTCStreamState",
        "ForbidRTCStream",
        "AddStream"
      ])
    }).pipe(Effect.provide(Layer.mergeAll(
      fromEnv(StreamState.layerConfig()),
      fromEnv(StreamControl.layerConfig()),
      fromEnv(RoomStreams.layerConfig())
    ))))

  it.effect("an invalid option is an InvalidRequestError of the layer, naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.provide(
        StreamControl.StreamControl,
        StreamControl.layer({ appId: APP_ID, serverSecret: SECRET, baseUrl: "http://example.com" }).pipe(
          Layer.provide(mock)
        )
      ))
      assert.strictEqual(error._tag, "InvalidRequestError")
      assert.include(error.message, "baseUrl")
    }))
})

describe("hostile Data, as a property", () => {
  it.effect("any JSON as DescribeRTCStreamState's Data (Code 0 or 41006): a State or a ResponseDecodeError", () =>
    Effect.promise(() =>
      FastCheck.assert(
        FastCheck.asyncProperty(
          FastCheck.jsonValue(),
          FastCheck.constantFrom(0, 41006),
          (data, code) =>
            Effect.runPromise(
              Effect.gen(function*() {
                const exit = yield* Effect.exit((yield* StreamState.StreamState).describe("s", noRetry))
                if (Exit.isSuccess(exit)) return
                const error = Cause.failureOption(exit.cause)
                assert.isTrue(
                  Option.isSome(error) && error.value._tag === "ResponseDecodeError",
                  `not a ResponseDecodeError: ${Cause.pretty(exit.cause)}`
                )
              }).pipe(
                Effect.provide(services({ script: [{ _tag: "Envelope", code, message: "ok", status: 200, data }] }))
              )
            )
        ),
        { numRuns: 200 }
      )
    ))
})
