import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as DispatchCommand from "../src/DispatchCommand.js"
import * as MediaCommands from "../src/MediaCommands.js"
import type * as Output from "../src/Output.js"
import * as Bin from "./utils/bin.js"

const DEMO_SECRET = Redacted.value(Emulator.demoApp.serverSecret)
const TEST_DEMO_SECRET = Redacted.value(Emulator.demoTestApp.serverSecret)

const assertNoSecret = (result: Bin.Result, secret: string) => {
  assert.isFalse(Bin.leaks(result.stdout, secret), "the secret is on stdout")
  assert.isFalse(Bin.leaks(result.stderr, secret), "the secret is on stderr")
}

const EMBEDDED_NOTICE = /^zego-rtmp: .*embedded ZEGOCLOUD emulator at http:\/\/127\.0\.0\.1:\d+ \(demo app (\d+)\)/

describe.concurrent("dispatch on the embedded emulator (no credentials)", () => {
  it.live("prints the push node, its OBS settings, an ffmpeg publish command and that nothing listens there", () =>
    Effect.gen(function*() {
      const result = yield* Bin.run(["dispatch", "--type", "push", "--stream-id", "demo"])
      assert.strictEqual(result.code, 0, result.stderr)
      const url = "rtmp://127.0.0.1:1935/live/demo"
      const stdout = Bin.lines(result.stdout).map((line) => line.trim())
      assert.match(stdout[0]!, /^Publish \(push\): 1 node for stream demo \(RTMPDispatchV2, RequestId \d+\)$/)
      assert.include(stdout, `Node 1: ${url}`)
      assert.include(stdout, "OBS Server:      rtmp://127.0.0.1:1935/live/")
      assert.include(stdout, "OBS Stream key:  demo")
      assert.include(stdout, MediaCommands.publishCommand(url))
      // Nothing listens at the embedded emulator's node: the output ends by saying so, and how to get a live one.
      assert.strictEqual(stdout.at(-1), DispatchCommand.embeddedNote)
      assert.include(DispatchCommand.embeddedNote, "Connection refused")
      assert.include(DispatchCommand.embeddedNote, "zego-rtmp emulator --media-node")
      const stderr = Bin.lines(result.stderr)
      assert.strictEqual(stderr.length, 1, result.stderr)
      assert.strictEqual(EMBEDDED_NOTICE.exec(stderr[0]!)?.[1], String(Emulator.demoApp.appId))
      assertNoSecret(result, DEMO_SECRET)
    }))

  it.live("prints the pull node with ffplay and ffmpeg record commands", () =>
    Effect.gen(function*() {
      const result = yield* Bin.run(["dispatch", "--type", "pull", "--stream-id", "demo"])
      assert.strictEqual(result.code, 0, result.stderr)
      const url = "rtmp://127.0.0.1:1935/live/demo"
      const stdout = Bin.lines(result.stdout).map((line) => line.trim())
      assert.match(stdout[0]!, /^Pull: 1 node for stream demo/)
      assert.include(stdout, MediaCommands.playCommand(url))
      assert.include(stdout, MediaCommands.recordCommand(url))
      assert.notInclude(result.stdout, "OBS")
    }))

  it.live("--json: exactly one JSON document with the request id and every field of each node", () =>
    Effect.gen(function*() {
      const result = yield* Bin.run(["dispatch", "--type", "publish", "--stream-id", "demo_1", "--json"])
      assert.strictEqual(result.code, 0, result.stderr)
      const json = JSON.parse(result.stdout) as Output.DispatchJson
      assert.match(json.requestId, /^\d+$/)
      assert.deepStrictEqual({ ...json, requestId: "" }, {
        requestId: "",
        action: "RTMPDispatchV2",
        type: "push",
        streamId: "demo_1",
        nodes: [{
          url: "rtmp://127.0.0.1:1935/live/demo_1",
          host: "127.0.0.1",
          port: 1935,
          app: "live",
          streamName: "demo_1",
          obsServer: "rtmp://127.0.0.1:1935/live/",
          obsStreamKey: "demo_1"
        }]
      })
      // stdout stays one document: the note that nothing listens at the node goes to stderr.
      assert.deepStrictEqual(Bin.lines(result.stderr).slice(1), [`zego-rtmp: ${DispatchCommand.embeddedNote}`])
      assertNoSecret(result, DEMO_SECRET)
    }))

  it.live("--v1 --json: host:port addresses from RTMPDispatch", () =>
    Effect.gen(function*() {
      const result = yield* Bin.run(["dispatch", "--type", "pull", "--stream-id", "demo", "--v1", "--json"])
      assert.strictEqual(result.code, 0, result.stderr)
      const json = JSON.parse(result.stdout) as Output.DispatchJson
      assert.strictEqual(json.action, "RTMPDispatch")
      assert.deepStrictEqual(json.nodes, [{ address: "127.0.0.1:1935", host: "127.0.0.1", port: 1935 }])
    }))

  it.live("--v1: the addresses for a human", () =>
    Effect.gen(function*() {
      const result = yield* Bin.run(["dispatch", "--type", "push", "--stream-id", "demo", "--v1"])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.match(result.stdout, /^Publish \(push\): 1 address for stream demo \(RTMPDispatch, RequestId \d+\)/)
      assert.include(Bin.lines(result.stdout), "Node 1: 127.0.0.1:1935")
    }))

  it.live("--test-env: the test-environment demo app, the stream id prefixed", () =>
    Effect.gen(function*() {
      const result = yield* Bin.run(["dispatch", "--type", "push", "--stream-id", "demo", "--test-env", "--json"])
      assert.strictEqual(result.code, 0, result.stderr)
      const json = JSON.parse(result.stdout) as Output.DispatchJson
      const prefixed = `zegotest-${Emulator.demoTestApp.appId}-demo`
      assert.strictEqual(json.streamId, prefixed)
      assert.strictEqual((json.nodes[0] as Output.NodeJson).streamName, prefixed)
      assert.strictEqual(EMBEDDED_NOTICE.exec(result.stderr)?.[1], String(Emulator.demoTestApp.appId))
      assertNoSecret(result, TEST_DEMO_SECRET)
    }))
})

