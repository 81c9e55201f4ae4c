/**
 * The stream actions over real HTTP with signed requests: DescribeRTCStreamState from the stream model (simulated
 * publishes and nginx-rtmp's hooks), ForbidRTCStream / ResumeRTCStream, AddStream / DeleteStream into rooms, the
 * Sequence rule, each action's rate limit per AppId and environment, the test-environment prefix, and fault rules.
 */
import { Actions } from "@effect-zego/core"
import { Emulator, Fault } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { baseOptions, prodApp, rawCall, signedParams, testApp, withEmulator } from "./utils.js"

/** A Sequence larger than every one before it in this file: the rule is per StreamId within any 10 seconds. */
let sequence = 0
const nextSequence = () => String(++sequence)

/** A signed call of `action` for `app` with `params` (`undefined` removes one); its envelope. */
const call = (
  app: Emulator.AppConfig,
  action: string,
  params: Record<string, string | undefined> = {}
) =>
  Effect.flatMap(
    signedParams(app, { Action: action, Type: undefined, Sequence: nextSequence(), ...params }),
    (query) => Effect.map(rawCall(query), (answer) => answer.body)
  )

const code = (app: Emulator.AppConfig, action: string, params: Record<string, string | undefined> = {}) =>
  Effect.map(call(app, action, params), (body) => body.Code)

const describeState = (streamId: string) => call(prodApp, "DescribeRTCStreamState", { StreamId: streamId })

/** POSTs a form to one of nginx-rtmp's hooks as nginx does: the status and body. */
const hook = (url: string, fields: Record<string, string>) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ app: "live", addr: "127.0.0.1", clientid: "7", ...fields }).toString()
    })
    return { status: response.status, body: await response.text() }
  })

const roomOptions: Emulator.Options = { ...baseOptions, rooms: ["room-1"] }

describe("DescribeRTCStreamState", () => {
  it.effect("41004 before a publish; 0 while published (create_time, close_time 0); 41006 once closed", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const never = yield* describeState("cam")
      assert.strictEqual(never.Code, 41004)
      assert.notProperty(never, "Data")
      yield* TestClock.adjust("5 seconds")
      assert.deepStrictEqual(yield* emulator.publish("cam"), { allowed: true, reason: "stream cam is active" })
      const active = yield* describeState("cam")
      assert.strictEqual(active.Code, 0)
      assert.deepStrictEqual(active.Data, { create_time: "5", close_time: "0" })
      yield* TestClock.adjust("3 seconds")
      yield* emulator.unpublish("cam")
      const closed = yield* describeState("cam")
      assert.strictEqual(closed.Code, 41006)
      assert.deepStrictEqual(closed.Data, { create_time: "5", close_time: "8" })
      assert.deepStrictEqual(yield* emulator.streamState("cam"), { _tag: "Closed", createdAt: 5000, closedAt: 8000 })
    }).pipe(withEmulator()))

  it.effect("a closed stream is remembered for the history window (10 minutes by default), then 41004", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.publish("cam")
      yield* emulator.unpublish("cam")
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual((yield* describeState("cam")).Code, 41006)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* describeState("cam")).Code, 41004)
    }).pipe(withEmulator()))

  it.effect("streamHistory sets the window; a stream published again is active with a new create time", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.publish("cam")
      yield* emulator.unpublish("cam")
      yield* TestClock.adjust("31 seconds")
      assert.strictEqual((yield* describeState("cam")).Code, 41004)
      yield* emulator.publish("cam")
      assert.deepStrictEqual((yield* describeState("cam")).Data, { create_time: "31", close_time: "0" })
    }).pipe(withEmulator({ ...baseOptions, streamHistory: "30 seconds" })))

  it.effect("active while any publisher holds it: nginx-rtmp's on_publish / on_publish_done and simulated ones", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const push = yield* call(prodApp, "RTMPDispatchV2", { StreamId: "cam", Type: "push" })
      assert.strictEqual(push.Code, 0)
      assert.strictEqual((yield* hook(emulator.onPublishUrl, { call: "publish", name: "cam" })).status, 200)
      yield* emulator.publish("cam")
      assert.strictEqual((yield* describeState("cam")).Code, 0)
      const done = yield* hook(emulator.onPublishDoneUrl, { call: "publish_done", name: "cam" })
      assert.deepStrictEqual(done, { status: 200, body: "a publisher of stream cam left; the stream is active" })
      assert.strictEqual((yield* describeState("cam")).Code, 0)
      yield* emulator.unpublish("cam")
      assert.strictEqual((yield* describeState("cam")).Code, 41006)
      const hooks = yield* emulator.streamHooks
      assert.deepStrictEqual(hooks.map(({ hook, name, status }) => ({ hook, name, status })), [
        { hook: "on_publish_done", name: "cam", status: 200 }
      ])
      assert.lengthOf(yield* emulator.publishChecks, 1, "publishChecks lists on_publish only")
    }).pipe(withEmulator()))
})

