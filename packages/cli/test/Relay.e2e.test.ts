/**
 * Restream end to end on loopback, with real tools: ffmpeg publishes a test pattern to a node the real `zego-rtmp`
 * dispatched (the emulator's media node, nginx-rtmp); `zego-rtmp relay start` has the emulator relay it (ffmpeg
 * `-c copy`) to a second nginx-rtmp standing in for the CDN; an ffmpeg player decodes frames from the CDN;
 * `zego-rtmp relay stop` ends the relay, and the relayed stream ends on the CDN while the stream itself goes on.
 *
 * Every tool runs under `timeout` in its own process group (see `utils/media.ts`); every wait only guards against a
 * hang, and every outcome is asserted from what the tools and the emulator did.
 */
import { Params } from "@effect-zego/core"
import { Emulator, MediaNode } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as MediaCommands from "../src/MediaCommands.js"
import type * as Output from "../src/Output.js"
import * as Bin from "./utils/bin.js"
import { dispatchJson, obsUrl, runTool, stack, startTool, TOOL_SECONDS, WAIT_MILLIS } from "./utils/media.js"

/** The test's time limit: a few seconds on an idle machine; the margin is for a busy one. */
const TEST_TIMEOUT = 180_000

/** Polls `read` until `ok` holds of its value, for at most {@link WAIT_MILLIS}. */
const until = <A>(what: string, read: Effect.Effect<A>, ok: (value: A) => boolean) =>
  Effect.gen(function*() {
    const deadline = Date.now() + WAIT_MILLIS
    let value = yield* read
    while (!ok(value)) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`${what}: not after ${WAIT_MILLIS} ms`)
      yield* Effect.sleep("50 millis")
      value = yield* read
    }
    return value
  })

describe("restream end to end: zego-rtmp relay, the emulator's media node, a second nginx-rtmp as the CDN, ffmpeg", () => {
  it.scopedLive(
    "relay start sends the live stream to the CDN, where a player decodes it; relay stop ends it there",
    () =>
      Effect.gen(function*() {
        const { emulator, env, media } = yield* stack()
        const cdn = yield* MediaNode.make({ startTimeout: WAIT_MILLIS })
        const stream = "e2e-relay"
        const cdnUrl = `${cdn.url}relayed-key`
        const cli = (args: ReadonlyArray<string>) =>
          Effect.tap(
            Bin.run([...args, "--json"], { env }),
            (result) => assert.strictEqual(result.code, 0, result.stderr)
          )

        // OBS, played by ffmpeg, publishes to the dispatched node for as long as the test needs.
        const url = obsUrl(yield* dispatchJson(env, "push", stream))
        const publisher = yield* startTool(
          MediaCommands.publish(url, { size: "320x240", durationSeconds: 80 }),
          TOOL_SECONDS
        )
        yield* until("the stream is live", emulator.streamState(stream), (state) => state?._tag === "Active")

        const startedJson = (yield* cli(["relay", "start", "--stream-id", stream, "--cdn-url", cdnUrl])).stdout
        const started = JSON.parse(startedJson) as Output.RelayJson
        // Printed with the CDN's stream key masked; sent whole (the CDN gets the stream under that key, below).
        assert.deepStrictEqual({ ...started, requestId: "" }, {
          requestId: "",
          action: "CreatCDNTransferRule",
          streamId: stream,
          cdnUrl: Params.maskCdnUrl(cdnUrl)
        })
        assert.notInclude(startedJson, "relayed-key")
        const [running] = yield* until(
          "the relay runs",
          emulator.relays,
          (relays) => relays.length === 1 && relays[0]!.state === "running"
        )
        assert.strictEqual(running?.source, `${media.url}${stream}`, "played from the media node")

        // A player of the CDN: 30 video frames decoded (it waits for the relay's publish if it comes first).
        const player = yield* runTool({
          program: "ffmpeg",
          args: ["-hide_banner", "-nostdin", "-i", cdnUrl, "-map", "0:v:0", "-frames:v", "30", "-f", "null", "-"]
        }, TOOL_SECONDS)
        assert.strictEqual(player.code, 0, `the CDN's player failed: ${player.stderr}`)
        const frames = [...player.stderr.matchAll(/frame=\s*(\d+)/g)].map((match) => Number(match[1]))
        assert.strictEqual(frames.at(-1), 30, "video frames decoded from the CDN")
        assert.match(yield* cdn.errorLog, /publish: name='relayed-key'/, "the relay published to the CDN")

        const stopped = JSON.parse(
          (yield* cli(["relay", "stop", "--stream-id", stream, "--cdn-url", cdnUrl])).stdout
        ) as Output.RelayJson
        assert.strictEqual(stopped.action, "DeleteCDNTransferRule")
        const [over] = yield* until(
          "the relay stops",
          emulator.relays,
          (relays) => relays[0]?.state === "stopped"
        )
        assert.strictEqual(over?.reason, "DeleteCDNTransferRule")
        // nginx-rtmp logs a session when it ends: the relayed stream's publish on the CDN is over.
        yield* until("the CDN's publish ends", cdn.accessLog, (log) => /PUBLISH "live" "relayed-key"/.test(log))
        // The stream itself goes on: only the relay stopped.
        assert.isTrue(yield* publisher.running, "the publisher still runs")
        assert.strictEqual((yield* emulator.streamState(stream))?._tag, "Active")
        const records: ReadonlyArray<Emulator.RelayRecord> = yield* emulator.relays
        assert.lengthOf(records, 1)
      }),
    TEST_TIMEOUT
  )
})
