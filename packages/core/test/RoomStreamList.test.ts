// RoomStreams.list (DescribeSimpleStreamList): what is sent, how Data is read (a hostile one included), its two
// budgets (50/s per AppId, 1 per 10 s per room) under TestClock, and its own codes.
import { RateLimit, RoomStreams, ZegoError } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { APP_ID, requests, SECRET, withTime } from "./utils.js"

const noRetry = { retry: Schedule.stop }

const services = (
  options: Omit<ZegoMock.Options, "appId" | "serverSecret"> & {
    readonly services?: Partial<RoomStreams.Options>
  } = {}
) => ZegoMock.layerServices({ appId: APP_ID, serverSecret: SECRET, ...options })

const list = (roomId: string, options?: RoomStreams.CallOptions<RoomStreams.ListError>) =>
  Effect.flatMap(RoomStreams.RoomStreams, (rooms) => rooms.list(roomId, options))

const entry = (streamId: string, extra: Record<string, unknown> = {}) => ({
  StreamId: streamId,
  UserId: "u1",
  UserName: "OBS",
  CreateTime: 1_642_045_110_123,
  StreamNumberId: 7,
  ...extra
})

const answering = (data: unknown) => services({ handler: () => ZegoMock.success(data) })

describe("RoomStreams.list", () => {
  it.effect("sends DescribeSimpleStreamList with the RoomId only (no StreamId, no Sequence); the mock's room is empty", () =>
    Effect.gen(function*() {
      const answer = yield* list("room 1/é")
      assert.deepStrictEqual(answer, { requestId: "mock-1", roomId: "room 1/é", streams: [] })
      const [request] = yield* requests
      assert.strictEqual(request?.action, "DescribeSimpleStreamList")
      assert.strictEqual(request?.params.RoomId, "room 1/é")
      assert.isUndefined(request?.params.StreamId)
      assert.isUndefined(request?.params.Sequence)
    }).pipe(Effect.provide(services())))

  it.effect("decodes Data.StreamList: CreateTime in ms as a Date, the user and the number; extra fields ignored", () =>
    Effect.gen(function*() {
      const answer = yield* list("room-1")
      assert.deepStrictEqual(answer.streams, [
        {
          streamId: "cam",
          userId: "u1",
          userName: "OBS",
          createdAt: new Date(1_642_045_110_123),
          streamNumberId: 7
        },
        { streamId: "cam-2", userId: "u2", userName: "", createdAt: new Date(0), streamNumberId: 4_294_967_295 }
      ])
    }).pipe(Effect.provide(answering({
      StreamList: [
        entry("cam", { Extra: { deep: true } }),
        { StreamId: "cam-2", UserId: "u2", CreateTime: 0, StreamNumberId: 4_294_967_295 }
      ]
    }))))

  it.effect("StreamList null or absent is an empty room", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual((yield* list("a")).streams, [])
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual((yield* list("a")).streams, [])
    }).pipe(Effect.provide(services({ script: [ZegoMock.success({ StreamList: null }), ZegoMock.success({})] }))))

  it.effect("in the test environment: IsTest=true, and the ids as the server sends them, as announce answers them", () =>
    Effect.gen(function*() {
      const rooms = yield* RoomStreams.RoomStreams
      const announced = yield* rooms.announce({ roomId: "room-1", streamId: "cam" })
      const answer = yield* list("room-1")
      assert.deepStrictEqual(answer.streams.map((s) => s.streamId), [`zegotest-${APP_ID}-cam`, "sdk-stream"])
      assert.strictEqual(answer.streams[0]?.streamId, announced.streamId)
      // An id read back and passed to a call again keeps its one prefix.
      yield* rooms.withdraw({ roomId: "room-1", streamId: answer.streams[0]!.streamId })
      const sent = yield* requests
      assert.deepStrictEqual(sent.map((r) => [r.action, r.params.IsTest, r.params.StreamId]), [
        ["AddStream", "true", `zegotest-${APP_ID}-cam`],
        ["DescribeSimpleStreamList", "true", undefined],
        ["DeleteStream", "true", `zegotest-${APP_ID}-cam`]
      ])
    }).pipe(Effect.provide(services({
      services: { isTest: true },
      handler: (request) =>
        request.action === "DescribeSimpleStreamList"
          ? ZegoMock.success({ StreamList: [entry(`zegotest-${APP_ID}-cam`), entry("sdk-stream")] })
          : ZegoMock.success()
    }))))

  const hostile: ReadonlyArray<readonly [string, unknown]> = [
    ["no Data", undefined],
    ["Data a string", "none"],
    ["StreamList an object", { StreamList: { 0: entry("a") } }],
    ["an entry null", { StreamList: [null] }],
    ["StreamId missing", { StreamList: [{ ...entry("a"), StreamId: undefined }] }],
    ["StreamId empty", { StreamList: [entry("")] }],
    ["StreamId of 2000 characters", { StreamList: [entry("s".repeat(2000))] }],
    ["UserId a number", { StreamList: [entry("a", { UserId: 5 })] }],
    ["CreateTime negative", { StreamList: [entry("a", { CreateTime: -1 })] }],
    ["CreateTime a fraction", { StreamList: [entry("a", { CreateTime: 1.5 })] }],
    ["CreateTime past a Date", { StreamList: [entry("a", { CreateTime: 1e300 })] }],
    ["CreateTime a string", { StreamList: [entry("a", { CreateTime: "1642045110123" })] }],
    ["StreamNumberId 2^32", { StreamList: [entry("a", { StreamNumberId: 4_294_967_296 })] }],
    ["10 001 entries", { StreamList: Array.from({ length: 10_001 }, (_, i) => entry(`s${i}`)) }]
  ]
  for (const [name, data] of hostile) {
    it.effect(`hostile Data (${name}) is a ResponseDecodeError, never a defect`, () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(list("room-1", noRetry))
        assert.isTrue(Exit.isFailure(exit))
        const error = yield* Effect.flip(list("room-2", noRetry))
        assert.strictEqual(error._tag, "ResponseDecodeError")
        assert.include(error.message, "Data")
      }).pipe(Effect.provide(services({
        handler: () => data === undefined ? ZegoMock.success(null) : ZegoMock.success(data),
        services: { maxResponseBytes: 8 * 1024 * 1024 }
      }))))
  }

  it.effect("154 is StreamListFailedError, retryable; 206 and 207 are RateLimitedError", () =>
    Effect.gen(function*() {
      const failed = yield* Effect.flip(list("a", noRetry))
      assert.instanceOf(failed, ZegoError.StreamListFailedError)
      assert.isTrue(ZegoError.isRetryable(failed))
      for (const room of ["b", "c"]) {
        const limited = yield* Effect.flip(list(room, noRetry))
        assert.strictEqual(limited._tag, "RateLimitedError")
        assert.include(limited.message, "1 per 10 seconds per RoomId")
      }
    }).pipe(Effect.provide(services({ script: [ZegoMock.code(154), ZegoMock.code(206), ZegoMock.code(207)] }))))

  it.effect("154 is retried by the default policy, the retry waiting for the room's budget (10 s)", () =>
    Effect.gen(function*() {
      const answer = yield* withTime(list("a"), "60 seconds")
      assert.deepStrictEqual(answer.streams, [])
      const sent = yield* requests
      assert.strictEqual(sent.length, 2)
      assert.strictEqual(sent[0]?.receivedAt, 0)
      // The back-off's first delay has passed by then: the retry goes as soon as the room's token is back.
      assert.isTrue(sent[1]!.receivedAt >= 10_000 && sent[1]!.receivedAt < 10_100, String(sent[1]?.receivedAt))
    }).pipe(Effect.provide(services({ script: [ZegoMock.code(154), ZegoMock.success({ StreamList: [] })] }))))
})