describe("the on_publish_done and on_update hooks", () => {
  it.effect("keep the bounds of on_publish: 405 for another method, 413 past 64 KiB, 400 without a name; logged apart", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (const url of [emulator.onPublishDoneUrl, emulator.onUpdateUrl]) {
        const get = yield* Effect.promise(() => fetch(url).then((response) => response.status))
        assert.strictEqual(get, 405)
        const call = url === emulator.onUpdateUrl ? "update_publish" : "publish_done"
        assert.strictEqual((yield* hook(url, { call, name: "x".repeat(70 * 1024) })).status, 413)
        assert.strictEqual((yield* hook(url, { call, name: "" })).status, 400)
      }
      assert.strictEqual((yield* hook(emulator.onPublishDoneUrl, { call: "publish", name: "cam" })).status, 400)
      const hooks = yield* emulator.streamHooks
      assert.deepStrictEqual(hooks.map((call) => [call.hook, call.status]), [
        ["on_publish_done", 405],
        ["on_publish_done", 413],
        ["on_publish_done", 400],
        ["on_update", 405],
        ["on_update", 413],
        ["on_update", 400],
        ["on_publish_done", 400]
      ])
      assert.lengthOf(yield* emulator.publishChecks, 0)
      assert.lengthOf(yield* emulator.requests, 0, "hook calls are not API requests")
    }).pipe(withEmulator()))
})

describe("ForbidRTCStream and ResumeRTCStream", () => {
  it.effect("forbid: on_publish and a simulated publish are refused; resume: allowed again", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      assert.strictEqual(yield* code(prodApp, "RTMPDispatchV2", { StreamId: "cam", Type: "push" }), 0)
      const forbid = yield* call(prodApp, "ForbidRTCStream", { StreamId: "cam" })
      assert.strictEqual(forbid.Code, 0)
      assert.notProperty(forbid, "Data")
      const refused = yield* hook(emulator.onPublishUrl, { call: "publish", name: "cam" })
      assert.deepStrictEqual(refused, {
        status: 403,
        body: "stream cam is forbidden (ForbidRTCStream; ResumeRTCStream lifts it)"
      })
      assert.isFalse((yield* emulator.publish("cam")).allowed)
      assert.strictEqual((yield* describeState("cam")).Code, 41004)
      assert.strictEqual(yield* code(prodApp, "ResumeRTCStream", { StreamId: "cam" }), 0)
      assert.strictEqual((yield* hook(emulator.onPublishUrl, { call: "publish", name: "cam" })).status, 200)
      assert.strictEqual((yield* describeState("cam")).Code, 0)
      assert.strictEqual(yield* code(prodApp, "ResumeRTCStream", { StreamId: "never-forbidden" }), 0)
    }).pipe(withEmulator()))

  it.effect("forbid while live: on_update answers 403 (nginx-rtmp drops the publisher), then on_publish_done closes", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      assert.strictEqual(yield* code(prodApp, "RTMPDispatchV2", { StreamId: "cam", Type: "push" }), 0)
      assert.strictEqual((yield* hook(emulator.onPublishUrl, { call: "publish", name: "cam" })).status, 200)
      assert.strictEqual((yield* hook(emulator.onUpdateUrl, { call: "update_publish", name: "cam" })).status, 200)
      assert.strictEqual(yield* code(prodApp, "ForbidRTCStream", { StreamId: "cam" }), 0)
      const update = yield* hook(emulator.onUpdateUrl, { call: "update_publish", name: "cam" })
      assert.deepStrictEqual(update, {
        status: 403,
        body: "stream cam is forbidden (ForbidRTCStream): its publisher is dropped"
      })
      assert.strictEqual((yield* hook(emulator.onUpdateUrl, { call: "update_play", name: "cam" })).status, 200)
      assert.strictEqual((yield* describeState("cam")).Code, 0, "active until nginx says the publisher left")
      yield* hook(emulator.onPublishDoneUrl, { call: "publish_done", name: "cam" })
      assert.strictEqual((yield* describeState("cam")).Code, 41006)
    }).pipe(withEmulator()))

  it.effect("forbid while a simulated publisher is live: dropped at once, the stream closed", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.publish("cam")
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* code(prodApp, "ForbidRTCStream", { StreamId: "cam" }), 0)
      const closed = yield* describeState("cam")
      assert.deepStrictEqual([closed.Code, closed.Data], [41006, { create_time: "0", close_time: "2" }])
    }).pipe(withEmulator()))
})

