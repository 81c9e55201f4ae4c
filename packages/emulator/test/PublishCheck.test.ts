/**
 * The `on_publish` check nginx-rtmp calls: a publish is allowed only for a stream dispatched for push, on a node of
 * that RTMP application, within the publish window, and not forgotten since. Called here as nginx calls it (a POST
 * of a form); the end-to-end test with nginx and ffmpeg is in the CLI's package (Rtmp.e2e.test.ts).
 */
import { Emulator } from "@effect-zego/emulator"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as TestClock from "effect/TestClock"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { baseOptions, prodApp, rawCode, testApp, withEmulator } from "./utils.js"

/** The form nginx-rtmp posts for a publish of `name` to application `app`, with `overrides`. */
const form = (name: string, overrides: Record<string, string> = {}): Record<string, string> => ({
  app: "live",
  flashver: "FMLE/3.0 (compatible; Lavf59.27",
  swfurl: "",
  tcurl: "rtmp://127.0.0.1:1935/live",
  pageurl: "",
  addr: "127.0.0.1",
  clientid: "1",
  call: "publish",
  name,
  type: "live",
  ...overrides
})

/** POSTs a form to the check as nginx-rtmp does, and gives the status and body. */
const hook = (fields: Record<string, string>, init: RequestInit = {}) =>
  Effect.gen(function*() {
    const { onPublishUrl } = yield* Emulator.Emulator
    return yield* Effect.promise(async () => {
      const response = await fetch(onPublishUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
        ...init
      })
      return { status: response.status, body: await response.text() }
    })
  })

const status = (fields: Record<string, string>) => Effect.map(hook(fields), (answer) => answer.status)

const push = (streamId: string) => rawCode(prodApp, { StreamId: streamId, Type: "push" })

