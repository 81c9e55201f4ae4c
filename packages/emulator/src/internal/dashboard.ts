/**
 * The emulator's dashboard: a small web page on a port of its own (loopback only, like the emulator) that shows, live,
 * what the emulator records (see `dashboardView`), plays a preview of each stream live on a media node, and can
 * forbid or resume a stream.
 *
 * Any web page the user opens may make the browser send requests to `127.0.0.1`. So:
 * - every request must name this server by its loopback host and port (`Host`): a foreign name that resolves to
 *   `127.0.0.1` (DNS rebinding) gets 421;
 * - the data (`/events`), the previews and the actions need the run's token, which only the printed URL carries
 *   (a page of another origin cannot read this page, so cannot learn it); the page itself and its script and style
 *   hold nothing of the emulator's and are served without it;
 * - an action is a POST of JSON with the token in a header (which a page of another origin cannot send without a
 *   preflight, never allowed here), and is refused when its `Origin` is another one.
 *
 * Bounded: at most {@link MAX_EVENT_CLIENTS} live pages, {@link MAX_CONNECTIONS} connections, a body of at most
 * {@link MAX_BODY} bytes, and the previews' own bounds.
 *
 * @since 0.1.0
 */
import { Params } from "@effect-zego/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { randomBytes, timingSafeEqual } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { StartError } from "../EmulatorError.js"
import * as Bounded from "./bounded.js"
import * as Assets from "./dashboardAssets.js"
import type * as DashboardView from "./dashboardView.js"
import type * as Previews from "./previews.js"

/** The most pages receiving live updates at once; another gets 503. */
export const MAX_EVENT_CLIENTS = 8

/** The most connections the dashboard holds at once (pages, previews, actions). */
export const MAX_CONNECTIONS = 64

/** The largest action body read; a larger one gets 413. */
export const MAX_BODY = 4096

/** How often the live pages are sent what changed, in ms. */
export const TICK_MILLIS = 500

/** The header that carries the token of an action. */
export const TOKEN_HEADER = "x-dashboard-token"

/** How long a live page may leave bytes unsent before it is cut off (it reconnects). */
const MAX_EVENT_BACKLOG = 1024 * 1024

/** What the dashboard needs of the rest of the emulator. */
export interface Config {
  /** A loopback address, as the emulator's. */
  readonly host: string
  /** 0: a free one. */
  readonly port: number
  readonly snapshot: () => DashboardView.Snapshot
  /** Forbids or resumes a stream id as `ForbidRTCStream` / `ResumeRTCStream` do. */
  readonly setForbidden: (streamId: string, forbidden: boolean) => void
  /** The RTMP URL a preview of `streamId` plays, if it can play now. */
  readonly previewSource: (streamId: string) => string | undefined
  readonly previews: Previews.Previews
  /** Logs a line (already made printable). */
  readonly log: (line: string) => void
}

/** The running dashboard. */
export interface Dashboard {
  /** `http://<host>:<port>/?token=…`: the page, with the run's token. */
  readonly url: Redacted.Redacted<string>
  readonly port: number
}

/** A JSON answer. */
const json = (response: Http.ServerResponse, status: number, body: unknown) =>
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body))

/** The headers of every answer: no sniffing, no referrer (the URL holds the token), no framing. */
const COMMON_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-resource-policy": "same-origin"
}

/** The page may load only its own script, style, events and previews. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "media-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join("; ")

const STATIC: Record<string, { readonly type: string; readonly body: string }> = {
  "/": { type: "text/html; charset=utf-8", body: Assets.html },
  "/dashboard.js": { type: "text/javascript; charset=utf-8", body: Assets.script },
  "/dashboard.css": { type: "text/css; charset=utf-8", body: Assets.style }
}

const isStreamId = Schema.is(Params.StreamId)

/** Reads a body of at most {@link MAX_BODY} bytes: its text, or `undefined` past the cap (the rest is dropped). */
const readBody = (request: Http.IncomingMessage): Promise<string | undefined> =>
  new Promise((resolve) => {
    if (Number(request.headers["content-length"]) > MAX_BODY) {
      request.resume()
      return resolve(undefined)
    }
    const chunks: Array<Buffer> = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY) chunks.push(chunk)
    })
    request.once("end", () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString("utf8")))
    request.once("error", () => resolve(undefined))
  })

