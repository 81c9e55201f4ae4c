/**
 * `DescribeSimpleStreamList` against the emulator, every request signed here by ZEGOCLOUD's documented rule as its
 * own samples write it (md5 of AppId + SignatureNonce + ServerSecret + Timestamp, lowercase hex), not by the core:
 * the list of the streams announced in a room, the per-room budget beside the AppId's, and the test environment.
 */
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { createHash, randomBytes } from "node:crypto"
import { prodApp, rawCall, testApp, withEmulator } from "./utils.js"

/** A call of `action` for `app`, signed by the documented rule with node:crypto; its envelope. */
const call = (app: Emulator.AppConfig, action: string, params: Record<string, string>) =>
  Effect.gen(function*() {
    const nonce = randomBytes(8).toString("hex")
    const timestamp = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const secret = Redacted.value(app.serverSecret)
    const signature = createHash("md5").update(`${app.appId}${nonce}${secret}${timestamp}`).digest("hex")
    const answer = yield* rawCall({
      Action: action,
      ...params,
      AppId: String(app.appId),
      SignatureNonce: nonce,
      Timestamp: String(timestamp),
      SignatureVersion: "2.0",
      Signature: signature,
      ...(app.isTest ? { IsTest: "true" } : {})
    })
    return answer.body
  })

const announce = (app: Emulator.AppConfig, RoomId: string, StreamId: string, UserId = "Server-Administrator") =>
  Effect.map(call(app, "AddStream", { RoomId, StreamId, UserId, UserName: "OBS" }), (body) => body.Code)

const list = (app: Emulator.AppConfig, RoomId: string) => call(app, "DescribeSimpleStreamList", { RoomId })

interface Listed {
  readonly StreamId: string
  readonly UserId: string
  readonly UserName: string
  readonly CreateTime: number
  readonly StreamNumberId: number
}

const streamsOf = (data: unknown): ReadonlyArray<Listed> => (data as { readonly StreamList: Array<Listed> }).StreamList

const options: Emulator.Options = { apps: [prodApp, testApp], rooms: ["room-1", "room-2"] }

describe("DescribeSimpleStreamList", () => {
  it.effect("the streams announced in the room, in order, with their user, CreateTime in ms and a number", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("1234 millis")
      assert.strictEqual(yield* announce(prodApp, "room-1", "cam-a"), 0)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* announce(prodApp, "room-1", "cam-b", "host-7"), 0)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* announce(prodApp, "room-2", "cam-c"), 0)

      const room1 = yield* list(prodApp, "room-1")
      assert.strictEqual(room1.Code, 0)
      const streams = streamsOf(room1.Data)
      assert.deepStrictEqual(streams.map((s) => [s.StreamId, s.UserId, s.UserName, s.CreateTime]), [
        ["cam-a", "Server-Administrator", "OBS", 1234],
        ["cam-b", "host-7", "OBS", 3234]
      ])
      for (const stream of streams) {
        assert.isTrue(Number.isInteger(stream.StreamNumberId) && stream.StreamNumberId >= 0, "a uint32")
      }
      assert.notStrictEqual(streams[0]!.StreamNumberId, streams[1]!.StreamNumberId)
      assert.deepStrictEqual(streamsOf((yield* list(prodApp, "room-2")).Data).map((s) => s.StreamId), ["cam-c"])
      // A room the emulator does not know: an empty list (the docs name no code for it).
      assert.deepStrictEqual(yield* Effect.map(list(prodApp, "nowhere"), (body) => [body.Code, body.Data]), [0, {
        StreamList: []
      }])

      // Withdrawn: out of the list once the room's budget allows another call.
      const withdrawn = yield* call(prodApp, "DeleteStream", {
        RoomId: "room-1",
        StreamId: "cam-a",
        UserId: "Server-Administrator"
      })
      assert.strictEqual(withdrawn.Code, 0)
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual(streamsOf((yield* list(prodApp, "room-1")).Data).map((s) => s.StreamId), ["cam-b"])
    }).pipe(withEmulator(options)))

  it.effect("one call per room per 10 seconds (207), other rooms unaffected; no StreamId needed", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* list(prodApp, "room-1")).Code, 0)
      const again = yield* list(prodApp, "room-1")
      assert.strictEqual(again.Code, 207)
      assert.include(again.Message, "per RoomId")
      assert.strictEqual((yield* list(prodApp, "room-2")).Code, 0)
      yield* TestClock.adjust("9999 millis")
      assert.strictEqual((yield* list(prodApp, "room-1")).Code, 207)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* list(prodApp, "room-1")).Code, 0)
      // Each room its own budget, the same for another app.
      assert.strictEqual((yield* list(testApp, "room-1")).Code, 0)
      // A RoomId is required.
      assert.strictEqual((yield* call(prodApp, "DescribeSimpleStreamList", {})).Code, 1006)
    }).pipe(withEmulator(options)))

  it.effect("50 calls per second per AppId across rooms (206), then the next second", () =>
    Effect.gen(function*() {
      const codes: Array<number> = []
      for (let i = 0; i < 52; i++) codes.push((yield* list(prodApp, `room-${i}`)).Code)
      assert.deepStrictEqual(codes.slice(0, 50), Array.from({ length: 50 }, () => 0))
      assert.deepStrictEqual(codes.slice(50), [206, 206])
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* list(prodApp, "room-52")).Code, 0)
    }).pipe(withEmulator(options)))

  it.effect("in the test environment the stream ids are listed as announced, with their zegotest- prefix", () =>
    Effect.gen(function*() {
      const streamId = `zegotest-${testApp.appId}-cam`
      assert.strictEqual(yield* announce(testApp, "room-1", streamId), 0)
      const answer = yield* list(testApp, "room-1")
      assert.strictEqual(answer.Code, 0)
      assert.deepStrictEqual(streamsOf(answer.Data).map((s) => s.StreamId), [streamId])
    }).pipe(withEmulator(options)))
})
