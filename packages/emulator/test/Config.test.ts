/**
 * Options: the JSON configuration file, the checks on options given in code, and a port already taken.
 */
import { Emulator, Fault } from "@effect-zego/emulator"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { prodApp, withClient, withEmulator } from "./utils.js"

/** Writes `content` to a fresh temporary file, removed afterwards. */
const tempFile = (content: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zego-emulator-"))
      const file = path.join(dir, "emulator.json")
      fs.writeFileSync(file, content)
      return file
    }),
    (file) => Effect.sync(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }))
  )

const exampleFile = {
  apps: [
    { appId: 1234567890, serverSecret: "0123456789abcdef0123456789abcdef" },
    { appId: 1234567891, serverSecret: "fedcba9876543210fedcba9876543210", isTest: true }
  ],
  nodes: {
    push: [{ host: "192.0.2.10", port: 1935, app: "live" }],
    pull: [{ host: "192.0.2.20", port: 1935, app: "live" }, { host: "192.0.2.21", port: 1936, app: "live" }]
  },
  rateLimit: { limit: 40, window: "1 second" },
  faults: [
    { fault: { _tag: "Code", code: 1001 }, streamId: "^flaky-", next: 1 },
    { fault: { _tag: "Delay", duration: 1000 }, streamId: "^slow-" },
    { fault: { _tag: "HttpStatus", status: 502 }, probability: 0 }
  ],
  host: "127.0.0.1",
  port: 0
}

const load = (content: string) =>
  Effect.flatMap(tempFile(content), Emulator.loadOptions).pipe(Effect.provide(NodeFileSystem.layer))

const quiet = Layer.provide(Logger.minimumLogLevel(LogLevel.None))

