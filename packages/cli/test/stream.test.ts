import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Output from "../src/Output.js"
import * as Bin from "./utils/bin.js"
import { runInProcess } from "./utils/inProcess.js"

const SECRET = "5ec7e75ec7e75ec7e75ec7e75ec7e7cc"
const app: Emulator.AppConfig = { appId: 454545, serverSecret: Redacted.make(SECRET) }

describe("stream and room commands without credentials", () => {
  it.live("fail as invalid input (status 2) with the one MissingCredentialsError line, even with --base-url", () =>
    Effect.gen(function*() {
      for (
        const args of [
          ["stream", "state", "--stream-id", "cam"],
          ["stream", "forbid", "--stream-id", "cam", "--base-url", "http://127.0.0.1:9"],
          ["room", "withdraw", "--room-id", "lobby", "--stream-id", "cam"],
          ["room", "streams", "--room-id", "lobby"]
        ]
      ) {
        const result = yield* runInProcess(args)
        assert.strictEqual(result.code, 2, result.line)
        assert.match(
          result.line!,
          /^MissingCredentialsError: zego-rtmp (stream state|stream forbid|room withdraw|room streams) /
        )
        assert.include(result.line!, "start zego-rtmp emulator")
      }
      const half = yield* runInProcess(["stream", "resume", "--stream-id", "cam"], { ZEGO_APP_ID: "1" })
      assert.strictEqual(half.code, 2, half.line)
      assert.match(half.line!, /^MissingCredentialsError: ZEGO_APP_ID is set, but ZEGO_SERVER_SECRET is not set/)
    }))
})

