/**
 * CORS is opt-in: without `cors` the emulator sends no CORS header at all (a browser refuses every answer); with
 * it, an allowed origin's preflight is answered without counting as a call, and its calls carry
 * `Access-Control-Allow-Origin`. Another origin gets nothing a browser would accept.
 */
import { Emulator } from "@effect-zego/emulator"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { prodApp, signedParams, withEmulator } from "./utils.js"

const PAGE = "http://127.0.0.1:5173"
const OTHER = "http://127.0.0.1:8080"

/** A request to the emulator as a browser page at `origin` makes it. */
const browserFetch = (method: "GET" | "OPTIONS", origin: string, query = "") =>
  Effect.gen(function*() {
    const { baseUrl } = yield* Emulator.Emulator
    return yield* Effect.promise(async () => {
      const response = await fetch(`${baseUrl}/${query}`, {
        method,
        headers: method === "OPTIONS"
          ? { origin, "access-control-request-method": "GET", "access-control-request-headers": "traceparent, b3" }
          : { origin }
      })
      await response.arrayBuffer()
      return { status: response.status, headers: response.headers }
    })
  })

/** A signed dispatch as a page at `origin` sends it. */
const dispatchFrom = (origin: string, streamId: string) =>
  Effect.flatMap(
    signedParams(prodApp, { StreamId: streamId }),
    (params) => browserFetch("GET", origin, `?${new URLSearchParams(params)}`)
  )

const corsHeaders = (headers: Headers) => [...headers.keys()].filter((name) => name.startsWith("access-control-"))

describe("CORS", () => {
  it.effect("off by default: no CORS header, and an OPTIONS is a request like any other (405)", () =>
    Effect.gen(function*() {
      const preflight = yield* browserFetch("OPTIONS", PAGE)
      assert.strictEqual(preflight.status, 405)
      assert.deepStrictEqual(corsHeaders(preflight.headers), [])
      const call = yield* dispatchFrom(PAGE, "s1")
      assert.strictEqual(call.status, 200)
      assert.deepStrictEqual(corsHeaders(call.headers), [])
      assert.strictEqual((yield* Emulator.Emulator.pipe(Effect.flatMap((e) => e.requests))).length, 2)
    }).pipe(withEmulator({ apps: [prodApp] })))

  it.effect("an allowed origin's preflight is answered without a record or a rate-limit slot; its calls may be read", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (let i = 0; i < 3; i++) {
        const preflight = yield* browserFetch("OPTIONS", PAGE)
        assert.strictEqual(preflight.status, 204)
        assert.strictEqual(preflight.headers.get("access-control-allow-origin"), PAGE)
        assert.strictEqual(preflight.headers.get("access-control-allow-methods"), "GET")
        assert.strictEqual(preflight.headers.get("access-control-allow-headers"), "traceparent, b3")
      }
      assert.deepStrictEqual(yield* emulator.requests, [], "a preflight is not a call")
      // The limit is one call per minute: had a preflight taken the slot, this call would get 1010.
      const call = yield* dispatchFrom(PAGE, "s1")
      assert.strictEqual(call.headers.get("access-control-allow-origin"), PAGE)
      assert.strictEqual(call.headers.get("access-control-expose-headers"), "x-request-id")
      assert.deepStrictEqual((yield* emulator.requests).map((r) => r.code), [0])
      assert.strictEqual((yield* emulator.dispatched).length, 1)
    }).pipe(withEmulator({ apps: [prodApp], rateLimit: { limit: 1, window: "1 minute" }, cors: [OTHER, PAGE] })))

  it.effect("another origin gets no Access-Control-Allow-Origin, on the preflight or the call", () =>
    Effect.gen(function*() {
      const preflight = yield* browserFetch("OPTIONS", "http://127.0.0.1:9999")
      assert.strictEqual(preflight.status, 204)
      assert.deepStrictEqual(corsHeaders(preflight.headers), [])
      const call = yield* dispatchFrom("http://localhost:5173", "s1")
      assert.strictEqual(call.status, 200)
      assert.deepStrictEqual(corsHeaders(call.headers), [])
      assert.strictEqual(call.headers.get("vary"), "Origin")
    }).pipe(withEmulator({ apps: [prodApp], cors: [PAGE] })))

  it.effect("an origin with a path, or not a URL, is refused before anything listens", () =>
    Effect.gen(function*() {
      for (const origin of [`${PAGE}/`, "127.0.0.1:5173", "*"]) {
        const error = yield* Effect.flip(Effect.scoped(Emulator.make({ apps: [prodApp], cors: [origin] })))
        assert.strictEqual(error._tag, "InvalidOptionsError")
        assert.include(error.message, "CORS origin")
      }
    }))

  it.effect("the configuration file's cors", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "zego-emulator-"))),
        (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
      )
      const load = (cors: unknown) => {
        const file = path.join(dir, "emulator.json")
        fs.writeFileSync(file, JSON.stringify({ apps: [{ appId: 1, serverSecret: "s" }], cors }))
        return Emulator.loadOptions(file).pipe(Effect.provide(NodeFileSystem.layer))
      }
      assert.deepStrictEqual((yield* load([PAGE, OTHER])).cors, [PAGE, OTHER])
      const error = yield* Effect.flip(load(["http://127.0.0.1:5173/page"]))
      assert.strictEqual(error.reason, "Invalid")
      assert.include(error.detail, "cors.0: a CORS origin is scheme://host[:port]")
    }).pipe(Effect.scoped))
})