describe("the Sequence of the stream actions", () => {
  it.effect("must be a non-negative Int64, strictly increasing per StreamId within any 10 seconds; else 1006", () =>
    Effect.gen(function*() {
      const describeWith = (StreamId: string, Sequence: string | undefined) =>
        code(prodApp, "DescribeRTCStreamState", { StreamId, Sequence })
      const base = 1_000_000 + sequence
      assert.strictEqual(yield* describeWith("a", undefined), 1006)
      assert.strictEqual(yield* describeWith("a", "-1"), 1006)
      assert.strictEqual(yield* describeWith("a", "9223372036854775808"), 1006)
      assert.strictEqual(yield* describeWith("a", String(base)), 41004)
      assert.strictEqual(yield* describeWith("a", String(base)), 1006, "the same again")
      assert.strictEqual(yield* describeWith("a", String(base - 1)), 1006, "smaller")
      assert.strictEqual(yield* code(prodApp, "ForbidRTCStream", { StreamId: "a", Sequence: String(base) }), 1006)
      assert.strictEqual(yield* describeWith("b", String(base - 1)), 41004, "another stream")
      assert.strictEqual(yield* describeWith("a", String(base + 1)), 41004)
      yield* TestClock.adjust("9999 millis")
      assert.strictEqual(yield* describeWith("a", "1"), 1006)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* describeWith("a", "1"), 41004, "10 seconds after the last one")
    }).pipe(withEmulator()))
})