describe("the JSON configuration file", () => {
  it.scopedLive("is read into the same options, secrets redacted", () =>
    Effect.gen(function*() {
      const options = yield* load(JSON.stringify(exampleFile))
      const [demo, test] = options.apps
      assert.strictEqual(demo?.appId, 1234567890)
      assert.isTrue(Redacted.isRedacted(demo?.serverSecret))
      assert.strictEqual(Redacted.value(demo!.serverSecret), "0123456789abcdef0123456789abcdef")
      assert.notInclude(String(demo?.serverSecret), "0123")
      assert.strictEqual(test?.isTest, true)
      assert.deepStrictEqual(options.nodes, exampleFile.nodes)
      assert.isTrue(
        options.rateLimit !== false && options.rateLimit !== undefined &&
          Duration.toMillis(options.rateLimit.window) === 1000
      )
      assert.strictEqual(options.faults?.length, 3)
      assert.deepStrictEqual(options.faults?.[1]?.fault, { _tag: "Delay", duration: Duration.millis(1000) })
    }))

  it.scopedLive("starts an emulator that behaves as the file says (layerFile)", () =>
    Effect.gen(function*() {
      const file = yield* tempFile(JSON.stringify(exampleFile))
      const demo = { appId: 1234567890, serverSecret: Redacted.make("0123456789abcdef0123456789abcdef") }
      // The slow stream's client gives up after 200 ms, well within the file's 1 s delay; the other calls have the
      // helpers' generous limit, so that a slow machine cannot turn their answers into timeouts.
      const [[a, b, c, flaky, notFlaky], slow] = yield* Effect.all([
        withClient(demo, (dispatch) =>
          Effect.all([
            dispatch.dispatch({ streamId: "a", type: "pull" }),
            dispatch.dispatch({ streamId: "b", type: "pull" }),
            dispatch.dispatchAddresses({ streamId: "c", type: "push" }),
            Effect.flip(dispatch.dispatch({ streamId: "flaky-1", type: "push" })),
            dispatch.dispatch({ streamId: "flaky-2", type: "push" })
          ])),
        withClient(demo, (dispatch) => Effect.flip(dispatch.dispatch({ streamId: "slow-1", type: "push" })), {
          timeout: "200 millis"
        })
      ]).pipe(Effect.provide(Emulator.layerFile(file).pipe(Layer.provide(NodeFileSystem.layer), quiet)))
      assert.deepStrictEqual([a.nodes[0].url, b.nodes[0].url], [
        "rtmp://192.0.2.20:1935/live/a",
        "rtmp://192.0.2.21:1936/live/b"
      ])
      assert.strictEqual(c.addresses[0].address, "192.0.2.10:1935")
      assert.strictEqual(flaky._tag, "DispatchFailedError")
      assert.strictEqual(notFlaky.streamId, "flaky-2")
      assert.deepInclude(slow, { _tag: "TransportError", reason: "Timeout" })
    }))

  it.scopedLive("a file that cannot be read: ConfigFileError Read", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Emulator.loadOptions("/nonexistent/emulator.json").pipe(Effect.provide(NodeFileSystem.layer))
      )
      assert.strictEqual(error._tag, "ConfigFileError")
      assert.strictEqual(error.reason, "Read")
      assert.include(error.message, "/nonexistent/emulator.json")
    }))

  it.scopedLive("a file that is not JSON: ConfigFileError Parse", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(load("{ apps: [ }"))
      assert.strictEqual(error.reason, "Parse")
    }))

  it.scopedLive("a syntax error is given by its line and column, quoting nothing of the file (it holds secrets)", () =>
    Effect.gen(function*() {
      const cases = [
        ["{\n  \"apps\": [{ \"appId\": 1, \"serverSecret\": feedface0123 }]\n}", "line 2, column 42"],
        ["{ \"apps\": [{ \"serverSecret\": \"feedface0123\" }] }}", "line 1, column 49"],
        ["{ \"serverSecret\": \"feedface0123", "line 1, column 32"],
        ["{ \"serverSecret\": \"feed\u0001face0123\" }", "line 1, column 24"],
        ["", "line 1, column 1"]
      ] as const
      for (const [text, position] of cases) {
        const error = yield* Effect.flip(load(text))
        assert.strictEqual(error.reason, "Parse")
        assert.include(error.detail, position, text)
        assert.notInclude(error.message, "feed", text)
      }
    }))

  it.scopedLive("a value nested thousands of levels deep: ConfigFileError Invalid, a short message", () =>
    Effect.gen(function*() {
      const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`
      const error = yield* Effect.flip(load(`{ "apps": [{ "appId": 1, "serverSecret": "s", "isTest": ${deep} }] }`))
      assert.strictEqual(error.reason, "Invalid")
      assert.match(error.detail, /^apps\.0\.isTest: Expected boolean, actual \[/)
      assert.isBelow(error.message.length, 400)
    }))

  it.scopedLive("invalid content: ConfigFileError Invalid, naming every problem by its path, no secret shown", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(load(JSON.stringify({
        apps: [
          { appId: "12345", serverSecret: "s3cr3t-value" },
          { appId: 7, secret: "typo-in-the-key" },
          { appId: 8, serverSecret: 98765432123 }
        ],
        rateLimit: { limit: 0, window: "soon" },
        faults: [{ fault: { _tag: "Explode" } }, { fault: { _tag: "HttpStatus", status: 404 } }],
        host: "0.0.0.0"
      })))
      assert.strictEqual(error.reason, "Invalid")
      for (
        const where of [
          "apps.0.appId",
          "apps.1.serverSecret",
          "apps.1.secret",
          "apps.2.serverSecret",
          "rateLimit",
          "faults.0.fault",
          "faults.1.fault",
          "host: host must be a loopback address"
        ]
      ) {
        assert.include(error.detail, where)
      }
      assert.notInclude(error.message, "s3cr3t-value")
      assert.notInclude(error.message, "98765432123")
    }))
})

describe("rooms and streamHistory in the file", () => {
  it.scopedLive("are read: the rooms exist from the start, the window is a duration", () =>
    Effect.gen(function*() {
      const options = yield* load(JSON.stringify({
        apps: [{ appId: 1, serverSecret: "x" }],
        rooms: ["lobby", "stage"],
        streamHistory: "1 minute"
      }))
      assert.deepStrictEqual(options.rooms, ["lobby", "stage"])
      assert.deepStrictEqual(options.streamHistory, Duration.minutes(1))
      const bad = yield* Effect.flip(load(JSON.stringify({ apps: [{ appId: 1, serverSecret: "x" }], rooms: [1] })))
      assert.strictEqual(bad.reason, "Invalid")
      assert.include(bad.message, "rooms.0")
    }))
})

describe("a file that names only rooms", () => {
  it.scopedLive("is accepted: the apps are the demo apps, the rooms its own", () =>
    Effect.gen(function*() {
      const options = yield* load(JSON.stringify({ rooms: ["lobby"] }))
      assert.deepStrictEqual(options.apps, [Emulator.demoApp, Emulator.demoTestApp])
      assert.deepStrictEqual(options.rooms, ["lobby"])
      const empty = yield* load("{}")
      assert.deepStrictEqual(empty.apps.map((app) => app.appId), [Emulator.demoApp.appId, Emulator.demoTestApp.appId])
      assert.strictEqual(empty.rooms, undefined, "no rooms named: the emulator's default, the demo rooms")
      const none = yield* Effect.flip(load(JSON.stringify({ apps: [], rooms: ["lobby"] })))
      assert.include(none.message, "at least one app is needed")
    }))
})

const callbackSecret = Redacted.make("the-callback-secret")

describe("callbacks in the file", () => {
  it.scopedLive("callbackUrl, callbackSecret (redacted), the retry scale, timeout and callback faults are read", () =>
    Effect.gen(function*() {
      const options = yield* load(JSON.stringify({
        apps: [{ appId: 1, serverSecret: "x", callbackUrl: "http://127.0.0.1:9000/cb", callbackSecret: "cb-s3cret" }],
        callbackRetryScale: 0.01,
        callbackTimeout: "2 seconds",
        callbackMaxInFlight: 10,
        callbackFaults: [
          { callback: { _tag: "Delay", duration: "1 second" }, event: "stream_close", next: 2 },
          { callback: { _tag: "FormEncode" }, streamId: "^form-" }
        ]
      }))
      const [app] = options.apps
      assert.strictEqual(app?.callbackUrl, "http://127.0.0.1:9000/cb")
      assert.isTrue(Redacted.isRedacted(app?.callbackSecret))
      assert.strictEqual(Redacted.value(app!.callbackSecret!), "cb-s3cret")
      assert.strictEqual(options.callbackRetryScale, 0.01)
      assert.deepStrictEqual(options.callbackTimeout, Duration.seconds(2))
      assert.deepStrictEqual(options.callbackFaults?.[0]?.callback, { _tag: "Delay", duration: Duration.seconds(1) })

      const bad = yield* Effect.flip(load(JSON.stringify({
        apps: [{ appId: 1, serverSecret: "x", callbackUrl: "http://203.0.113.5/cb", callbackSecret: "cb-s3cret" }],
        callbackFaults: [{ callback: { _tag: "Explode" } }]
      })))
      assert.strictEqual(bad.reason, "Invalid")
      assert.include(bad.detail, "apps.0.callbackUrl: callbackUrl must be an http:// URL on a loopback host")
      assert.include(bad.detail, "callbackFaults.0.callback")
      assert.notInclude(bad.message, "cb-s3cret")
    }))
})

describe("options in code", () => {
  const invalid = (options: Emulator.Options) =>
    Effect.map(Effect.flip(Effect.scoped(Emulator.make(options))), (error) => [error._tag, error.message])

  it.live("are checked before anything listens: InvalidOptionsError", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[Emulator.Options, string]> = [
        [{ apps: [] }, "at least one app"],
        [{ apps: [prodApp, prodApp] }, "AppId 100001 appears twice"],
        [{ apps: [{ appId: -1, serverSecret: Redacted.make("x") }] }, "apps.0.appId"],
        [{ apps: [{ appId: 1, serverSecret: Redacted.make("") }] }, "apps.0.serverSecret"],
        [{ apps: [prodApp], host: "0.0.0.0" }, "loopback"],
        [{ apps: [prodApp], host: "192.168.1.1" }, "loopback"],
        [{ apps: [prodApp], port: 70000 }, "port"],
        [{ apps: [prodApp], rateLimit: { limit: 1.5, window: "1 second" } }, "rateLimit"],
        [{ apps: [prodApp], rateLimit: { limit: 1, window: 0 } }, "rateLimit"],
        [{ apps: [prodApp], nodes: { push: [{ host: "a b", port: 1, app: "x" }], pull: [] } }, "nodes.push.0.host"],
        [{ apps: [prodApp], nodes: { push: [], pull: [{ host: "h", port: 0, app: "x" }] } }, "nodes.pull.0.port"],
        [{ apps: [prodApp], rooms: [""] }, "rooms.0"],
        [{ apps: [prodApp], rooms: ["r".repeat(128)] }, "a room id is 1 to 127 bytes"],
        [{ apps: [prodApp], streamHistory: 0 }, "streamHistory"],
        [{ apps: [{ ...prodApp, callbackUrl: "http://192.168.1.1/cb", callbackSecret }] }, "apps.0.callbackUrl"],
        [{ apps: [{ ...prodApp, callbackUrl: "http://example.com/cb", callbackSecret }] }, "loopback host"],
        [{ apps: [{ ...prodApp, callbackUrl: "https://127.0.0.1/cb", callbackSecret }] }, "http:// URL"],
        [{ apps: [{ ...prodApp, callbackUrl: "not a url", callbackSecret }] }, "apps.0.callbackUrl"],
        [{ apps: [{ ...prodApp, callbackUrl: "http://me:pw@127.0.0.1/cb", callbackSecret }] }, "user:password@"],
        [{ apps: [{ ...prodApp, callbackUrl: "http://127.0.0.1:9/cb" }] }, "callbackSecret is required"],
        [{ apps: [{ ...prodApp, callbackSecret: Redacted.make("") }] }, "apps.0.callbackSecret"],
        [{ apps: [prodApp], callbackRetryScale: 0 }, "callbackRetryScale must be a number greater than 0"],
        [{ apps: [prodApp], callbackRetryScale: -1 }, "callbackRetryScale"],
        [{ apps: [prodApp], callbackTimeout: 0 }, "callbackTimeout"],
        [{ apps: [prodApp], callbackMaxInFlight: 0 }, "callbackMaxInFlight"],
        [{ apps: [prodApp], callbackFaults: [{ callback: Fault.callbackDrop, next: 0 }] }, "callbackFaults.0.next"]
      ]
      for (const [options, expected] of cases) {
        const [tag, message] = yield* invalid(options)
        assert.strictEqual(tag, "InvalidOptionsError")
        assert.include(message, expected)
      }
    }))

  it.live("a callbackUrl on loopback is accepted (127.x, [::1], localhost), and the secret is never shown", () =>
    Effect.gen(function*() {
      for (const callbackUrl of ["http://127.0.0.1:8080/zego", "http://[::1]:8080/", "http://localhost/cb"]) {
        const emulator = yield* Effect.scoped(Emulator.make({ apps: [{ ...prodApp, callbackUrl, callbackSecret }] }))
        assert.strictEqual(emulator.apps[0]?.callbackUrl, callbackUrl)
      }
      const [, message] = yield* invalid({ apps: [{ ...prodApp, callbackUrl: "http://10.0.0.1/", callbackSecret }] })
      assert.notInclude(message, Redacted.value(callbackSecret))
    }))

  it.live("loopback hosts are accepted", () =>
    Effect.gen(function*() {
      for (const host of ["127.0.0.1", "127.0.0.2", "localhost"]) {
        const emulator = yield* Effect.scoped(Emulator.make({ apps: [prodApp], host }))
        assert.strictEqual(emulator.host, host)
      }
    }))

  it.live("a port already taken: StartError", () =>
    Effect.gen(function*() {
      const { port } = yield* Emulator.Emulator
      const error = yield* Effect.flip(Effect.scoped(Emulator.make({ apps: [prodApp], port })))
      assert.strictEqual(error._tag, "StartError")
      assert.include(error.message, `127.0.0.1:${port}`)
    }).pipe(withEmulator()))
})
