/**
 * End to end on loopback, with real tools: the emulator's pools point at a real RTMP server (nginx with its RTMP
 * module, run by `MediaNode`, publishes checked by the emulator's `on_publish`); the real `zego-rtmp` dispatches;
 * ffmpeg publishes as OBS would, with the command the CLI prints; ffmpeg records what a player receives and ffprobe
 * decodes it. Needs the Debian packages nginx, libnginx-mod-rtmp and ffmpeg (CI installs them): without them these
 * tests fail, naming the package.
 *
 * Every ffmpeg and ffprobe runs under `timeout -k 5 <seconds>` (ffmpeg can ignore a first SIGTERM while blocked on
 * RTMP) in its own process group, killed with the test's scope; the player is capped with `-frames:v`.
 */
import { MediaNode } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as MediaCommands from "../src/MediaCommands.js"
import type * as Output from "../src/Output.js"
import * as Bin from "./utils/bin.js"
import {
  dispatchJson,
  obsUrl,
  requireTool,
  runTool,
  stack,
  startTool,
  TOOL_SECONDS,
  WAIT_MILLIS
} from "./utils/media.js"

/**
 * Each test's time limit. A test takes 1 to 8 seconds on an idle machine (the five, one after the other, about 20);
 * the margin is for a busy machine ten times slower. The tests run one at a time: each runs real-time encoders and
 * players. The limits below (a tool's `timeout`, a log line, a process's end) are sized the same way: each only
 * guards against a hang, and every outcome is asserted from what the tools did.
 */
const TEST_TIMEOUT = 180_000

/** The test pattern the CLI's publish command sends by default. */
const WIDTH = 1280
const HEIGHT = 720

/** What the tests that do not look at the picture publish: a 720p encode costs a third of a core, this a tenth of it. */
const SMALL = "320x240"

/** Polls nginx's error log until `pattern` shows, while `alive` holds. */
const awaitLog = (media: MediaNode.Service, pattern: RegExp, alive: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    const deadline = Date.now() + WAIT_MILLIS
    while (!pattern.test(yield* media.errorLog)) {
      if (!(yield* alive)) return yield* Effect.dieMessage(`gave up waiting for ${pattern} in nginx's error log`)
      if (Date.now() > deadline) {
        return yield* Effect.dieMessage(`no ${pattern} in nginx's error log after ${WAIT_MILLIS} ms`)
      }
      yield* Effect.sleep("50 millis")
    }
  })

/** What ffprobe says of a stream of a file, after decoding every frame (`-count_frames`). */
interface ProbedStream {
  readonly codec_type: string
  readonly codec_name: string
  readonly width?: number
  readonly height?: number
  readonly nb_read_frames?: string
}

const probe = (file: string) =>
  Effect.gen(function*() {
    const ffprobe: MediaCommands.CommandLine = {
      program: "ffprobe",
      args: [
        "-v",
        "error",
        "-count_frames",
        "-show_entries",
        "stream=codec_type,codec_name,width,height,nb_read_frames",
        "-of",
        "json",
        file
      ]
    }
    const result = yield* runTool(ffprobe, TOOL_SECONDS)
    assert.strictEqual(result.code, 0, result.stderr)
    return (JSON.parse(result.stdout) as { readonly streams: ReadonlyArray<ProbedStream> }).streams
  })

/** Whether a process runs (a zombie, dead but not yet reaped, does not). */
const alive = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return false
  }
}

/** Waits up to {@link WAIT_MILLIS} for a process to end; whether it did. */
const ends = (pid: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + WAIT_MILLIS
    while (alive(pid) && Date.now() < deadline) yield* Effect.sleep("50 millis")
    return !alive(pid)
  })

/** The variables of a printed `export A=1 B='x'` line. */
const exported = (line: string): Record<string, string> =>
  Object.fromEntries(
    line.replace(/^export /, "").split(" ").map((assignment) => {
      const [name, ...value] = assignment.split("=")
      return [name!, value.join("=").replace(/^'(.*)'$/, "$1")]
    })
  )

