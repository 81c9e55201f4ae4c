/**
 * The emulator's dashboard in a real browser: `zego-rtmp emulator --media-node --callback-url …` runs, headless
 * Chromium (Debian's, driven by playwright-core) opens the dashboard URL it prints, ffmpeg publishes a test pattern to
 * a node the emulator dispatched, and the page is watched as a person would: the stream turns active, its preview
 * plays, a forbid from the page (with the keyboard) cuts the publisher, the callbacks panel shows each attempt. A
 * stream id with `<script>` shows as text. Needs chromium, nginx, libnginx-mod-rtmp and ffmpeg (CI installs them).
 *
 * One browser and one emulator for the whole story, to keep the test command cheap; every wait is on an outcome, with
 * a deadline for a busy machine. With `ZEGO_UPDATE_SCREENSHOT=1` the screenshot it takes while the preview plays is
 * written to docs/dashboard.png (the README shows it).
 */
import { Signature } from "@effect-zego/core"
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"
import * as MediaCommands from "../src/MediaCommands.js"
import * as Bin from "./utils/bin.js"
import { requireTool, startTool, TOOL_SECONDS } from "./utils/media.js"

/** Debian's chromium (scripts/system-tools.sh installs it). */
const CHROMIUM = "/usr/bin/chromium"

/** How long an outcome may take to show in the page on a busy machine (it takes a second or two on an idle one). */
const WAIT_MILLIS = 45_000

/** The published test pattern: the preview must have its width. */
const WIDTH = 640

const SCREENSHOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../docs/dashboard.png")

/** A stream id that must show as text: markup, a script, an image that would run code. */
const HOSTILE = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">"

/** A receiver of the emulator's callbacks: it answers 200 to each and counts them. */
const receiver = Effect.acquireRelease(
  Effect.async<{ readonly server: Http.Server; readonly url: string; readonly received: () => number }>((resume) => {
    let received = 0
    const server = Http.createServer((request, response) => {
      request.resume()
      request.once("end", () => {
        received++
        response.writeHead(200).end("ok")
      })
    })
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/zego/callback`,
        received: () => received
      })))
  }),
  ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
)

const browser = Effect.acquireRelease(
  Effect.tryPromise({
    try: () =>
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // Nothing but the page: no background requests, no updates, no QUIC, no GPU.
        args: [
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync"
        ]
      }),
    catch: (error) =>
      new Error(`Chromium at ${CHROMIUM} does not start (scripts/system-tools.sh installs Debian's chromium): ${error}`)
  }),
  (browser) => Effect.promise(() => browser.close())
)

/** A signed call of the demo app to the emulator at `baseUrl`: its envelope. */
const call = (baseUrl: string, params: Record<string, string>) =>
  Effect.gen(function*() {
    const app = Emulator.demoApp
    const nonce = yield* Signature.makeNonce
    const timestamp = Math.floor(Date.now() / 1000)
    const query = new URLSearchParams({
      Action: "RTMPDispatchV2",
      Sequence: String(Date.now()),
      AppId: String(app.appId),
      SignatureNonce: nonce,
      Timestamp: String(timestamp),
      SignatureVersion: "2.0",
      Signature: Signature.sign({ appId: app.appId, nonce, serverSecret: app.serverSecret, timestamp }),
      ...params
    })
    const response = yield* Effect.promise(() => fetch(`${baseUrl}/?${query}`))
    return (yield* Effect.promise(() => response.json())) as { readonly Code: number; readonly Data?: unknown }
  })

/** A forbid request to the dashboard as another page or a tool would send it. */
const forbid = (origin: string, headers: Record<string, string>) =>
  Effect.promise(() =>
    fetch(`${origin}/api/forbid`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ streamId: "dash-cam" })
    }).then((response) => response.status)
  )