describe("the on_publish check", () => {
  it.live("its URL is under the base URL", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      assert.strictEqual(emulator.onPublishUrl, `${emulator.baseUrl}/rtmp/on_publish`)
    }).pipe(withEmulator()))

  it.live("allows a stream dispatched for push; refuses one never dispatched, or dispatched for pull only", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* push("cam-1"), 0)
      assert.strictEqual(yield* rawCode(prodApp, { StreamId: "viewer-only", Type: "pull" }), 0)
      const allowed = yield* hook(form("cam-1"))
      assert.strictEqual(allowed.status, 200)
      assert.match(allowed.body, /^stream cam-1 was dispatched for push .* ago$/)
      const never = yield* hook(form("cam-2"))
      assert.strictEqual(never.status, 403)
      assert.strictEqual(never.body, "no push dispatch of stream cam-2 (never dispatched, or forgotten)")
      assert.strictEqual(yield* status(form("viewer-only")), 403)
      const checks = yield* (yield* Emulator.Emulator).publishChecks
      assert.deepStrictEqual(
        checks.map(({ allowed, name, status }) => ({ name, allowed, status })),
        [
          { name: "cam-1", allowed: true, status: 200 },
          { name: "cam-2", allowed: false, status: 403 },
          { name: "viewer-only", allowed: false, status: 403 }
        ]
      )
      assert.strictEqual(checks[0]?.addr, "127.0.0.1")
      assert.strictEqual(checks[0]?.app, "live")
      assert.strictEqual(checks[0]?.call, "publish")
      assert.lengthOf(yield* (yield* Emulator.Emulator).requests, 2, "the checks are not API requests")
    }).pipe(withEmulator()))

  it.live("the application must be the dispatched node's", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* push("cam"), 0)
      const other = yield* hook(form("cam", { app: "other" }))
      assert.strictEqual(other.status, 403)
      assert.strictEqual(other.body, "stream cam was dispatched for application live, not other")
    }).pipe(withEmulator({
      ...baseOptions,
      nodes: { push: [{ host: "127.0.0.1", port: 1935, app: "live" }], pull: [] }
    })))

  it.live("a test-environment stream is checked by its full id, prefix included", () =>
    Effect.gen(function*() {
      const streamId = `zegotest-${testApp.appId}-cam`
      assert.strictEqual(yield* rawCode(testApp, { StreamId: streamId, Type: "push" }), 0)
      assert.strictEqual(yield* status(form(streamId)), 200)
      assert.strictEqual(yield* status(form("cam")), 403)
    }).pipe(withEmulator()))

  it.live("forget(streamId) refuses that stream from then on, forget() every stream; a new dispatch allows it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (const stream of ["a", "b", "c"]) assert.strictEqual(yield* push(stream), 0)
      yield* emulator.forget("a")
      assert.strictEqual(yield* status(form("a")), 403)
      assert.strictEqual(yield* status(form("b")), 200)
      yield* emulator.forget()
      assert.strictEqual(yield* status(form("b")), 403)
      assert.strictEqual(yield* status(form("c")), 403)
      assert.lengthOf(yield* emulator.dispatched, 3, "the records stay")
      assert.strictEqual(yield* push("a"), 0)
      assert.strictEqual(yield* status(form("a")), 200)
    }).pipe(withEmulator()))

  it.effect("a dispatch allows its publish for 2 hours (TestClock), a new dispatch for 2 more", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* push("cam"), 0)
      yield* TestClock.adjust("2 hours")
      assert.strictEqual(yield* status(form("cam")), 200)
      yield* TestClock.adjust("1 millis")
      const late = yield* hook(form("cam"))
      assert.strictEqual(late.status, 403)
      assert.strictEqual(late.body, "stream cam was dispatched 2h 1ms ago; a node must be used within 2h")
      assert.strictEqual(yield* push("cam"), 0)
      assert.strictEqual(yield* status(form("cam")), 200)
    }).pipe(withEmulator()))

  it.effect("publishWindow sets the window", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* push("cam"), 0)
      yield* TestClock.adjust("61 seconds")
      assert.strictEqual(yield* status(form("cam")), 403)
    }).pipe(withEmulator({ ...baseOptions, publishWindow: "1 minute" })))

  it.live("refuses what is not a publish: another call, no name or app, no form, another method", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* push("cam"), 0)
      const play = yield* hook(form("cam", { call: "play" }))
      assert.deepStrictEqual(play, { status: 403, body: "only publishes are checked here, not call=play" })
      assert.strictEqual(yield* status(form("", {})), 400)
      assert.strictEqual(yield* status(form("cam", { app: "" })), 400)
      const get = yield* hook({}, { method: "GET", body: null })
      assert.strictEqual(get.status, 405)
    }).pipe(withEmulator()))

  it.live("logs each call (call, app, name, addr, the answer), no other field", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.map(Logger.logfmtLogger, (line) => {
          lines.push(line)
        })
      )
      yield* Effect.gen(function*() {
        yield* push("cam")
        yield* hook(form("cam", { token: "s3cr3t-token" }))
        yield* hook(form("nope"))
      }).pipe(Effect.provide(Emulator.layer(baseOptions).pipe(Layer.provide(capture))))
      const checks = lines.filter((line) => line.includes("/rtmp/on_publish"))
      assert.lengthOf(checks, 2)
      assert.include(checks[0]!, "POST /rtmp/on_publish call=publish app=live name=cam addr=127.0.0.1 -> HTTP 200")
      assert.include(checks[1]!, "name=nope addr=127.0.0.1 -> HTTP 403 (refused: no push dispatch of stream nope")
      for (const line of checks) assert.notInclude(line, "s3cr3t")
    }))
})

describe("the publishWindow option", () => {
  it.effect("must be a positive duration", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Emulator.make({ ...baseOptions, publishWindow: 0 }))
      assert.strictEqual(error._tag, "InvalidOptionsError")
      assert.include(error.message, "publishWindow")
    }).pipe(Effect.scoped))

  it.live("is read from a JSON file as a text duration or milliseconds", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "zego-emulator-"))),
      (dir) =>
        Effect.gen(function*() {
          const windows: Array<Duration.Duration | undefined> = []
          for (const publishWindow of ["30 minutes", 5000]) {
            const file = path.join(dir, "emulator.json")
            fs.writeFileSync(file, JSON.stringify({ apps: [{ appId: 1, serverSecret: "x" }], publishWindow }))
            const options = yield* Emulator.loadOptions(file)
            windows.push(options.publishWindow === undefined ? undefined : Duration.decode(options.publishWindow))
          }
          assert.deepStrictEqual(windows, [Duration.minutes(30), Duration.seconds(5)])
        }).pipe(Effect.provide(NodeFileSystem.layer)),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    ))
})