describe("AddStream and DeleteStream", () => {
  const add = (params: Record<string, string | undefined> = {}) =>
    call(prodApp, "AddStream", {
      RoomId: "room-1",
      UserId: "Server-Administrator",
      StreamId: "cam",
      Sequence: undefined,
      ...params
    })
  const remove = (params: Record<string, string | undefined> = {}) =>
    call(prodApp, "DeleteStream", {
      RoomId: "room-1",
      UserId: "Server-Administrator",
      StreamId: "cam",
      Sequence: undefined,
      ...params
    })

  it.effect("the demo rooms (lobby, match-room) exist when the options name no rooms, as the READMEs' examples need", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(Emulator.demoRooms, ["lobby", "match-room"])
      for (const RoomId of Emulator.demoRooms) {
        assert.strictEqual((yield* add({ RoomId, StreamId: `in-${RoomId}` })).Code, 0, RoomId)
        assert.strictEqual((yield* remove({ RoomId, StreamId: `in-${RoomId}` })).Code, 0, RoomId)
      }
    }).pipe(withEmulator()))

  it.effect("rooms: [] means none, not the demo rooms: AddStream into lobby answers 104", () =>
    Effect.gen(function*() {
      const missing = yield* add({ RoomId: "lobby" })
      assert.strictEqual(missing.Code, 104)
      assert.include(missing.Message, "room lobby does not exist")
    }).pipe(withEmulator({ ...baseOptions, rooms: [] })))

  it.effect("AddStream into a missing room: 104; into a room of the options or createRoom: 0, recorded", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const missing = yield* add({ RoomId: "room-2" })
      assert.strictEqual(missing.Code, 104)
      assert.include(missing.Message, "room room-2 does not exist")
      assert.strictEqual(
        (yield* add({ UserName: "admin", StreamTitle: "Live", ExtraInfo: "{\"obs\":true}", CensorFlag: "1" })).Code,
        0
      )
      yield* emulator.createRoom("room-2")
      assert.strictEqual((yield* add({ RoomId: "room-2", StreamId: "cam-2" })).Code, 0)
      const announced = yield* emulator.announced
      assert.deepStrictEqual(
        announced.map(({ announcedAt: _, ...rest }) => rest),
        [
          {
            roomId: "room-1",
            userId: "Server-Administrator",
            userName: "admin",
            streamId: "cam",
            streamTitle: "Live",
            extraInfo: "{\"obs\":true}",
            censorFlag: 1
          },
          {
            roomId: "room-2",
            userId: "Server-Administrator",
            userName: undefined,
            streamId: "cam-2",
            streamTitle: undefined,
            extraInfo: undefined,
            censorFlag: undefined
          }
        ]
      )
      const records = yield* emulator.announcements
      assert.deepStrictEqual(records.map((r) => [r.action, r.roomId, r.streamId, r.appId]), [
        ["AddStream", "room-1", "cam", prodApp.appId],
        ["AddStream", "room-2", "cam-2", prodApp.appId]
      ])
    }).pipe(withEmulator(roomOptions)))

  it.effect("another user or room operating an announced stream: 1012; the same user again updates it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.createRoom("room-2")
      assert.strictEqual((yield* add()).Code, 0)
      assert.strictEqual((yield* add({ UserId: "someone-else" })).Code, 1012)
      assert.strictEqual((yield* add({ RoomId: "room-2" })).Code, 1012)
      assert.strictEqual((yield* remove({ UserId: "someone-else" })).Code, 1012)
      assert.strictEqual((yield* add({ StreamTitle: "Renamed" })).Code, 0)
      assert.deepStrictEqual((yield* emulator.announced).map((a) => a.streamTitle), ["Renamed"])
    }).pipe(withEmulator(roomOptions)))

  it.effect("DeleteStream of a stream not announced there: 138; of an announced one: 0, withdrawn", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const unknown = yield* remove()
      assert.strictEqual(unknown.Code, 138)
      assert.strictEqual((yield* remove({ RoomId: "nowhere" })).Code, 104)
      assert.strictEqual((yield* add()).Code, 0)
      assert.strictEqual((yield* remove({ UserName: "admin" })).Code, 0)
      assert.lengthOf(yield* emulator.announced, 0)
      assert.strictEqual((yield* remove()).Code, 138, "already deleted")
      const records = yield* emulator.announcements
      assert.deepStrictEqual(records.map((r) => [r.action, r.userName]), [
        ["AddStream", undefined],
        ["DeleteStream", "admin"]
      ])
    }).pipe(withEmulator(roomOptions)))

  it.effect("an action's own code answers its row's meaning in the core's action table, then the detail", () =>
    Effect.gen(function*() {
      const meaning = (action: Actions.Name, code: number) => Actions.row(action).codes[code]?.meaning
      const answers = [
        ["AddStream", yield* add({ RoomId: "nowhere" })],
        ["DeleteStream", yield* remove()],
        ["DescribeRTCStreamState", yield* describeState("never-published")]
      ] as const
      assert.deepStrictEqual(answers.map(([, answer]) => answer.Code), [104, 138, 41004])
      for (const [action, answer] of answers) {
        const expected = meaning(action, answer.Code)
        assert.isString(expected, `${action} ${answer.Code}`)
        assert.isTrue(answer.Message.startsWith(`${expected}: `), `${action}: ${answer.Message}`)
      }
    }).pipe(withEmulator(roomOptions)))

  it.effect("parameters: RoomId and UserId required, byte lengths, CensorFlag 0 or 1 (1006); StreamId (30009)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* add({ RoomId: undefined })).Code, 1006)
      assert.strictEqual((yield* add({ UserId: "" })).Code, 1006)
      assert.strictEqual((yield* add({ RoomId: "r".repeat(128) })).Code, 1006)
      assert.strictEqual((yield* add({ StreamTitle: "t".repeat(128) })).Code, 1006)
      assert.strictEqual((yield* add({ StreamTitle: "é".repeat(64) })).Code, 1006, "128 bytes in UTF-8")
      assert.strictEqual((yield* add({ StreamTitle: "t".repeat(127) })).Code, 0)
      assert.strictEqual((yield* add({ ExtraInfo: "x".repeat(1025) })).Code, 1006)
      assert.strictEqual((yield* add({ ExtraInfo: "x".repeat(1024) })).Code, 0)
      assert.strictEqual((yield* add({ CensorFlag: "2" })).Code, 1006)
      assert.strictEqual((yield* add({ StreamId: "s".repeat(257) })).Code, 30009)
      assert.strictEqual((yield* add({ StreamId: "no spaces" })).Code, 30009)
      assert.strictEqual((yield* remove({ UserId: undefined })).Code, 1006)
    }).pipe(withEmulator(roomOptions)))
})

