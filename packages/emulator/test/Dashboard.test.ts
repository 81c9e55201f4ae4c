/**
 * The dashboard's server, without a browser (the page in Chromium, with nginx-rtmp and ffmpeg, is the CLI's
 * Dashboard.e2e test): what it serves with and without the run's token, what it refuses (a foreign Host or Origin, no
 * token, a body too large), what its live updates carry, and its bounds.
 */
import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { execFileSync } from "node:child_process"
import * as Http from "node:http"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Snapshot } from "../src/internal/dashboardView.js"
import { baseOptions, prodApp, rawCall, signedParams, withEmulator } from "./utils.js"

const options: Emulator.Options = { ...baseOptions, dashboard: true }

/** The dashboard's origin and token, from its URL. */
const dashboard = Effect.map(Emulator.Emulator, (emulator) => {
  assert.isDefined(emulator.dashboardUrl)
  const url = new URL(Redacted.value(emulator.dashboardUrl!))
  return { origin: url.origin, port: url.port, token: url.searchParams.get("token") ?? "" }
})

/** A raw request (node's http, so that Host and Origin are as given): its status, headers and body. */
const request = (
  url: string,
  init: { readonly method?: string; readonly headers?: Record<string, string>; readonly body?: string } = {}
) =>
  Effect.async<{ readonly status: number; readonly headers: Http.IncomingHttpHeaders; readonly body: string }>(
    (resume) => {
      const outgoing = Http.request(url, { method: init.method ?? "GET", headers: init.headers }, (response) => {
        let body = ""
        response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk))
        response.once("end", () =>
          resume(Effect.succeed({ status: response.statusCode!, headers: response.headers, body })))
      })
      outgoing.on("error", (error) =>
        resume(Effect.die(error)))
      outgoing.end(init.body)
      return Effect.sync(() => outgoing.destroy())
    }
  )

/** A forbid (or resume) request for `streamId`, with these headers over the defaults (`undefined` removes one). */
const act = (
  origin: string,
  what: "forbid" | "resume",
  streamId: string,
  headers: Record<string, string | undefined>,
  body = JSON.stringify({ streamId })
) =>
  request(`${origin}/api/${what}`, {
    method: "POST",
    headers: Object.fromEntries(
      Object.entries({ "content-type": "application/json", origin, ...headers }).filter(
        (entry): entry is [string, string] => entry[1] !== undefined
      )
    ),
    body
  })

/** The first snapshots of a live connection, until `done` holds for one (or 20 seconds pass): every one read. */
const snapshotsUntil = (url: string, done: (snapshot: Snapshot) => boolean) =>
  Effect.async<ReadonlyArray<Snapshot>>((resume) => {
    const seen: Array<Snapshot> = []
    let buffer = ""
    const timer = setTimeout(() => finish(), 20_000)
    const outgoing = Http.get(url, (response) => {
      assert.strictEqual(response.headers["content-type"], "text/event-stream")
      response.setEncoding("utf8").on("data", (chunk: string) => {
        buffer += chunk
        let end: number
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const message = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          if (!message.startsWith("data: ")) continue
          const snapshot = JSON.parse(message.slice("data: ".length)) as Snapshot
          seen.push(snapshot)
          if (done(snapshot)) return finish()
        }
      })
    })
    const finish = () => {
      clearTimeout(timer)
      outgoing.destroy()
      resume(Effect.succeed(seen))
    }
    return Effect.sync(() => {
      clearTimeout(timer)
      outgoing.destroy()
    })
  })

