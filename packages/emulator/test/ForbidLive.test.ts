/**
 * ForbidRTCStream against a real publisher: nginx with its RTMP module (MediaNode) asks the emulator's on_publish,
 * on_update (every second) and on_publish_done; ffmpeg publishes a test pattern. Needs nginx, libnginx-mod-rtmp and
 * ffmpeg (CI installs them). Deadlines are generous: nginx's update timer is 1 second, but a loaded machine is slow.
 */
import { Emulator, MediaNode } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { spawn } from "node:child_process"
import { prodApp, rawCall, signedParams } from "./utils.js"

/** ffmpeg publishing a small test pattern in real time for up to a minute; killed when the scope closes. */
const publisher = (url: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn("ffmpeg", [
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-t",
        "60",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
        "-f",
        "flv",
        url
      ], { stdio: "ignore" })
      const exited = new Promise<number | null>((resolve) => {
        child.once("exit", (code) => resolve(code))
        child.once("error", () => resolve(-1))
      })
      return { child, exited }
    }),
    ({ child }) => Effect.sync(() => void child.kill("SIGKILL"))
  )

/** Polls `check` every 100 ms (real time) until it holds; false after `millis`. */
const eventually = (check: Effect.Effect<boolean>, millis: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + millis
    while (Date.now() < deadline) {
      if (yield* check) return true
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 100)))
    }
    return yield* check
  })

let sequence = Date.now()

/** A signed call to `emulator`: its envelope. */
const signedCallTo = (emulator: Emulator.Service) => (params: Record<string, string | undefined>) =>
  Effect.flatMap(signedParams(prodApp, { Type: undefined, Sequence: String(++sequence), ...params }), rawCall).pipe(
    Effect.provideService(Emulator.Emulator, emulator)
  )

describe("ForbidRTCStream with nginx-rtmp and ffmpeg", () => {
  it.live(
    "a live publisher is dropped at its next on_update; the stream closes; resume lets it publish again",
    () =>
      Effect.gen(function*() {
        const node = { host: "127.0.0.1", port: yield* MediaNode.freePort(), app: "live" }
        const emulator = yield* Emulator.make({ apps: [prodApp], nodes: { push: [node], pull: [node] } })
        const signedCall = signedCallTo(emulator)
        const media = yield* MediaNode.make({ port: node.port, onPublish: emulator.onPublishUrl })
        assert.include(media.config, "notify_update_timeout 1s;")
        const dispatch = yield* signedCall({ Action: "RTMPDispatchV2", StreamId: "live-cam", Type: "push" })
        assert.strictEqual(dispatch.body.Code, 0)
        const url = (dispatch.body.Data as ReadonlyArray<string>)[0]!

        const first = yield* publisher(url)
        const active = Effect.map(emulator.streamState("live-cam"), (state) => state?._tag === "Active")
        assert.isTrue(yield* eventually(active, 20_000), "ffmpeg's publish made the stream active")
        const state = yield* signedCall({ Action: "DescribeRTCStreamState", StreamId: "live-cam" })
        assert.strictEqual(state.body.Code, 0)

        const forbidAt = Date.now()
        assert.strictEqual((yield* signedCall({ Action: "ForbidRTCStream", StreamId: "live-cam" })).body.Code, 0)
        const closed = Effect.map(emulator.streamState("live-cam"), (state) => state?._tag === "Closed")
        assert.isTrue(yield* eventually(closed, 15_000), "nginx dropped the publisher and said so")
        const droppedAfter = Date.now() - forbidAt
        const hooks = yield* emulator.streamHooks
        const refused = hooks.find((call) => call.hook === "on_update" && call.status === 403)
        assert.isDefined(refused, JSON.stringify(hooks.slice(-5)))
        assert.isDefined(hooks.find((call) => call.hook === "on_publish_done" && call.name === "live-cam"))
        // nginx's timer is 1 s, so about 1 s; the bound is loose for a loaded machine.
        assert.isBelow(droppedAfter, 10_000, `dropped ${droppedAfter} ms after the forbid`)
        const exit = yield* Effect.promise(() => first.exited)
        assert.notStrictEqual(exit, 0, "ffmpeg lost its connection")
        assert.strictEqual(
          (yield* signedCall({ Action: "DescribeRTCStreamState", StreamId: "live-cam" })).body.Code,
          41006
        )

        // Forbidden: a new publish is refused by on_publish.
        const second = yield* publisher(url)
        assert.notStrictEqual(yield* Effect.promise(() => second.exited), 0, "the publish is refused")
        assert.deepStrictEqual((yield* emulator.publishChecks).map((check) => check.status), [200, 403])

        // Resumed: it publishes again.
        assert.strictEqual((yield* signedCall({ Action: "ResumeRTCStream", StreamId: "live-cam" })).body.Code, 0)
        yield* publisher(url)
        assert.isTrue(yield* eventually(active, 20_000), "published again after the resume")
      }).pipe(Effect.scoped, Effect.provide(Logger.minimumLogLevel(LogLevel.None))),
    90_000
  )
})
