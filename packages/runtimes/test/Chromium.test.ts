/**
 * The program in a headless Chromium page (Debian's `chromium`, driven by playwright-core), served from a loopback
 * HTTP server of the test, so the page's origin is `http://127.0.0.1:<port>`. The core's requests carry trace
 * headers, so the browser asks first (a preflight): the dispatch goes through only because the emulator allows that
 * origin (`cors`), and the preflight is no call of its own.
 */
import { it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { chromium } from "playwright-core"
import type { Input, Output } from "../src/dispatch.js"
import { bundles, dispatchesOnce, withEmulator } from "./utils.js"

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

it.live("Chromium: a page's dispatch through FetchHttpClient gets a node from one call, its origin allowed", () =>
  Effect.gen(function*() {
    const { origin } = yield* pageServer
    const page = yield* Effect.flatMap(browser, (browser) => Effect.promise(() => browser.newPage()))
    yield* Effect.promise(() => page.goto(`${origin}/`))
    yield* dispatchesOnce("chromium-stream", (input) =>
      page.evaluate(
        (input) => (globalThis as unknown as { dispatchOnce: (input: Input) => Promise<Output> }).dispatchOnce(input),
        input
      )).pipe(withEmulator({ cors: [origin] }))
  }).pipe(Effect.scoped))
