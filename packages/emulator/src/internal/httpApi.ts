/**
 * The HTTP API: the gateway's answer to each request (the dispatcher's, or a fault's), with its envelope, request id
 * and log line; the preflight of an allowed browser origin; nginx-rtmp's hooks handed to `RtmpHooks`. Every request,
 * dispatch and announcement is recorded.
 *
 * @since 0.1.0
 */
import { Params } from "@effect-zego/core"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { randomBytes } from "node:crypto"
import * as Http from "node:http"
import * as Bounded from "./bounded.js"
import type * as Callbacks from "./callbacks.js"
import * as Codes from "./codes.js"
import type * as Cors from "./cors.js"
import type * as Dispatcher from "./dispatcher.js"
import type * as Faults from "./faults.js"
import type * as PublishGrants from "./publishGrants.js"
import * as RecordLog from "./recordLog.js"
import type * as Rooms from "./rooms.js"
import type * as RtmpHooks from "./rtmpHooks.js"

/** The longest request target (path and query) answered; a longer one gets 414, as nginx answers past 8 KiB. */
export const MAX_TARGET_LENGTH = 8 * 1024

/** A node handed out (`Emulator.DispatchRecord`). */
export interface DispatchRecord extends Dispatcher.Dispatch {
  readonly requestId: string
  /** When it was handed out, by the emulator's `Clock`. */
  readonly time: DateTime.Utc
}

/** A request received (`Emulator.RequestRecord`). */
export interface RequestRecord {
  readonly requestId: string
  /** When it arrived, by the emulator's `Clock`, in milliseconds. */
  readonly receivedAt: number
  /** The `AppId` parameter as sent. */
  readonly appId: string | undefined
  readonly action: string | undefined
  readonly streamId: string | undefined
  /** The `SignatureNonce` as sent. */
  readonly nonce: string | undefined
  /**
   * The envelope's `Code`; `undefined` when the answer had no envelope (an HTTP error, a reset, a bad body) or
   * has not been sent yet.
   */
  readonly code: number | undefined
}

/**
 * A recent call as the dashboard shows it: its parameters (without the `Signature`, each cut short), what it was
 * answered, how long that took, and the fault that answered it, if one did.
 */
export interface CallSummary {
  readonly requestId: string
  readonly receivedAt: number
  readonly method: string
  readonly path: string
  readonly action: string | undefined
  /** The query's parameters but `Signature`: at most {@link MAX_SHOWN_PARAMS}, each name and value cut short. */
  readonly params: ReadonlyArray<readonly [string, string]>
  /** The envelope's code, if the answer had one. */
  readonly code: number | undefined
  /** The envelope's message, or what was answered instead (an HTTP status, a reset). */
  readonly outcome: string | undefined
  /** From its arrival to its answer, in ms by the emulator's `Clock`; `undefined` until answered. */
  readonly latencyMillis: number | undefined
  /** The fault rule that answered, in words (`code 1010`, `delay 2s`, …), if any. */
  readonly fault: string | undefined
}

/** The most parameters of a call the dashboard shows. */
export const MAX_SHOWN_PARAMS = 32

/** How many recent calls the dashboard can show. */
export const MAX_RECENT_CALLS = 200

/** An `AddStream` or `DeleteStream` that took effect (`Emulator.AnnouncementRecord`). */
export interface AnnouncementRecord extends Omit<Rooms.Announced, "announcedAt"> {
  readonly requestId: string
  readonly appId: number
  readonly action: "AddStream" | "DeleteStream"
  readonly time: DateTime.Utc
}

/** The request target as a URL, if it is one. */
const parseUrl = (target: string): URL | undefined => {
  try {
    return new URL(target, "http://emulator.invalid")
  } catch {
    return undefined
  }
}

/**
 * A request's path and (decoded) query with its `Signature` hidden and its `CDNUrl` masked (`Params.maskCdnUrl`: the
 * stream key of a relay's CDN is a secret), for logs: at most 1 000 characters, escaped so that a terminal shows what
 * a client sent instead of obeying it.
 */