describe("RoomStreams.list budgets", () => {
  it.effect("a second call for the same room waits 10 s; another room's goes at once", () =>
    Effect.gen(function*() {
      yield* list("room-1")
      const again = yield* Effect.fork(list("room-1"))
      const other = yield* Effect.fork(list("room-2"))
      yield* Fiber.join(other)
      yield* TestClock.adjust("9999 millis")
      assert.isTrue((yield* Fiber.poll(again))._tag === "None", "still waiting for room-1's budget")
      assert.deepStrictEqual((yield* requests).map((r) => r.params.RoomId), ["room-1", "room-2"])
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(again)
      assert.deepStrictEqual((yield* requests).map((r) => [r.params.RoomId, r.receivedAt]), [
        ["room-1", 0],
        ["room-2", 0],
        ["room-1", 10_000]
      ])
    }).pipe(Effect.provide(services())))

  it.effect("50 calls per second per AppId across rooms: the 51st waits for the next second", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 51 }, (_, i) => list(`room-${i}`)), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("999 millis")
      assert.strictEqual((yield* requests).length, 50)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
      const sent = yield* requests
      assert.strictEqual(sent.length, 51)
      assert.strictEqual(sent[50]?.receivedAt, 1000)
    }).pipe(Effect.provide(services())))

  it.effect("rateLimit false turns the room's budget off too", () =>
    Effect.gen(function*() {
      yield* list("room-1")
      yield* list("room-1")
      assert.strictEqual((yield* requests).length, 2)
    }).pipe(Effect.provide(services({ services: { rateLimit: false } }))))

  it.effect("the room's budget comes from the RateLimitStore as `${appId}:${action}:${roomId}`, 1 per 10 000 ms", () =>
    Effect.gen(function*() {
      yield* list("room-1")
      assert.include(asked, `${APP_ID}:DescribeSimpleStreamList:room-1 1/10000`)
      assert.include(asked, `${APP_ID}:DescribeSimpleStreamList 50/1000`)
    }).pipe(Effect.provide(services().pipe(Layer.provide(RateLimit.layerStore(recording))))))

  it.effect("the per-room limiters are bounded: idle ones are forgotten once many rooms were asked, busy ones kept", () =>
    Effect.gen(function*() {
      asked.length = 0
      const rooms = (from: number, to: number) =>
        Effect.all(Array.from({ length: to - from }, (_, i) => list(`r${from + i}`)), { concurrency: 64 })
      yield* rooms(0, 200)
      yield* TestClock.adjust("20 seconds")
      // The 257th room sweeps: r0 … r199 have been idle for a window and are forgotten; r200 … r255 are not.
      yield* rooms(200, 257)
      yield* list("r1")
      const keyOf = (room: string) => `${APP_ID}:DescribeSimpleStreamList:${room} 1/10000`
      assert.strictEqual(asked.filter((key) => key === keyOf("r1")).length, 2, "r1 has a new limiter")
      // r200's limiter was kept (its token is not back): a new call for it still waits for it.
      const again = yield* Effect.fork(list("r200"))
      yield* TestClock.adjust("9 seconds")
      assert.isTrue((yield* Fiber.poll(again))._tag === "None")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(again)
      assert.strictEqual(asked.filter((key) => key === keyOf("r200")).length, 1)
    }).pipe(Effect.provide(
      services({ services: { rateLimit: { limit: 100_000, window: "1 second" } } }).pipe(
        Layer.provide(RateLimit.layerStore(recording))
      )
    )))
})

const asked: Array<string> = []
const recording: RateLimit.Store = {
  limiter: (options) =>
    Effect.zipRight(
      Effect.sync(() => asked.push(`${options.key} ${options.limit}/${options.windowMillis}`)),
      RateLimit.inProcess.limiter(options)
    )
}
