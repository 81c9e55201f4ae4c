/**
 * nginx-rtmp's hooks, answered as ZEGOCLOUD's media nodes would: `on_publish` lets a stream be published only if it
 * was dispatched for push within the publish window and is not forbidden, `on_publish_done` closes a stream when its
 * last publisher leaves, `on_update` drops a live publisher whose stream id was forbidden. Each call is recorded.
 *
 * @since 0.1.0
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { NodeSpec } from "../EmulatorConfig.js"
import { isLoopback } from "../EmulatorConfig.js"
import * as Bounded from "./bounded.js"
import type * as PublishGrants from "./publishGrants.js"
import * as RecordLog from "./recordLog.js"
import type * as Relays from "./relays.js"
import type * as Streams from "./streams.js"

/** The path of the `on_publish` check. */
export const ON_PUBLISH_PATH = "/rtmp/on_publish"

/** The path of nginx-rtmp's `on_publish_done` hook: a publisher left. */
export const ON_PUBLISH_DONE_PATH = "/rtmp/on_publish_done"

/** The path of nginx-rtmp's `on_update` hook: a live publisher may go on (2xx) or is dropped (any other answer). */
export const ON_UPDATE_PATH = "/rtmp/on_update"

const HOOK_PATHS = new Set<string>([ON_PUBLISH_PATH, ON_PUBLISH_DONE_PATH, ON_UPDATE_PATH])

/** The largest hook body read (nginx-rtmp sends a few hundred bytes); a larger one gets 413. */
export const MAX_PUBLISH_BODY = 64 * 1024

/** A call of the `on_publish` check and its answer (`Emulator.PublishCheck`). */
export interface PublishCheck {
  /** When it arrived, by the emulator's `Clock`, in milliseconds. */
  readonly receivedAt: number
  /** The form fields nginx-rtmp sent: `call` (`publish`), `app`, `name` (the stream), `addr` (the publisher's IP). */
  readonly call: string | undefined
  readonly app: string | undefined
  readonly name: string | undefined
  readonly addr: string | undefined
  readonly allowed: boolean
  /**
   * The HTTP status answered: 200 allowed, 403 refused, 400 no form or no `app` / `name`, 405 not a POST, 413 a body
   * over 64 KiB.
   */
  readonly status: number
  /** Why, in words (also the body of the answer). */
  readonly reason: string
}

/** A call of `on_publish_done` or `on_update` and its answer (`Emulator.StreamHookCall`). */
export interface StreamHookCall {
  readonly receivedAt: number
  readonly hook: "on_publish_done" | "on_update"
  readonly call: string | undefined
  readonly app: string | undefined
  readonly name: string | undefined
  readonly addr: string | undefined
  readonly status: number
  readonly reason: string
}

/**
 * The body of a request, read up to {@link MAX_PUBLISH_BODY} bytes: its text, `TooLarge` past the cap (declared by
 * Content-Length or found while reading; the rest is read and dropped, so the connection stays usable), or
 * `Unreadable` when the client went away.
 */
const readBody = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<string | "TooLarge" | "Unreadable"> =>
  Effect.async((resume) => {
    const incoming = NodeHttpServerRequest.toIncomingMessage(request)
    if (Number(incoming.headers["content-length"]) > MAX_PUBLISH_BODY) return resume(Effect.succeed("TooLarge"))
    const chunks: Array<Buffer> = []
    let size = 0
    const stop = () => {
      incoming.off("data", onData).off("end", onEnd).off("error", onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_PUBLISH_BODY) return void chunks.push(chunk)
      stop()
      chunks.length = 0
      incoming.resume()
      resume(Effect.succeed("TooLarge"))
    }
    const onEnd = () => {
      stop()
      resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    }
    const onError = () => {
      stop()
      resume(Effect.succeed("Unreadable"))
    }
    incoming.on("data", onData).once("end", onEnd).once("error", onError)
    return Effect.sync(stop)
  })

/** What the hooks need of the rest of the emulator. */
export interface Config {
  /** The push pools: where a relay plays a stream published on a media node. */
  readonly pushNodes: ReadonlyArray<NodeSpec>
  readonly streams: Streams.Streams
  readonly grants: PublishGrants.PublishGrants
  readonly relays: Relays.Relays
}