const redactUrl = (url: URL | undefined): string => {
  if (url === undefined) return "<not a URL>"
  const shown = (name: string, value: string) =>
    name.toLowerCase() === "signature"
      ? "<redacted>"
      : name.toLowerCase() === "cdnurl"
      ? Params.maskCdnUrl(value)
      : value
  const query = [...url.searchParams].map(([name, value]) => `${name}=${shown(name, value)}`).join("&")
  return Bounded.printable(query === "" ? url.pathname : `${url.pathname}?${query}`)
}

/** A fresh RequestId: 19 decimal digits, like the real ones. */
const newRequestId = (): string => String(10n ** 18n + randomBytes(8).readBigUInt64BE() % (9n * 10n ** 18n))

const DEFAULT_MALFORMED_BODY = "{\"Code\":0,\"Message\":\"ok\",\"RequestId\":"

const htmlPage = (status: number) =>
  `<html><head><title>${status}</title></head><body><h1>${status} ${
    Http.STATUS_CODES[status] ?? "Server Error"
  }</h1></body></html>`

/** What the API needs of the rest of the emulator. */
export interface Config {
  /** The dispatcher: the answer to a call, by its query. */
  readonly evaluate: (params: URLSearchParams, nowMillis: number) => Dispatcher.Answer
  readonly faults: Faults.Faults
  readonly cors: Cors.Cors
  readonly grants: PublishGrants.PublishGrants
  readonly callbacks: Callbacks.Callbacks
  readonly hooks: RtmpHooks.RtmpHooks
}

/** The API: its handler and its records. */
export interface HttpApi {
  /** The handler of every request the server receives. */
  readonly app: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
  /** The nodes handed out, oldest first (the last 100 000). */
  readonly dispatched: () => ReadonlyArray<DispatchRecord>
  /** Every request received, oldest first (the last 100 000). */
  readonly requests: () => ReadonlyArray<RequestRecord>
  /** Every `AddStream` / `DeleteStream` that took effect, oldest first (the last 100 000). */
  readonly announcements: () => ReadonlyArray<AnnouncementRecord>
  /** The last `count` nodes handed out, oldest first. */
  readonly recentDispatches: (count: number) => ReadonlyArray<DispatchRecord>
  /** The last `count` (at most {@link MAX_RECENT_CALLS}) calls, oldest first: snapshots. */
  readonly recentCalls: (count: number) => ReadonlyArray<CallSummary>
}

/** The parameters of a query the dashboard may show: every one but `Signature`, each cut short. */
const shownParams = (url: URL | undefined): ReadonlyArray<readonly [string, string]> => {
  const shown: Array<readonly [string, string]> = []
  for (const [name, value] of url?.searchParams ?? []) {
    if (name.toLowerCase() === "signature") continue
    if (shown.length >= MAX_SHOWN_PARAMS) break
    shown.push([Bounded.keep(name, 64), Bounded.keep(value)])
  }
  return shown
}