const SECRET = "5ec7e75ec7e75ec7e75ec7e75ec7e7aa"
const app: Emulator.AppConfig = { appId: 424242, serverSecret: Redacted.make(SECRET) }
const testApp: Emulator.AppConfig = {
  appId: 434343,
  serverSecret: Redacted.make(SECRET.replace("aa", "bb")),
  isTest: true
}

describe.concurrent("with credentials", () =>
  layer(
    Bin.emulatorLayer({
      apps: [app, testApp],
      nodes: {
        push: [{ host: "127.0.0.2", port: 1936, app: "push/app" }],
        pull: [{ host: "127.0.0.3", port: 1937, app: "pull" }]
      }
    }),
    { excludeTestServices: true }
  )("dispatch with credentials from the environment", (it) => {
    const credentials = { ZEGO_APP_ID: String(app.appId), ZEGO_SERVER_SECRET: SECRET }

    it.effect("ZEGO_BASE_URL: the server's node, no notice on stderr, the secret nowhere", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const result = yield* Bin.run(["dispatch", "--type", "push", "--stream-id", "cam-1"], {
          env: { ...credentials, ZEGO_BASE_URL: emulator.baseUrl }
        })
        assert.strictEqual(result.code, 0, result.stderr)
        assert.strictEqual(result.stderr, "")
        const url = "rtmp://127.0.0.2:1936/push/app/cam-1"
        assert.include(Bin.lines(result.stdout).map((line) => line.trim()), MediaCommands.publishCommand(url))
        assert.include(result.stdout, "OBS Server:      rtmp://127.0.0.2:1936/push/app/")
        assertNoSecret(result, SECRET)
      }))

    it.effect("--base-url, --client-ip and --sequence reach the server; --json", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const result = yield* Bin.run([
          "dispatch",
          "--type",
          "pull",
          "--stream-id",
          "cam-2",
          "--client-ip",
          "203.0.113.7",
          "--sequence",
          "9007199254740993",
          "--json",
          "--base-url",
          emulator.baseUrl
        ], { env: { ...credentials, ZEGO_BASE_URL: "https://flags-win.invalid" } })
        assert.strictEqual(result.code, 0, result.stderr)
        const json = JSON.parse(result.stdout) as Output.DispatchJson
        assert.deepStrictEqual(json.nodes.map((node) => (node as Output.NodeJson).url), [
          "rtmp://127.0.0.3:1937/pull/cam-2"
        ])
        const record = (yield* emulator.dispatched).find((record) => record.requestId === json.requestId)
        assert.strictEqual(record?.clientIp, "203.0.113.7")
        assert.strictEqual(record?.appId, app.appId)
        assertNoSecret(result, SECRET)
      }))

    it.effect("ZEGO_IS_TEST=true for a test-environment app", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const result = yield* Bin.run(["dispatch", "--type", "pull", "--stream-id", "s", "--json"], {
          env: {
            ZEGO_APP_ID: String(testApp.appId),
            ZEGO_SERVER_SECRET: Redacted.value(testApp.serverSecret),
            ZEGO_BASE_URL: emulator.baseUrl,
            ZEGO_IS_TEST: "true"
          }
        })
        assert.strictEqual(result.code, 0, result.stderr)
        assert.strictEqual((JSON.parse(result.stdout) as Output.DispatchJson).streamId, "zegotest-434343-s")
      }))
  }))