describe("the test environment", () => {
  it.effect("every stream action wants the zegotest-<AppId>- prefix (30009) and IsTest as for a dispatch (30004)", () =>
    Effect.gen(function*() {
      const prefixed = `zegotest-${testApp.appId}-cam`
      // The actions that take a StreamId (a room's stream list takes none).
      const streamActions = Emulator.actions.filter((a) => !a.startsWith("RTMP") && a !== "DescribeSimpleStreamList")
      for (const action of streamActions) {
        const extra = { RoomId: "room-1", UserId: "admin" }
        assert.strictEqual(yield* code(testApp, action, { StreamId: "cam", ...extra }), 30009, action)
        assert.notStrictEqual(yield* code(testApp, action, { StreamId: prefixed, ...extra }), 30009, action)
        assert.strictEqual(yield* code(prodApp, action, { StreamId: "cam", IsTest: "true", ...extra }), 30004, action)
        yield* TestClock.adjust("1 second")
      }
      const emulator = yield* Emulator.Emulator
      yield* emulator.publish(prefixed)
      assert.strictEqual(yield* code(testApp, "DescribeRTCStreamState", { StreamId: prefixed }), 0)
    }).pipe(withEmulator(roomOptions)))
})

describe("rate limits per action, per AppId, per environment", () => {
  /** How many of `count` calls at one instant (TestClock) pass the limit. */
  const passing = (app: Emulator.AppConfig, action: string, count: number) =>
    Effect.gen(function*() {
      const streamId = app.isTest ? `zegotest-${app.appId}-s` : "s"
      let passed = 0
      // A room of its own per call: `DescribeSimpleStreamList` also has a budget per room. Its AppId limit answers
      // 206, the room signalling table's code; the other stream actions 30002.
      const tooFrequent = action === "DescribeSimpleStreamList" ? 206 : 30002
      for (let i = 0; i < count; i++) {
        const roomId = action === "DescribeSimpleStreamList" ? `room-${sequence}-${i}` : "room-1"
        const answer = yield* call(app, action, { StreamId: streamId, RoomId: roomId, UserId: "admin" })
        if (answer.Code !== tooFrequent) passed++
        else assert.include(answer.Message, `the limit of ${action} per AppId is exceeded`)
      }
      return passed
    })

  it.effect("the documented limits per second, each action counted on its own; the next second allows more", () =>
    Effect.gen(function*() {
      // The relay actions share one budget: the first of them spends it (see the shared-budget test).
      const shared = new Set(["DeleteCDNTransferRule", "ClearCDNTransferRule"])
      for (const [action, limit] of Object.entries(Emulator.streamActionLimits)) {
        if (shared.has(action)) continue
        assert.strictEqual(yield* passing(prodApp, action, limit.production + 3), limit.production, action)
        assert.strictEqual(yield* passing(testApp, action, limit.test + 3), limit.test, `${action} (test)`)
      }
      assert.deepStrictEqual(Emulator.streamActionLimits, {
        DescribeRTCStreamState: { production: 40, test: 10 },
        ForbidRTCStream: { production: 20, test: 5 },
        ResumeRTCStream: { production: 20, test: 5 },
        AddStream: { production: 10, test: 1 },
        DeleteStream: { production: 10, test: 1 },
        DescribeSimpleStreamList: { production: 50, test: 50 },
        CreatCDNTransferRule: { production: 10, test: 5 },
        DeleteCDNTransferRule: { production: 10, test: 5 },
        ClearCDNTransferRule: { production: 10, test: 5 }
      })
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(yield* passing(prodApp, "AddStream", 1), 0)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* passing(prodApp, "AddStream", 12), 10)
      assert.strictEqual(yield* passing(prodApp, "RTMPDispatchV2", 0), 0)
    }).pipe(withEmulator({ apps: [prodApp, testApp], rooms: ["room-1"] })))

  it.effect("the dispatch actions keep their own limit (1010) beside the stream actions'", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 40; i++) assert.strictEqual(yield* code(prodApp, "DescribeRTCStreamState"), 41004)
      assert.strictEqual(yield* code(prodApp, "DescribeRTCStreamState"), 30002)
      const dispatch = (StreamId: string) => code(prodApp, "RTMPDispatchV2", { StreamId, Type: "push" })
      assert.strictEqual(yield* dispatch("a"), 0)
      assert.strictEqual(yield* dispatch("b"), 0)
      assert.strictEqual(yield* dispatch("c"), 1010)
    }).pipe(withEmulator({ apps: [prodApp], rateLimit: { limit: 2, window: "1 second" } })))

  it.effect("rateLimit false: no limit on any action", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 3; i++) {
        assert.strictEqual(
          yield* code(testApp, "AddStream", {
            StreamId: `zegotest-${testApp.appId}-s${i}`,
            RoomId: "room-1",
            UserId: "admin"
          }),
          0
        )
      }
    }).pipe(withEmulator(roomOptions)))
})