describe("RTMP end to end: zego-rtmp, the emulator, nginx-rtmp, ffmpeg", () => {
  it.scopedLive(
    "OBS's Server + Stream key publish a test pattern; a player of the pull URL gets its video and audio",
    () =>
      Effect.gen(function*() {
        const { emulator, env, folder, media } = yield* stack()
        const stream = "e2e-live"
        const expectedUrl = `rtmp://127.0.0.1:${media.port}/live/${stream}`

        // The dispatches, through the real CLI: the JSON for the URLs, the human text for the commands it prints.
        const [push, pull, pushText, pullText] = yield* Effect.all([
          dispatchJson(env, "push", stream),
          dispatchJson(env, "pull", stream),
          Bin.run(["dispatch", "--type", "push", "--stream-id", stream], { env }),
          Bin.run(["dispatch", "--type", "pull", "--stream-id", stream], { env })
        ], { concurrency: "unbounded" })
        assert.strictEqual(push.url, expectedUrl)
        assert.deepStrictEqual([push.obsServer, push.obsStreamKey], [media.url, stream])
        assert.strictEqual(pull.url, expectedUrl)
        const publishUrl = obsUrl(push)
        assert.include(pushText.stdout, MediaCommands.publishCommand(publishUrl), "the command printed is this one")
        assert.include(pullText.stdout, MediaCommands.recordCommand(pull.url), "the command printed is this one")

        // The player first: the CLI's record command, capped at 60 video frames, waiting for the stream.
        const received = path.join(folder, "received.flv")
        const player = yield* startTool(
          MediaCommands.record(pull.url, { output: received, videoFrames: 60 }),
          TOOL_SECONDS
        )
        yield* awaitLog(media, new RegExp(`play: name='${stream}'`), player.running)

        // Then OBS, played by ffmpeg: the CLI's publish command for 3 seconds, to the URL rebuilt from OBS's fields.
        const publisher = yield* runTool(MediaCommands.publish(publishUrl, { durationSeconds: 3 }), TOOL_SECONDS)
        assert.strictEqual(publisher.code, 0, `the publish failed: ${publisher.stderr}`)
        const played = yield* player.exit
        assert.strictEqual(played.code, 0, `the player failed: ${played.stderr}`)

        const streams = yield* probe(received)
        const video = streams.find((s) => s.codec_type === "video")
        const audio = streams.find((s) => s.codec_type === "audio")
        assert.isDefined(video, JSON.stringify(streams))
        assert.deepStrictEqual(
          { codec: video?.codec_name, width: video?.width, height: video?.height },
          { codec: "h264", width: WIDTH, height: HEIGHT }
        )
        const frames = Number(video?.nb_read_frames)
        assert.isAtLeast(frames, 50, "decoded video frames")
        assert.isAtMost(frames, 60, "capped by -frames:v")
        assert.strictEqual(audio?.codec_name, "aac", JSON.stringify(streams))
        assert.isAbove(Number(audio?.nb_read_frames), 0, "decoded audio frames")

        const checks = yield* emulator.publishChecks
        assert.deepStrictEqual(
          checks.map(({ allowed, app, name, status }) => ({ allowed, app, name, status })),
          [{ allowed: true, app: "live", name: stream, status: 200 }]
        )
        const access = yield* media.accessLog
        assert.match(access, new RegExp(`PUBLISH "live" "${stream}"`))
      }),
    TEST_TIMEOUT
  )

  it.scopedLive("a publish of a stream never dispatched is refused", () =>
    Effect.gen(function*() {
      const { emulator, media } = yield* stack()
      const url = `${media.url}never-dispatched`
      const publisher = yield* runTool(MediaCommands.publish(url, { size: SMALL, durationSeconds: 1 }), TOOL_SECONDS)
      assert.notStrictEqual(publisher.code, 0, "ffmpeg must fail")
      assert.notStrictEqual(publisher.code, 124, "refused, not timed out")
      assert.include(publisher.stderr, "Input/output error")
      const checks = yield* emulator.publishChecks
      assert.deepStrictEqual(checks.map(({ allowed, name, reason, status }) => ({ allowed, name, reason, status })), [{
        allowed: false,
        name: "never-dispatched",
        reason: "no push dispatch of stream never-dispatched (never dispatched, or forgotten)",
        status: 403
      }])
      assert.match(yield* media.errorLog, /publish: name='never-dispatched'/)
    }), TEST_TIMEOUT)

  it.scopedLive(
    "a publish is refused once the emulator has forgotten the dispatch, or it is too old",
    () =>
      Effect.gen(function*() {
        const { emulator, env, media } = yield* stack({ publishWindow: "2 seconds" })
        const [forgotten, old] = yield* Effect.all([
          dispatchJson(env, "push", "forgotten"),
          dispatchJson(env, "push", "old")
        ], { concurrency: "unbounded" })
        yield* emulator.forget("forgotten")
        const publish = (node: Output.NodeJson) =>
          runTool(MediaCommands.publish(obsUrl(node), { size: SMALL, durationSeconds: 1 }), TOOL_SECONDS)
        const first = yield* publish(forgotten)
        assert.notStrictEqual(first.code, 0, "ffmpeg must fail")
        assert.notStrictEqual(first.code, 124, "refused, not timed out")
        const dispatchedAt = (yield* emulator.dispatched).find((record) => record.streamId === "old")!.time
        yield* Effect.sleep(Duration.millis(Math.max(0, dispatchedAt.epochMillis + 2_100 - Date.now())))
        const second = yield* publish(old)
        assert.notStrictEqual(second.code, 0, "ffmpeg must fail")
        assert.notStrictEqual(second.code, 124, "refused, not timed out")
        const checks = yield* emulator.publishChecks
        assert.deepStrictEqual(checks.map(({ allowed, name }) => ({ allowed, name })), [
          { allowed: false, name: "forgotten" },
          { allowed: false, name: "old" }
        ])
        assert.strictEqual(checks[0]?.reason, "no push dispatch of stream forgotten (never dispatched, or forgotten)")
        assert.match(checks[1]!.reason, /^stream old was dispatched \d+s( \d+ms)? ago; a node must be used within 2s$/)
        assert.match(yield* media.errorLog, /publish: name='old'/)
      }),
    TEST_TIMEOUT
  )

  it.scopedLive("nginx fails closed: with the check unreachable, a publish is refused", () =>
    Effect.gen(function*() {
      yield* requireTool("ffmpeg", "ffmpeg")
      const closed = yield* MediaNode.freePort()
      const media = yield* MediaNode.make({
        onPublish: `http://127.0.0.1:${closed}/rtmp/on_publish`,
        startTimeout: WAIT_MILLIS
      })
      const url = `${media.url}anything`
      const publisher = yield* runTool(MediaCommands.publish(url, { size: SMALL, durationSeconds: 1 }), TOOL_SECONDS)
      assert.notStrictEqual(publisher.code, 0, "ffmpeg must fail")
      assert.notStrictEqual(publisher.code, 124, "refused, not timed out")
    }), TEST_TIMEOUT)

  it.scopedLive(
    "stream control through the CLI: state active, forbid cuts the publisher off and refuses one, resume, state closed",
    () =>
      Effect.gen(function*() {
        const { emulator, env } = yield* stack()
        const stream = "e2e-control"
        const cli = (args: ReadonlyArray<string>) =>
          Effect.tap(Bin.run([...args, "--stream-id", stream, "--json"], { env }), (result) => {
            assert.strictEqual(result.code, 0, result.stderr)
          })
        const state = Effect.map(
          cli(["stream", "state"]),
          (result) => (JSON.parse(result.stdout) as Output.StreamStateJson).state
        )
        const streamState = (tag: "Active" | "Closed") =>
          Effect.gen(function*() {
            const deadline = Date.now() + WAIT_MILLIS
            while ((yield* emulator.streamState(stream))?._tag !== tag) {
              if (Date.now() > deadline) return yield* Effect.dieMessage(`the stream never became ${tag}`)
              yield* Effect.sleep("50 millis")
            }
          })

        const url = obsUrl(yield* dispatchJson(env, "push", stream))
        const first = yield* startTool(MediaCommands.publish(url, { size: SMALL, durationSeconds: 60 }), TOOL_SECONDS)
        yield* streamState("Active")
        assert.strictEqual(yield* state, "active")

        const forbidAt = Date.now()
        assert.strictEqual(JSON.parse((yield* cli(["stream", "forbid"])).stdout).state, "forbidden")
        // nginx asks on_update every second; the bound is for a busy machine, the time is what it took.
        const cut = yield* first.exit
        const cutAfter = Date.now() - forbidAt
        assert.notStrictEqual(cut.code, 0, "the publisher was cut off")
        assert.notStrictEqual(cut.code, 124, "cut off, not timed out")
        assert.isBelow(cutAfter, WAIT_MILLIS, `cut off ${cutAfter} ms after the forbid`)
        const refused = yield* runTool(MediaCommands.publish(url, { size: SMALL, durationSeconds: 1 }), TOOL_SECONDS)
        assert.notStrictEqual(refused.code, 0, "a new publish is refused while forbidden")

        assert.strictEqual(JSON.parse((yield* cli(["stream", "resume"])).stdout).state, "resumed")
        const again = yield* runTool(MediaCommands.publish(url, { size: SMALL, durationSeconds: 2 }), TOOL_SECONDS)
        assert.strictEqual(again.code, 0, `the publish after the resume failed: ${again.stderr}`)
        yield* streamState("Closed")
        assert.strictEqual(yield* state, "closed")
      }),
    TEST_TIMEOUT
  )

  it.scopedLive(
    "zego-rtmp emulator --media-node: what it dispatches can be published to; SIGTERM stops nginx too",
    () =>
      Effect.gen(function*() {
        yield* requireTool("ffmpeg", "ffmpeg")
        const emulator = yield* Bin.spawnBin(["emulator", "--media-node"])
        const [, pid, server] = yield* emulator.waitFor(
          /^# RTMP media node \(nginx-rtmp, PID (\d+)\) listening on (rtmp:\/\/127\.0\.0\.1:\d+\/live\/):/m
        )
        const [line] = yield* emulator.waitFor(/^export ZEGO_APP_ID=.*$/m)
        const node = yield* dispatchJson(exported(line), "push", "demo")
        assert.strictEqual(node.obsServer, server)
        const publisher = yield* runTool(
          MediaCommands.publish(obsUrl(node), { size: SMALL, durationSeconds: 1 }),
          TOOL_SECONDS
        )
        assert.strictEqual(publisher.code, 0, `the publish failed: ${publisher.stderr}`)
        const refused = yield* runTool(
          MediaCommands.publish(`${server}other`, { size: SMALL, durationSeconds: 1 }),
          TOOL_SECONDS
        )
        assert.notStrictEqual(refused.code, 0, "a stream not dispatched is refused")
        const log = yield* emulator.stderr
        assert.include(log, "POST /rtmp/on_publish call=publish app=live name=demo addr=127.0.0.1 -> HTTP 200")
        assert.include(log, "name=other addr=127.0.0.1 -> HTTP 403")

        assert.isTrue(alive(Number(pid)))
        yield* emulator.kill("SIGTERM")
        const exit = yield* emulator.exit
        assert.strictEqual(exit.code, 0, exit.stderr)
        assert.include(exit.stderr, "emulator and media node stopped")
        assert.isTrue(yield* ends(Number(pid)), "nginx is stopped with the emulator")
      }),
    TEST_TIMEOUT
  )

  it.scopedLive(
    "zego-rtmp emulator --media-node killed with SIGKILL leaves no nginx behind",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Bin.spawnBin(["emulator", "--media-node"])
        const [, pid, folder] = yield* emulator.waitFor(
          /^# RTMP media node \(nginx-rtmp, PID (\d+)\) .*; its logs are in (\/\S*zego-media-node-\w+)$/m
        )
        assert.isTrue(alive(Number(pid)))
        yield* emulator.kill("SIGKILL")
        yield* emulator.exit
        assert.isTrue(yield* ends(Number(pid)), "nginx gets SIGTERM when its parent dies (setpriv --pdeathsig)")
        // Nothing removes the temporary folder of a process killed with SIGKILL: the test does.
        assert.isTrue(fs.existsSync(`${folder}/nginx.conf`))
        fs.rmSync(folder!, { recursive: true, force: true })
      }),
    TEST_TIMEOUT
  )
})