describe("the emulator's dashboard in Chromium", () => {
  it.scopedLive(
    "shows a published stream active with its preview playing; forbid from the page cuts it; callbacks and text show",
    () =>
      Effect.gen(function*() {
        yield* requireTool("ffmpeg", "ffmpeg")
        const callbacks = yield* receiver
        const emulator = yield* Bin.spawnBin(["emulator", "--media-node", "--callback-url", callbacks.url], {
          env: { ZEGO_CALLBACK_SECRET: "dashboard-callback-secret" }
        })
        const [, dashboardUrl] = yield* emulator.waitFor(
          /^# Dashboard \(.*\): (http:\/\/127\.0\.0\.1:\d+\/\?token=\w+)$/m
        )
        const [, baseUrl] = yield* emulator.waitFor(/^export .*ZEGO_BASE_URL=(\S+)/m)
        const origin = new URL(dashboardUrl!).origin

        const page = yield* Effect.flatMap(browser, (browser) =>
          Effect.promise(() => browser.newPage({ viewport: { width: 1200, height: 900 } })))
        yield* Effect.promise(() =>
          page.goto(dashboardUrl!)
        )
        yield* Effect.promise(() =>
          page.getByRole("status").filter({ hasText: "Live" }).waitFor({ timeout: WAIT_MILLIS })
        )

        // A refused call whose StreamId is markup: the calls panel shows it as text, and nothing of it runs.
        assert.notStrictEqual((yield* call(baseUrl!, { StreamId: HOSTILE, Type: "push" })).Code, 0)
        const dispatched = yield* call(baseUrl!, { StreamId: "dash-cam", Type: "push" })
        assert.strictEqual(dispatched.Code, 0)
        const pushUrl = (dispatched.Data as ReadonlyArray<string>)[0]!
        yield* Effect.promise(() =>
          page.locator("#calls").getByText(`StreamId=${HOSTILE}`).waitFor({ timeout: WAIT_MILLIS })
        )
        const injected = yield* Effect.promise(() =>
          page.evaluate(() => ({
            pwned: (window as unknown as { pwned?: number }).pwned,
            elements: document.querySelectorAll("main script, main img").length
          }))
        )
        assert.deepStrictEqual(injected, { pwned: undefined, elements: 0 })

        // The stream card shows OBS's fields as soon as it is dispatched.
        const card = page.locator("article[data-stream-id=\"dash-cam\"]")
        yield* Effect.promise(() =>
          card.getByText("dispatched, waiting for a publisher").waitFor({ timeout: WAIT_MILLIS })
        )
        assert.strictEqual(
          yield* Effect.promise(() => card.locator(".copyable code").allTextContents()).pipe(
            Effect.map((texts) => texts.join(""))
          ),
          pushUrl
        )

        const publisher = yield* startTool(
          MediaCommands.publish(pushUrl, { size: `${WIDTH}x360`, durationSeconds: 120 }),
          TOOL_SECONDS * 2
        )
        yield* Effect.promise(() =>
          card.locator(".state").filter({ hasText: /^active$/ }).waitFor({ timeout: WAIT_MILLIS })
        )
        // The preview starts on its own, muted; its time advances; it has the published width.
        const video = card.locator("video")
        const playing = (width: number) => {
          const element = document.querySelector("article[data-stream-id=\"dash-cam\"] video") as
            | HTMLVideoElement
            | null
          return element !== null && element.videoWidth === width && element.currentTime > 0 && !element.paused
            ? element.currentTime
            : false
        }
        const started = yield* Effect.promise(() =>
          page.waitForFunction(playing, WIDTH, { timeout: WAIT_MILLIS }).then(async (handle) =>
            Number(await handle.jsonValue())
          )
        )
        yield* Effect.promise(() =>
          page.waitForFunction(
            ([width, started]) => {
              const element = document.querySelector("article[data-stream-id=\"dash-cam\"] video") as HTMLVideoElement
              return element.videoWidth === width && element.currentTime > started + 1
            },
            [WIDTH, started] as const,
            { timeout: WAIT_MILLIS }
          )
        )
        assert.isTrue(yield* Effect.promise(() => video.evaluate((element: HTMLVideoElement) => element.muted)))

        // Refused: no token, a wrong one, another origin. The stream plays on.
        assert.deepStrictEqual([
          yield* forbid(origin, { origin }),
          yield* forbid(origin, { origin, "x-dashboard-token": "0".repeat(32) }),
          yield* forbid(origin, {
            origin: "http://evil.example",
            "x-dashboard-token": new URL(dashboardUrl!).searchParams.get("token")!
          })
        ], [403, 403, 403])

        const callbacksPanel = page.locator("#callbacks")
        yield* Effect.promise(() =>
          callbacksPanel.locator("tr", { hasText: "stream_create" }).filter({ hasText: "HTTP 200" }).waitFor({
            timeout: WAIT_MILLIS
          })
        )
        const screenshot = yield* Effect.promise(() => page.screenshot({ fullPage: true }))
        assert.strictEqual(screenshot.subarray(1, 4).toString("latin1"), "PNG")
        if (process.env.ZEGO_UPDATE_SCREENSHOT === "1") fs.writeFileSync(SCREENSHOT, screenshot)
        assert.isTrue(yield* publisher.running, "the refused forbids changed nothing")
        assert.strictEqual(yield* Effect.promise(() => card.locator(".state").textContent()), "active")

        // Forbid from the page, with the keyboard: the publisher is cut, the page says forbidden.
        yield* Effect.promise(() => card.getByRole("button", { name: "Forbid stream dash-cam" }).focus())
        yield* Effect.promise(() => page.keyboard.press("Enter"))
        yield* Effect.promise(() =>
          card.locator(".state").filter({ hasText: /^forbidden$/ }).waitFor({ timeout: WAIT_MILLIS })
        )
        const exit = yield* publisher.exit
        assert.notStrictEqual(exit.code, 0, "ffmpeg lost its connection")
        yield* Effect.promise(() => card.locator("video").waitFor({ state: "detached", timeout: WAIT_MILLIS }))

        // The callbacks panel: stream_create, then stream_close type 3 (kicked out by the forbid), each answered 200.
        yield* Effect.promise(() =>
          callbacksPanel.locator("tr", { hasText: "stream_close (type 3)" }).filter({ hasText: "HTTP 200" }).waitFor({
            timeout: WAIT_MILLIS
          })
        )
        const rows = yield* Effect.promise(() => callbacksPanel.locator("tbody tr").allInnerTexts())
        assert.lengthOf(rows, 2, rows.join("\n"))
        assert.match(
          rows[0]!,
          /^stream_close \(type 3\)\s+dash-cam\s+http:\/\/127\.0\.0\.1:\d+\/zego\/callback\s+delivered\s+\S.* HTTP 200/
        )
        assert.match(
          rows[1]!,
          /^stream_create\s+dash-cam\s+http:\/\/127\.0\.0\.1:\d+\/zego\/callback\s+delivered\s+\S.* HTTP 200/
        )
        assert.strictEqual(callbacks.received(), 2)

        yield* emulator.kill("SIGTERM")
        const stopped = yield* emulator.exit
        assert.strictEqual(stopped.code, 0, stopped.stderr)
        assert.isFalse(Bin.leaks(stopped.stdout + stopped.stderr, "dashboard-callback-secret"))
        assert.isFalse(Bin.leaks(stopped.stderr, Redacted.value(Emulator.demoApp.serverSecret)))
      }),
    180_000
  )
})