describe("the emulator's dashboard", () => {
  it.live("is off by default; the option serves it on a port of its own, its URL carrying a token", () =>
    Effect.gen(function*() {
      assert.isUndefined((yield* Emulator.Emulator.pipe(withEmulator())).dashboardUrl)
      yield* Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { origin, port, token } = yield* dashboard
        assert.match(origin, /^http:\/\/127\.0\.0\.1:\d+$/)
        assert.notStrictEqual(Number(port), emulator.port)
        assert.match(token, /^[0-9a-f]{32}$/)
        assert.notInclude(String(emulator.dashboardUrl), token, "redacted when printed as a value")
      }).pipe(withEmulator(options))
    }))

  it.live("the page holds nothing of the emulator's; the live data needs the token; a foreign Host gets 421", () =>
    Effect.gen(function*() {
      const { origin, port, token } = yield* dashboard
      const page = yield* request(`${origin}/`)
      assert.strictEqual(page.status, 200)
      assert.include(page.headers["content-security-policy"] ?? "", "script-src 'self'")
      assert.notInclude(page.body, token)
      const script = yield* request(`${origin}/dashboard.js`)
      assert.strictEqual(script.status, 200)
      assert.strictEqual(script.headers["content-type"], "text/javascript; charset=utf-8")

      for (const query of ["", "?token=", `?token=${"0".repeat(32)}`, `?token=${token}0`]) {
        assert.strictEqual((yield* request(`${origin}/events${query}`)).status, 403, `events${query}`)
      }
      assert.strictEqual((yield* request(`${origin}/preview/demo`)).status, 403)
      // DNS rebinding: a foreign name that resolves to 127.0.0.1, with the right token still gets nothing.
      const rebound = yield* request(`${origin}/events?token=${token}`, { headers: { host: `evil.example:${port}` } })
      assert.strictEqual(rebound.status, 421)
      const [first] = yield* snapshotsUntil(`${origin}/events?token=${token}`, () => true)
      assert.deepStrictEqual(first!.rooms.map((room) => room.roomId), Emulator.demoRooms)
    }).pipe(withEmulator(options)))

  it.live("a forbid without the token, or from another origin, is refused and changes nothing", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { origin, token } = yield* dashboard
      assert.isTrue((yield* emulator.publish("cam")).allowed)
      const refusals = [
        yield* act(origin, "forbid", "cam", {}),
        yield* act(origin, "forbid", "cam", { "x-dashboard-token": "0".repeat(32) }),
        yield* act(origin, "forbid", "cam", { "x-dashboard-token": token, origin: "http://evil.example" }),
        yield* act(origin, "forbid", "cam", { "x-dashboard-token": token, origin: "null" })
      ]
      assert.deepStrictEqual(refusals.map((answer) => answer.status), [403, 403, 403, 403])
      assert.strictEqual((yield* emulator.streamState("cam"))?._tag, "Active")
      assert.isTrue((yield* emulator.publish("cam")).allowed, "not forbidden")

      // A form (what a page of another origin could post without a preflight) is not JSON; a huge body is refused.
      const form = yield* act(origin, "forbid", "cam", {
        "x-dashboard-token": token,
        "content-type": "application/x-www-form-urlencoded"
      }, "streamId=cam")
      assert.strictEqual(form.status, 415)
      const huge = yield* act(
        origin,
        "forbid",
        "cam",
        { "x-dashboard-token": token },
        `{"streamId":"${"x".repeat(5000)}"}`
      )
      assert.strictEqual(huge.status, 413)
      assert.strictEqual((yield* act(origin, "forbid", "", { "x-dashboard-token": token })).status, 400)
      assert.strictEqual((yield* emulator.streamState("cam"))?._tag, "Active")

      // With the token, from the page's origin: forbidden; its simulated publishers are dropped at once.
      const forbidden = yield* act(origin, "forbid", "cam", { "x-dashboard-token": token })
      assert.strictEqual(forbidden.status, 200, forbidden.body)
      assert.strictEqual((yield* emulator.streamState("cam"))?._tag, "Closed")
      assert.isFalse((yield* emulator.publish("cam")).allowed)
      // Resume from a client that sends no Origin (not a browser), with the token.
      assert.strictEqual(
        (yield* act(origin, "resume", "cam", { "x-dashboard-token": token, origin: undefined })).status,
        200
      )
      assert.isTrue((yield* emulator.publish("cam")).allowed)
    }).pipe(withEmulator(options)))

  it.live("live updates carry each call without its Signature, and each dispatched stream with OBS's fields", () =>
    Effect.gen(function*() {
      const { origin, token } = yield* dashboard
      const params = yield* signedParams(prodApp, { StreamId: "obs-cam" })
      const answer = yield* rawCall(params)
      assert.strictEqual(answer.body.Code, 0)
      const seen = yield* snapshotsUntil(`${origin}/events?token=${token}`, (snapshot) => snapshot.streams.length > 0)
      const snapshot = seen.at(-1)!
      const call = snapshot.calls.find((call) => call.requestId === answer.body.RequestId)
      assert(call !== undefined, "the call is shown")
      assert.strictEqual(call.action, "RTMPDispatchV2")
      assert.strictEqual(call.code, 0)
      assert.isAtLeast(call.latencyMillis ?? -1, 0)
      assert.deepInclude(call.params, ["StreamId", "obs-cam"])
      assert.isFalse(call.params.some(([name]) => name.toLowerCase() === "signature"))
      assert.notInclude(JSON.stringify(seen), params.Signature!)
      const [stream] = snapshot.streams
      assert(stream !== undefined)
      assert.strictEqual(stream.streamId, "obs-cam")
      assert.strictEqual(stream.state, "dispatched")
      assert.deepInclude(stream.push, {
        url: "rtmp://127.0.0.1:1935/live/obs-cam",
        obsServer: "rtmp://127.0.0.1:1935/live/",
        obsStreamKey: "obs-cam"
      })
    }).pipe(withEmulator(options)))

  it.live("at most 8 live pages at once: another gets 503", () =>
    Effect.gen(function*() {
      const { origin, token } = yield* dashboard
      const open = yield* Effect.forEach(Array.from({ length: 8 }), () =>
        Effect.async<Http.ClientRequest>((resume) => {
          const outgoing = Http.get(`${origin}/events?token=${token}`, (response) => {
            assert.strictEqual(response.statusCode, 200)
            resume(Effect.succeed(outgoing))
          })
        }))
      assert.strictEqual((yield* request(`${origin}/events?token=${token}`)).status, 503)
      for (const outgoing of open) outgoing.destroy()
    }).pipe(withEmulator(options)))

  it("the page's bundle (src/internal/dashboardAssets.ts) matches its sources in dashboard/", () => {
    const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../scripts/bundle-dashboard.mjs")
    // Fails with the command to run when the sources changed and the bundle was not made again.
    execFileSync(process.execPath, [script, "--check"], { stdio: "pipe" })
  })
})
