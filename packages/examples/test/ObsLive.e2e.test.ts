/**
 * The README's app (`src/obsLive.ts`) run as a program, end to end on loopback with real parts: the emulator (which
 * sends signed callbacks to the app), nginx-rtmp as its media node, and ffmpeg publishing as OBS would to what
 * `POST /obs/ingest` answered. The tracker must say live once the create callback is applied, closed with reason
 * `normal` once ffmpeg stops; and with the create callback dropped, live all the same after its repair check.
 *
 * Needs nginx, libnginx-mod-rtmp and ffmpeg (`.ci/run` installs them). Every wait below only guards against a
 * hang, sized for a machine ten times slower; the outcomes are asserted from what the parts did.
 */
import { Emulator, Fault, MediaNode } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { app, eventually, http, publish, requireTool, start, untilListening, WAIT_MILLIS } from "./processes.js"

const CALLBACK_SECRET = "e2e-callback-secret"
const INGEST_TOKEN = "e2e-ingest-token"

/** The stack: emulator → nginx-rtmp, and the example app the emulator calls back. */
const stack = Effect.gen(function*() {
  yield* requireTool("ffmpeg", "ffmpeg")
  const rtmpPort = yield* MediaNode.freePort()
  const appPort = yield* MediaNode.freePort()
  const node = { host: "127.0.0.1", port: rtmpPort, app: "live" }
  const emulator = yield* Effect.locally(
    Emulator.make({
      apps: [{
        ...Emulator.demoApp,
        callbackUrl: `http://127.0.0.1:${appPort}/zego/callback`,
        callbackSecret: Redacted.make(CALLBACK_SECRET)
      }],
      nodes: { push: [node], pull: [node] },
      rateLimit: false,
      callbackRetryScale: 0.05
    }),
    FiberRef.currentMinimumLogLevel,
    LogLevel.Warning
  )
  yield* MediaNode.make({ port: rtmpPort, onPublish: emulator.onPublishUrl, startTimeout: WAIT_MILLIS })
  const server = yield* start(process.execPath, [app], {
    ZEGO_APP_ID: String(Emulator.demoApp.appId),
    ZEGO_SERVER_SECRET: Redacted.value(Emulator.demoApp.serverSecret),
    ZEGO_BASE_URL: emulator.baseUrl,
    ZEGO_CALLBACK_SECRET: CALLBACK_SECRET,
    INGEST_TOKEN,
    PORT: String(appPort)
  })
  yield* untilListening(server, "the app")
  const base = `http://127.0.0.1:${appPort}`
  const ingest = (stream: string) =>
    http(`${base}/obs/ingest?stream=${stream}`, {
      method: "POST",
      headers: { authorization: `Bearer ${INGEST_TOKEN}` }
    })
  const status = (stream: string) => http(`${base}/streams/${stream}`)
  /** The emulator's record of a delivered callback of `event` for `stream`. */
  const delivered = (event: string, stream: string) =>
    eventually(
      `a delivered ${event} for ${stream}`,
      Effect.map(emulator.callbacks, (records) =>
        records.find((record) =>
          record.event === event && record.streamId === stream && record.status === "delivered"
        ))
    )
  return { base, emulator, ingest, status, delivered }
})

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.scoped(effect)

describe("the README's app, end to end", () => {
  it.live(
    "ingest → ffmpeg publishes → live from the callback → stop → closed normal; a dropped create is repaired",
    () =>
      run(Effect.gen(function*() {
        const { base, delivered, emulator, ingest, status } = yield* stack

        const noToken = yield* http(`${base}/obs/ingest?stream=match-42`, { method: "POST" })
        assert.strictEqual(noToken.status, 403)

        // 1. The callback path.
        const answer = yield* ingest("match-42")
        assert.strictEqual(answer.status, 200, JSON.stringify(answer.json))
        assert.deepStrictEqual(Object.keys(answer.json).sort(), ["server", "streamKey", "url", "useBy"])
        assert.strictEqual(`${answer.json.server}${answer.json.streamKey}`, answer.json.url)
        const useBy = Date.parse(answer.json.useBy!)
        assert.isTrue(Math.abs(useBy - Date.now() - 2 * 3600_000) < WAIT_MILLIS)

        // The app's caller (this test, on 127.0.0.1) is the publisher ZEGOCLOUD picks a node for.
        const [dispatch] = yield* emulator.dispatched
        assert.strictEqual(dispatch?.type, "push")
        assert.strictEqual(dispatch?.clientIp, "127.0.0.1")

        const ffmpeg = yield* publish(answer.json.url!)
        yield* delivered("stream_create", "match-42")
        // The endpoint answers 2xx only once the event is applied: the very next read says live, from the callback.
        const live = yield* status("match-42")
        assert.strictEqual(live.json.state, "live", JSON.stringify(live.json))
        assert.strictEqual(live.json.source, "callback")

        yield* ffmpeg.signal("SIGINT")
        yield* ffmpeg.exit
        yield* delivered("stream_close", "match-42")
        const closed = yield* status("match-42")
        assert.strictEqual(closed.json.state, "closed", JSON.stringify(closed.json))
        assert.strictEqual(closed.json.reason, "normal")

        // 2. The create callback lost: the tracker's repair check asks DescribeRTCStreamState.
        yield* emulator.addFault({ callback: Fault.callbackDrop, event: "stream_create", streamId: "^match-43$" })
        const again = yield* ingest("match-43")
        assert.strictEqual(again.status, 200)
        const second = yield* publish(again.json.url!)
        yield* eventually(
          "match-43 to be active on the emulator",
          Effect.map(emulator.streamState("match-43"), (state) => (state?._tag === "Active" ? state : undefined))
        )
        const repaired = yield* status("match-43")
        assert.strictEqual(repaired.json.state, "live", JSON.stringify(repaired.json))
        assert.strictEqual(repaired.json.source, "describe")
        yield* second.signal("SIGINT")
        yield* second.exit
        yield* delivered("stream_close", "match-43")
        const end = yield* status("match-43")
        assert.strictEqual(end.json.state, "closed")
        assert.strictEqual(end.json.reason, "normal")
      })),
    180_000
  )
})