describe("stream and room commands against an emulator", () =>
  layer(Bin.emulatorLayer({ apps: [app], rooms: ["lobby"] }), { excludeTestServices: true })(
    "with credentials from the environment",
    (it) => {
      const env = (emulator: Emulator.Service) => Bin.credentialsFor(emulator, app)

      it.effect("stream state: not found, active, closed; forbid cuts the publisher off and refuses one; resume", () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const run = (args: ReadonlyArray<string>) => Bin.runOk(args, env(emulator), SECRET)

          const unknown = JSON.parse((yield* run(["stream", "state", "--stream-id", "cli-cam", "--json"])).stdout)
          assert.deepStrictEqual(
            { ...unknown, requestId: "" },
            {
              requestId: "",
              action: "DescribeRTCStreamState",
              streamId: "cli-cam",
              state: "not-found"
            } satisfies Output.StreamStateJson
          )

          assert.isTrue((yield* emulator.publish("cli-cam")).allowed)
          const active = Bin.lines((yield* run(["stream", "state", "--stream-id", "cli-cam"])).stdout)
          assert.strictEqual(active.length, 1)
          assert.match(
            active[0]!,
            /^Stream cli-cam: active since \d{4}-\d\d-\d\dT[\d:.]+Z \(DescribeRTCStreamState, RequestId \S+\)$/
          )

          const forbidden = Bin.lines((yield* run(["stream", "forbid", "--stream-id", "cli-cam"])).stdout)
          assert.match(forbidden[0]!, /^Stream cli-cam: forbidden; .* \(ForbidRTCStream, RequestId \S+\)$/)
          assert.isFalse((yield* emulator.publish("cli-cam")).allowed, "a new publish is refused")
          // The forbid dropped the simulated publisher: the stream closed.
          const closed = JSON.parse(
            (yield* run(["stream", "state", "--stream-id", "cli-cam", "--json"])).stdout
          ) as Output.StreamStateJson
          assert.strictEqual(closed.state, "closed")
          assert.isString(closed.createdAt)
          assert.isString(closed.closedAt)

          const resumed = JSON.parse(
            (yield* run(["stream", "resume", "--stream-id", "cli-cam", "--json"])).stdout
          ) as Output.ControlledJson
          assert.deepStrictEqual({ ...resumed, requestId: "" }, {
            requestId: "",
            action: "ResumeRTCStream",
            streamId: "cli-cam",
            state: "resumed"
          })
          assert.isTrue((yield* emulator.publish("cli-cam")).allowed, "published again after the resume")
          yield* emulator.unpublish("cli-cam")
          const closedText = Bin.lines((yield* run(["stream", "state", "--stream-id", "cli-cam"])).stdout)
          assert.match(closedText[0]!, /^Stream cli-cam: closed at \S+Z \(active since \S+Z\) \(DescribeRTCStreamState/)
        }))

      it.effect("room announce, withdraw, and withdraw again: StreamInfoNotFoundError, status 1", () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const announced = yield* Bin.run(
            ["room", "announce", "--room-id", "lobby", "--stream-id", "cli-room", "--title", "Match 42"],
            { env: env(emulator) }
          )
          assert.strictEqual(announced.code, 0, announced.stderr)
          assert.match(
            announced.stdout,
            /^Stream cli-room: announced in room lobby \(AddStream, RequestId \S+\)\n$/
          )
          assert.deepInclude(
            (yield* emulator.announced).map((stream) => stream.streamId),
            "cli-room"
          )

          const withdrawn = yield* Bin.run(
            ["room", "withdraw", "--room-id", "lobby", "--stream-id", "cli-room", "--json"],
            { env: env(emulator) }
          )
          assert.strictEqual(withdrawn.code, 0, withdrawn.stderr)
          const json = JSON.parse(withdrawn.stdout) as Output.RoomJson
          assert.deepStrictEqual({ ...json, requestId: "" }, {
            requestId: "",
            action: "DeleteStream",
            roomId: "lobby",
            streamId: "cli-room"
          })

          const again = yield* runInProcess(
            ["room", "withdraw", "--room-id", "lobby", "--stream-id", "cli-room"],
            env(emulator)
          )
          assert.strictEqual(again.code, 1, again.line)
          assert.match(again.line!, /^StreamInfoNotFoundError/)
        }))

      it.effect("room streams: the room's announced streams, as a list (server strings escaped) and as JSON", () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          yield* emulator.createRoom("hall")
          for (const [streamId, userName] of [["hall-a", "OBS\u001b[31m"], ["hall-b", undefined]] as const) {
            const announced = yield* Bin.run(
              ["room", "announce", "--room-id", "hall", "--stream-id", streamId, "--user-id", "host-1"].concat(
                userName === undefined ? [] : ["--user-name", userName]
              ),
              { env: env(emulator) }
            )
            assert.strictEqual(announced.code, 0, announced.stderr)
          }
          const listed = yield* Bin.run(["room", "streams", "--room-id", "hall", "--json"], { env: env(emulator) })
          assert.strictEqual(listed.code, 0, listed.stderr)
          assert.isFalse(Bin.leaks(listed.stdout, SECRET))
          const document = JSON.parse(listed.stdout) as Output.RoomStreamsJson
          assert.strictEqual(document.action, "DescribeSimpleStreamList")
          assert.strictEqual(document.roomId, "hall")
          assert.deepStrictEqual(
            document.streams.map((s) => [s.streamId, s.userId, s.userName]),
            [["hall-a", "host-1", "OBS\u001b[31m"], ["hall-b", "host-1", ""]]
          )
          for (const stream of document.streams) {
            assert.match(stream.createdAt, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/)
            assert.isTrue(Number.isInteger(stream.streamNumberId))
          }

          // Another room (each room may be listed once per 10 s): the human list, the escape sequence shown.
          const lobby = yield* Bin.run(["room", "streams", "--room-id", "lobby"], { env: env(emulator) })
          assert.strictEqual(lobby.code, 0, lobby.stderr)
          assert.match(
            lobby.stdout,
            /^Room lobby: (no streams|\d+ streams?) \(DescribeSimpleStreamList, RequestId \S+\)\n/
          )
          yield* emulator.createRoom("hall-2")
          const moved = yield* Bin.run(
            ["room", "announce", "--room-id", "hall-2", "--stream-id", "hall-c", "--user-name", "OBS\u001b[31m"],
            { env: env(emulator) }
          )
          assert.strictEqual(moved.code, 0, moved.stderr)
          const human = Bin.lines(
            (yield* Bin.run(["room", "streams", "--room-id", "hall-2"], { env: env(emulator) })).stdout
          )
          assert.match(human[0]!, /^Room hall-2: 1 stream \(DescribeSimpleStreamList, RequestId \S+\)$/)
          assert.match(
            human[1]!,
            /^ {2}hall-c {2}by Server-Administrator \(OBS\\x1b\[31m\) {2}since \S+Z {2}number \d+$/
          )
          assert.notInclude(human.join("\n"), "\u001b")
        }))

      it.effect("an invalid stream or room id: status 2, one line, nothing sent", () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const before = (yield* emulator.requests).length
          for (
            const args of [
              ["stream", "state", "--stream-id", "bad id"],
              ["stream", "forbid", "--stream-id", "x".repeat(257)],
              ["room", "announce", "--room-id", "", "--stream-id", "cam"],
              ["room", "withdraw", "--room-id", "lobby", "--stream-id", "caf\u00e9"],
              ["room", "streams", "--room-id", ""]
            ]
          ) {
            const result = yield* runInProcess(args, env(emulator))
            assert.strictEqual(result.code, 2, result.line)
            assert.match(result.line!, /^InvalidRequestError: /)
            assert.include(result.line!, `See zego-rtmp ${args[0]} ${args[1]} --help.`)
          }
          // Also without credentials: the input is checked first.
          const bare = yield* runInProcess(["stream", "resume", "--stream-id", "bad id"])
          assert.match(bare.line!, /^InvalidRequestError: /)
          assert.strictEqual((yield* emulator.requests).length, before, "nothing was sent")
        }))
    }
  ))