/** The hooks: their handler and their records. */
export interface RtmpHooks {
  /** Whether `path` is a hook's. */
  readonly isHookPath: (path: string) => boolean
  /** Answers a call of the hook at `path`, records it and logs it. */
  readonly handle: (
    request: HttpServerRequest.HttpServerRequest,
    path: string
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse>
  /** Every `on_publish` call, oldest first (the last 100 000). */
  readonly publishChecks: () => ReadonlyArray<PublishCheck>
  /** Every `on_publish_done` and `on_update` call, oldest first (the last 100 000). */
  readonly streamHooks: () => ReadonlyArray<StreamHookCall>
}

export const make = ({ grants, pushNodes, relays, streams }: Config): RtmpHooks => {
  const checks = RecordLog.make<PublishCheck>()
  const hookCalls = RecordLog.make<StreamHookCall>()

  /**
   * Where a relay plays a stream published on a media node: the push node of that application on loopback that the
   * publisher connected to (its `tcUrl`), else the first such node.
   */
  const relaySource = (app: string, name: string, tcurl: string | undefined): string | undefined => {
    const candidates = pushNodes.filter((spec) => spec.app === app && isLoopback(spec.host))
    const base = (spec: NodeSpec) =>
      `rtmp://${spec.host.includes(":") ? `[${spec.host}]` : spec.host}:${spec.port}/${spec.app}`
    const spec = candidates.find((candidate) => base(candidate) === tcurl) ?? candidates[0]
    return spec === undefined ? undefined : `${base(spec)}/${name}`
  }

  /**
   * nginx-rtmp's hooks: it POSTs a form (`call`, `app`, `name`, `addr`, …). `on_publish`: any answer but 2xx
   * refuses the publish; `on_update`: any answer but 2xx drops the publisher; `on_publish_done`: the answer is
   * ignored.
   */
  const streamHook = (request: HttpServerRequest.HttpServerRequest, path: string) =>
    Effect.gen(function*() {
      const receivedAt = yield* Clock.currentTimeMillis
      const body = request.method === "POST" ? yield* readBody(request) : undefined
      const form = typeof body === "string" ? Option.some(new URLSearchParams(body)) : Option.none()
      // Each field kept short: a longer app or name is cut with a final `…`, so it matches no dispatched stream.
      const field = (name: string, max: number) =>
        Bounded.keepOptional(Option.getOrUndefined(Option.flatMapNullable(form, (params) => params.get(name))), max)
      const [call, app, name, addr] = [field("call", 32), field("app", 128), field("name", 300), field("addr", 64)]
      const tcurl = field("tcurl", 512)
      const decide = (): { readonly status: number; readonly reason: string } => {
        if (request.method !== "POST") {
          return { status: 405, reason: "only POST: this is nginx-rtmp's on_publish check" }
        }
        if (body === "TooLarge") {
          return { status: 413, reason: `the body is over ${MAX_PUBLISH_BODY} bytes` }
        }
        if (Option.isNone(form)) {
          return { status: 400, reason: "the body is not a form" }
        }
        if (path === ON_PUBLISH_PATH && call !== "publish") {
          return { status: 403, reason: `only publishes are checked here, not call=${call ?? "(none)"}` }
        }
        if (path === ON_PUBLISH_DONE_PATH && call !== "publish_done") {
          return { status: 400, reason: `only publish_done is told here, not call=${call ?? "(none)"}` }
        }
        if (path === ON_UPDATE_PATH && call !== "update_publish") {
          // A player's update (`update_play`): players are never dropped here.
          return { status: 200, reason: `only publishers are checked here, call=${call ?? "(none)"} goes on` }
        }
        if (app === undefined || app === "" || name === undefined || name === "") {
          return { status: 400, reason: "the form needs app and name" }
        }
        if (path === ON_PUBLISH_DONE_PATH) {
          streams.publishDone(name, "rtmp", receivedAt)
          const state = streams.state(name, receivedAt)
          return {
            status: 200,
            reason: `a publisher of stream ${name} left; the stream is ${
              state?._tag === "Active" ? "active" : "closed"
            }`
          }
        }
        if (path === ON_UPDATE_PATH) {
          const decision = streams.update(name)
          return { status: decision.allowed ? 200 : 403, reason: decision.reason }
        }
        if (streams.isForbidden(name)) {
          return { status: 403, reason: `stream ${name} is forbidden (ForbidRTCStream; ResumeRTCStream lifts it)` }
        }
        const decision = grants.check(name, app, receivedAt)
        if (!decision.allowed) return { status: 403, reason: decision.reason }
        const live = streams.publish(name, "rtmp", receivedAt)
        if (!live.allowed) return { status: 403, reason: live.reason }
        const source = relaySource(app, name, tcurl)
        if (source !== undefined) relays.streamStarted(name, source, receivedAt)
        return { status: 200, reason: decision.reason }
      }
      const { reason, status } = decide()
      const allowed = status === 200
      if (path === ON_PUBLISH_PATH) {
        checks.add({ receivedAt, call, app, name, addr, allowed, status, reason })
      } else {
        const hook = path === ON_UPDATE_PATH ? "on_update" : "on_publish_done"
        hookCalls.add({ receivedAt, hook, call, app, name, addr, status, reason })
      }
      const shown = (value: string | undefined) => (value === undefined ? "-" : value)
      const line = Bounded.printable(
        `${Bounded.keep(request.method, 16)} ${path} call=${shown(call)} app=${shown(app)} ` +
          `name=${shown(name)} addr=${shown(addr)} -> HTTP ${status} (${allowed ? "allowed" : "refused"}: ${reason})`,
        2000
      )
      // An allowed update comes every second for every live publisher: not worth an Info line.
      yield* path === ON_UPDATE_PATH && allowed ? Effect.logDebug(line) : Effect.logInfo(line)
      return HttpServerResponse.text(reason, {
        status,
        headers: status === 405 ? { allow: "POST" } : {}
      })
    })

  return {
    isHookPath: (path) => HOOK_PATHS.has(path),
    handle: streamHook,
    publishChecks: checks.all,
    streamHooks: hookCalls.all
  }
}
