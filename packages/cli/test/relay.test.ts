import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Output from "../src/Output.js"
import * as Bin from "./utils/bin.js"
import { runInProcess } from "./utils/inProcess.js"

const SECRET = "5ec7e75ec7e75ec7e75ec7e75ec7e7cc"
const app: Emulator.AppConfig = { appId: 464646, serverSecret: Redacted.make(SECRET) }
const KEY = "cli-relay-key-4242"
const CDN = `rtmp://127.0.0.1:19350/live/${KEY}`
/** The CDN URL as printed and recorded: its stream key masked. */
const MASKED = "rtmp://127.0.0.1:19350/live/****4242"

describe("relay commands without credentials", () => {
  it.live("fail as invalid input (status 2) with the one MissingCredentialsError line", () =>
    Effect.gen(function*() {
      const result = yield* runInProcess(["relay", "start", "--stream-id", "cam", "--cdn-url", CDN])
      assert.strictEqual(result.code, 2, result.line)
      assert.match(result.line!, /^MissingCredentialsError: zego-rtmp relay start /)
    }))
})

describe("relay commands against an emulator", () =>
  layer(Bin.emulatorLayer({ apps: [app] }), { excludeTestServices: true })("with credentials", (it) => {
    const env = (emulator: Emulator.Service) => Bin.credentialsFor(emulator, app)

    it.effect("start, clear and stop: a line each, or one JSON document, the key masked; the emulator keeps the rule", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const run = (args: ReadonlyArray<string>) => Bin.runOk(args, env(emulator), SECRET)
        const started = yield* run(["relay", "start", "--stream-id", "cli-relay", "--cdn-url", CDN])
        assert.match(
          started.stdout,
          /^Stream cli-relay: relayed to rtmp:\/\/127\.0\.0\.1:19350\/live\/\*\*\*\*4242 while it is live .*\(CreatCDNTransferRule, RequestId \S+\)\n$/
        )
        assert.deepStrictEqual((yield* emulator.relays).map((r) => [r.streamId, r.cdnUrl, r.state]), [
          ["cli-relay", MASKED, "pending"]
        ])
        const cleared = JSON.parse(
          (yield* run(["relay", "clear", "--stream-id", "cli-relay", "--json"])).stdout
        ) as Output.RelayJson
        assert.deepStrictEqual({ ...cleared, requestId: "" }, {
          requestId: "",
          action: "ClearCDNTransferRule",
          streamId: "cli-relay"
        })
        assert.strictEqual((yield* emulator.relays)[0]?.state, "stopped")
        const stoppedJson =
          (yield* run(["relay", "stop", "--stream-id", "cli-relay", "--cdn-url", CDN, "--json"])).stdout
        const stopped = JSON.parse(stoppedJson) as Output.RelayJson
        assert.deepStrictEqual({ ...stopped, requestId: "" }, {
          requestId: "",
          action: "DeleteCDNTransferRule",
          streamId: "cli-relay",
          cdnUrl: MASKED
        })
        for (const printed of [started.stdout, started.stderr, stoppedJson]) assert.notInclude(printed, KEY)
      }))

    it.effect("a CDN URL off loopback: the server's 5004, InvalidCdnUrlError, status 1", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const result = yield* runInProcess(
          ["relay", "start", "--stream-id", "cam", "--cdn-url", "rtmp://a.rtmp.youtube.com/live2/key"],
          env(emulator)
        )
        assert.strictEqual(result.code, 1, result.line)
        assert.match(result.line!, /^InvalidCdnUrlError: ZEGO code 5004/)
      }))

    it.effect("an invalid CDN URL or stream id: status 2, one line, nothing sent", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const before = (yield* emulator.requests).length
        for (
          const args of [
            ["relay", "start", "--stream-id", "cam", "--cdn-url", "https://127.0.0.1/live/key"],
            ["relay", "stop", "--stream-id", "cam", "--cdn-url", "127.0.0.1/live/key"],
            ["relay", "clear", "--stream-id", "bad id"]
          ]
        ) {
          const result = yield* runInProcess(args, env(emulator))
          assert.strictEqual(result.code, 2, result.line)
          assert.match(result.line!, /^InvalidRequestError: /)
          assert.include(result.line!, `See zego-rtmp ${args[0]} ${args[1]} --help.`)
        }
        assert.strictEqual((yield* emulator.requests).length, before, "nothing was sent")
      }))
  }))