/** Starts the dashboard in the current scope; it stops (its pages and previews too) when the scope closes. */
export const make = (config: Config): Effect.Effect<Dashboard, StartError, Scope.Scope> =>
  Effect.gen(function*() {
    const token = randomBytes(16).toString("hex")
    const tokenBytes = Buffer.from(token)
    const hasToken = (candidate: string | null | undefined): boolean => {
      const bytes = Buffer.from(candidate ?? "")
      return bytes.length === tokenBytes.length && timingSafeEqual(bytes, tokenBytes)
    }
    const hostPart = config.host.includes(":") ? `[${config.host}]` : config.host
    const events = new Set<Http.ServerResponse>()
    let allowedHosts = new Set<string>()

    /** What the live pages were last sent, but its time: a snapshot is sent to them only when it differs. */
    let lastSent = ""
    const message = (snapshot: DashboardView.Snapshot) => `data: ${JSON.stringify(snapshot)}\n\n`
    /** Sends the snapshot to every live page if it changed. */
    const broadcast = () => {
      const snapshot = config.snapshot()
      const { now: _now, ...rest } = snapshot
      const key = JSON.stringify(rest)
      if (key === lastSent) return
      lastSent = key
      const text = message(snapshot)
      for (const client of events) {
        if (client.writableLength > MAX_EVENT_BACKLOG) client.destroy()
        else client.write(text)
      }
    }
    let ticks = 0
    const timer = setInterval(() => {
      if (events.size === 0) return
      ticks++
      broadcast()
      // A comment now and then, so that a connection nothing is sent on is seen to be alive.
      if (ticks % 30 === 0) { for (const client of events) client.write(": alive\n\n") }
    }, TICK_MILLIS)
    timer.unref()

    const action = async (request: Http.IncomingMessage, response: Http.ServerResponse, forbidden: boolean) => {
      const origin = request.headers.origin
      if (origin !== undefined && origin !== `http://${request.headers.host}`) {
        config.log(
          `dashboard: refused a ${forbidden ? "forbid" : "resume"} from origin ${Bounded.printable(origin, 200)}`
        )
        return json(response, 403, { error: "another origin may not act here" })
      }
      const header = request.headers[TOKEN_HEADER]
      if (!hasToken(typeof header === "string" ? header : undefined)) {
        config.log(`dashboard: refused a ${forbidden ? "forbid" : "resume"} without the token`)
        return json(response, 403, {
          error: "the dashboard's token is missing or wrong: open the URL the emulator printed"
        })
      }
      if (!/^application\/json\b/.test(request.headers["content-type"] ?? "")) {
        return json(response, 415, { error: "the body must be JSON" })
      }
      const body = await readBody(request)
      if (body === undefined) return json(response, 413, { error: `the body must be at most ${MAX_BODY} bytes` })
      let streamId: unknown
      try {
        streamId = (JSON.parse(body) as { readonly streamId?: unknown } | null)?.streamId
      } catch {
        streamId = undefined
      }
      // A stream id as `ForbidRTCStream` takes it.
      if (!isStreamId(streamId)) {
        return json(response, 400, {
          error: "the body must be {\"streamId\": \"…\"}: 1 to 256 ASCII letters, digits, '-' or '_'"
        })
      }
      config.setForbidden(streamId, forbidden)
      config.log(Bounded.printable(`dashboard: ${forbidden ? "forbade" : "resumed"} stream ${streamId}`))
      broadcast()
      return json(response, 200, { streamId, forbidden })
    }

    const handle = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      for (const [name, value] of Object.entries(COMMON_HEADERS)) response.setHeader(name, value)
      if (!allowedHosts.has(request.headers.host ?? "")) {
        return response.writeHead(421, { "content-type": "text/plain" }).end(
          "this server answers only at its loopback address"
        )
      }
      let url: URL
      try {
        url = new URL(request.url ?? "/", "http://dashboard.invalid")
      } catch {
        return json(response, 400, { error: "not a URL" })
      }
      const asset = STATIC[url.pathname]
      if (asset !== undefined || url.pathname === "/events" || url.pathname.startsWith("/preview/")) {
        if (request.method !== "GET") {
          return response.writeHead(405, { allow: "GET" }).end()
        }
      }
      if (asset !== undefined) {
        if (url.pathname === "/") response.setHeader("content-security-policy", CONTENT_SECURITY_POLICY)
        return response.writeHead(200, { "content-type": asset.type, "cache-control": "no-store" }).end(asset.body)
      }
      if (url.pathname === "/events" || url.pathname.startsWith("/preview/")) {
        if (!hasToken(url.searchParams.get("token"))) {
          return json(response, 403, { error: "the token is missing or wrong" })
        }
      }
      if (url.pathname === "/events") {
        if (events.size >= MAX_EVENT_CLIENTS) {
          return json(response, 503, { error: `at most ${MAX_EVENT_CLIENTS} pages at once` })
        }
        response.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-store",
          "x-accel-buffering": "no"
        })
        // A new page gets the state now; the others get it at the next change.
        response.write(`retry: 2000\n\n${message(config.snapshot())}`)
        events.add(response)
        response.once("close", () => events.delete(response))
        return
      }
      if (url.pathname.startsWith("/preview/")) {
        let streamId: string
        try {
          streamId = decodeURIComponent(url.pathname.slice("/preview/".length))
        } catch {
          return json(response, 400, { error: "not a stream id" })
        }
        const source = streamId.length > Bounded.MAX_KEPT ? undefined : config.previewSource(streamId)
        if (source === undefined) return json(response, 404, { error: "that stream is not live on a media node" })
        const refused = config.previews.view(streamId, source, response)
        if (refused !== undefined) {
          return json(response, 503, {
            error: refused === "TooManyStreams" ? "too many previews run already" : "too many viewers of that stream"
          })
        }
        return
      }
      if (url.pathname === "/api/forbid" || url.pathname === "/api/resume") {
        if (request.method !== "POST") return response.writeHead(405, { allow: "POST" }).end()
        action(request, response, url.pathname === "/api/forbid").catch((error) => {
          config.log(Bounded.printable(`dashboard: an action failed: ${String(error)}`))
          if (!response.headersSent) json(response, 500, { error: "the action failed" })
          else response.destroy()
        })
        return
      }
      json(response, 404, { error: "not found" })
    }

    const server = Http.createServer((request, response) => {
      try {
        handle(request, response)
      } catch (error) {
        // A request must never bring the emulator down.
        config.log(Bounded.printable(`dashboard: a request failed: ${String(error)}`))
        if (!response.headersSent) json(response, 500, { error: "the request failed" })
        else response.destroy()
      }
    })
    server.maxConnections = MAX_CONNECTIONS
    server.headersTimeout = 10_000
    server.requestTimeout = 10_000
    const port = yield* Effect.acquireRelease(
      Effect.async<number, StartError>((resume) => {
        const onError = (error: Error) =>
          resume(
            Effect.fail(new StartError({ host: config.host, port: config.port, detail: `dashboard: ${error.message}` }))
          )
        server.once("error", onError)
        server.listen(config.port, config.host, () => {
          server.off("error", onError)
          resume(Effect.succeed((server.address() as AddressInfo).port))
        })
      }),
      () =>
        Effect.promise(async () => {
          clearInterval(timer)
          for (const client of events) client.end()
          await config.previews.close()
          server.closeAllConnections()
          await new Promise<void>((resolve) => server.close(() => resolve()))
        })
    )
    allowedHosts = new Set([`${hostPart}:${port}`, `localhost:${port}`])
    return { url: Redacted.make(`http://${hostPart}:${port}/?token=${token}`), port }
  })
