/**
 * The program in a headless Chromium page (Debian's `chromium`, driven by playwright-core), served from a loopback
 * HTTP server of the test, so the page's origin is `http://127.0.0.1:<port>`. The core's GET is a simple request (no
 * preflight): the browser sends it whatever the origin, and lets the page read the answer only when the emulator
 * allows that origin (`cors`). Refused, each attempt is still a call the emulator answered.
 */
import { Emulator } from "@effect-zego/emulator"
import { assert, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { chromium } from "playwright-core"
import type { Input, Output } from "../src/dispatch.js"
import { app, bundles, dispatchesOnce, withEmulator } from "./utils.js"

/** Debian's chromium (scripts/system-tools.sh installs it). */
const CHROMIUM = "/usr/bin/chromium"

const PAGE = "<!doctype html><meta charset=utf-8><title>effect-zego</title><script src=/browser.js></script>"

/** The page and its script, on a free port of 127.0.0.1: its origin. */
const pageServer = Effect.acquireRelease(
  Effect.async<{ readonly server: Http.Server; readonly origin: string }>((resume) => {
    const script = fs.readFileSync(path.join(bundles, "browser.js"))
    const server = Http.createServer((request, response) => {
      if (request.url === "/browser.js") {
        return response.writeHead(200, { "content-type": "text/javascript" }).end(script)
      }
      if (request.url === "/") return response.writeHead(200, { "content-type": "text/html" }).end(PAGE)
      response.writeHead(404).end()
    })
    server.listen(
      0,
      "127.0.0.1",
      () => resume(Effect.succeed({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
    )
  }),
  ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
)

const browser = Effect.acquireRelease(
  Effect.tryPromise({
    try: () => chromium.launch({ executablePath: CHROMIUM, headless: true }),
    catch: (error) =>
      new Error(`Chromium at ${CHROMIUM} does not start (scripts/system-tools.sh installs Debian's chromium): ${error}`)
  }),
  (browser) => Effect.promise(() => browser.close())
)

/** A page of the test's server in a fresh Chromium: `dispatchOnce` as the page calls it, and the page's origin. */
const chromiumPage = Effect.gen(function*() {
  const { origin } = yield* pageServer
  const page = yield* Effect.flatMap(browser, (browser) => Effect.promise(() => browser.newPage()))
  yield* Effect.promise(() => page.goto(`${origin}/`))
  const run = (input: Input) =>
    page.evaluate(
      (input) => (globalThis as unknown as { dispatchOnce: (input: Input) => Promise<Output> }).dispatchOnce(input),
      input
    )
  return { origin, run }
})

it.live("Chromium: a page's dispatch through FetchHttpClient gets a node from one call, its origin allowed", () =>
  Effect.gen(function*() {
    const { origin, run } = yield* chromiumPage
    yield* dispatchesOnce("chromium-stream", run).pipe(withEmulator({ cors: [origin] }))
  }).pipe(Effect.scoped))

it.live("Chromium: from an origin the emulator does not allow, the page cannot read the answer of any attempt", () =>
  Effect.gen(function*() {
    const { run } = yield* chromiumPage
    yield* Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const output = yield* Effect.promise(() =>
        run({
          appId: app.appId,
          serverSecret: Redacted.value(app.serverSecret),
          baseUrl: emulator.baseUrl,
          streamId: "refused"
        })
      )
      assert.strictEqual(output._tag, "Failed")
      assert.include(output._tag === "Failed" ? output.error : "", "Failed to fetch")
      // The browser sent every attempt (the core retries a transport error), and each was a dispatch the page lost.
      const requests = yield* emulator.requests
      assert.isAbove(requests.length, 1)
      assert.deepStrictEqual(
        new Set(requests.map((request) => `${request.streamId} ${request.code}`)),
        new Set(["refused 0"])
      )
    }).pipe(withEmulator({ cors: ["http://127.0.0.1:1"] }))
  }).pipe(Effect.scoped))