describe("fault rules on the stream actions", () => {
  it.effect("a rule for one action fires for it only, before its checks and effects", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.addFault({ fault: Fault.code(30003), action: "ForbidRTCStream", next: 1 })
      const faulted = yield* call(prodApp, "ForbidRTCStream", { StreamId: "cam" })
      assert.deepStrictEqual([faulted.Code, faulted.Message], [30003, "internal error"])
      assert.isTrue((yield* emulator.publish("cam")).allowed, "the faulted forbid did nothing")
      assert.strictEqual((yield* describeState("cam")).Code, 0)
      assert.strictEqual(yield* code(prodApp, "ForbidRTCStream", { StreamId: "cam" }), 0)
      yield* emulator.addFault({ fault: Fault.httpStatus(503), action: "AddStream" })
      const answer = yield* Effect.flatMap(
        signedParams(prodApp, { Action: "AddStream", RoomId: "room-1", UserId: "u", StreamId: "cam" }),
        (query) =>
          Effect.flatMap(Emulator.Emulator, ({ baseUrl }) =>
            Effect.promise(() =>
              fetch(`${baseUrl}/?${new URLSearchParams(query)}`).then((r) => r.status)
            ))
      )
      assert.strictEqual(answer, 503)
      assert.lengthOf(yield* emulator.announced, 0)
    }).pipe(withEmulator(roomOptions)))
})