export const make = ({ callbacks, cors, evaluate, faults, grants, hooks }: Config): HttpApi => {
  const records = RecordLog.make<DispatchRecord>()
  const received = RecordLog.make<RequestRecord>()
  const announcements = RecordLog.make<AnnouncementRecord>()
  const calls = RecordLog.make<{ -readonly [K in keyof CallSummary]: CallSummary[K] }>(MAX_RECENT_CALLS)

  const envelope = (requestId: string, answer: { code: number; message: string; data?: unknown }) =>
    JSON.stringify({
      Code: answer.code,
      Message: answer.message,
      RequestId: requestId,
      ...(answer.data === undefined ? {} : { Data: answer.data })
    })

  /** The normal answer: the checks, a node, the record. */
  const answerCall = (params: URLSearchParams, requestId: string) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const answer = evaluate(params, now)
      if (answer.dispatch !== undefined) {
        // Copies: the stream id (and the node built from it) may be slices of the whole query.
        const dispatch = {
          ...answer.dispatch,
          streamId: Bounded.keep(answer.dispatch.streamId),
          clientIp: Bounded.keepOptional(answer.dispatch.clientIp),
          node: Bounded.keep(answer.dispatch.node, 1024)
        }
        if (dispatch.type === "push") {
          grants.grant(dispatch.streamId, dispatch.app, now)
          callbacks.noteDispatch(dispatch.streamId, dispatch.appId)
        }
        records.add({ requestId, ...dispatch, time: DateTime.unsafeMake(now) })
      }
      const announcement = answer.announcement
      if (announcement !== undefined) {
        const appId = Number(params.get("AppId"))
        const time = DateTime.unsafeMake(now)
        if (announcement._tag === "Deleted") callbacks.deleted(appId, announcement.withdrawn, now)
        announcements.add(
          announcement._tag === "Added"
            ? {
              requestId,
              appId,
              action: "AddStream",
              roomId: announcement.announced.roomId,
              userId: announcement.announced.userId,
              userName: announcement.announced.userName,
              streamId: announcement.announced.streamId,
              streamTitle: announcement.announced.streamTitle,
              extraInfo: announcement.announced.extraInfo,
              censorFlag: announcement.announced.censorFlag,
              time
            }
            : {
              requestId,
              appId,
              action: "DeleteStream",
              roomId: announcement.roomId,
              userId: announcement.userId,
              userName: announcement.userName,
              streamId: announcement.streamId,
              streamTitle: undefined,
              extraInfo: undefined,
              censorFlag: undefined,
              time
            }
        )
      }
      return {
        response: HttpServerResponse.text(envelope(requestId, answer), { contentType: "application/json" }),
        code: answer.code,
        message: answer.message,
        outcome: Bounded.printable(
          `Code ${answer.code} (${answer.message})${
            answer.data === undefined
              ? ""
              : ` ${Array.isArray(answer.data) ? answer.data.join(", ") : JSON.stringify(answer.data)}`
          }`
        )
      }
    })

  const handle = (request: HttpServerRequest.HttpServerRequest, url: URL | undefined, requestId: string) =>
    Effect.gen(function*() {
      if (url === undefined || url.pathname !== "/") {
        return { response: HttpServerResponse.text("not found", { status: 404 }), outcome: "HTTP 404" }
      }
      if (request.method !== "GET") {
        return {
          response: HttpServerResponse.text("only GET", { status: 405, headers: { allow: "GET" } }),
          outcome: "HTTP 405"
        }
      }
      const params = url.searchParams
      const fault = yield* faults.pick({
        appId: params.get("AppId"),
        action: params.get("Action"),
        streamId: params.get("StreamId")
      })
      if (fault === undefined) return yield* answerCall(params, requestId)
      switch (fault._tag) {
        case "Code": {
          const message = fault.message ?? Codes.message(fault.code)
          return {
            response: HttpServerResponse.text(envelope(requestId, { code: fault.code, message }), {
              contentType: "application/json"
            }),
            code: fault.code,
            message,
            fault: `code ${fault.code}`,
            outcome: Bounded.printable(`Code ${fault.code} (${message}) [fault]`)
          }
        }
        case "Delay": {
          yield* Effect.sleep(fault.duration)
          const answered = yield* answerCall(params, requestId)
          return {
            ...answered,
            fault: `delayed ${Duration.format(fault.duration)}`,
            outcome: `${answered.outcome} [fault: delayed ${Duration.format(fault.duration)}]`
          }
        }
        case "HttpStatus":
          return {
            response: HttpServerResponse.text(fault.body ?? htmlPage(fault.status), {
              status: fault.status,
              contentType: "text/html"
            }),
            fault: `HTTP ${fault.status}`,
            outcome: `HTTP ${fault.status} without an envelope [fault]`
          }
        case "Malformed":
          return {
            response: HttpServerResponse.text(fault.body ?? DEFAULT_MALFORMED_BODY, {
              contentType: "application/json"
            }),
            fault: "a malformed body",
            outcome: "a malformed body [fault]"
          }
        case "Reset":
          NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
          return {
            response: HttpServerResponse.empty(),
            fault: "connection reset",
            outcome: "connection reset [fault]"
          }
      }
    })

  const api = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const receivedAt = yield* Clock.currentTimeMillis
    const requestId = newRequestId()
    const tooLong = request.url.length > MAX_TARGET_LENGTH
    const url = parseUrl(tooLong ? request.url.slice(0, MAX_TARGET_LENGTH) : request.url)
    if (url !== undefined && hooks.isHookPath(url.pathname) && !tooLong) {
      return yield* hooks.handle(request, url.pathname)
    }
    // Each field kept short, in a string of its own: a record must not hold on to the whole query.
    const param = (name: string, max: number) => Bounded.keepOptional(url?.searchParams.get(name) ?? undefined, max)
    // Recorded on arrival (a delayed answer is still a request seen); the code is filled in once answered.
    const record: { -readonly [K in keyof RequestRecord]: RequestRecord[K] } = {
      requestId,
      receivedAt,
      appId: param("AppId", 16),
      action: param("Action", 32),
      streamId: param("StreamId", Bounded.MAX_KEPT),
      nonce: param("SignatureNonce", 64),
      code: undefined
    }
    received.add(record)
    const call: { -readonly [K in keyof CallSummary]: CallSummary[K] } = {
      requestId,
      receivedAt,
      method: Bounded.keep(request.method, 16),
      path: Bounded.keep(url?.pathname ?? "<not a URL>", 128),
      action: record.action,
      params: shownParams(url),
      code: undefined,
      outcome: undefined,
      latencyMillis: undefined,
      fault: undefined
    }
    calls.add(call)
    const handled = tooLong
      ? {
        response: HttpServerResponse.text(htmlPage(414), { status: 414, contentType: "text/html" }),
        outcome: `HTTP 414 (a request target of ${request.url.length} characters; at most ${MAX_TARGET_LENGTH})`
      }
      : yield* handle(request, url, requestId)
    const { outcome, response } = handled
    record.code = "code" in handled ? handled.code : undefined
    const answeredAt = yield* Clock.currentTimeMillis
    call.code = record.code
    call.outcome = Bounded.keep("message" in handled && handled.message !== undefined ? handled.message : outcome, 300)
    call.latencyMillis = answeredAt - receivedAt
    call.fault = "fault" in handled ? handled.fault : undefined
    const date = new Date(answeredAt).toUTCString()
    yield* Effect.logInfo(`${request.method} ${redactUrl(url)} -> ${outcome}`).pipe(
      Effect.annotateLogs({ requestId })
    )
    return HttpServerResponse.setHeaders(response, { date, "x-request-id": requestId })
  }).pipe(
    Effect.withSpan("ZegoEmulator.request", { kind: "server" })
  )

  // A preflight is the browser's question, not a call: answered here, before any record or rate limit.
  const app = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (cors.isPreflight(request.method, request.headers)) {
      const headers = cors.preflight(request.headers)
      yield* Effect.logDebug(
        Bounded.printable(
          `OPTIONS preflight from ${Bounded.keep(request.headers["origin"] ?? "-", 256)}: ${
            "access-control-allow-origin" in headers ? "allowed" : "origin not allowed"
          }`
        )
      )
      return HttpServerResponse.empty({ status: 204, headers })
    }
    return HttpServerResponse.setHeaders(yield* api, cors.headers(request.headers))
  })

  return {
    app,
    dispatched: records.all,
    requests: received.all,
    announcements: announcements.all,
    recentDispatches: records.recent,
    recentCalls: (count) => calls.recent(count).map((call) => ({ ...call }))
  }
}
