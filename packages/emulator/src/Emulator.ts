/**
 * A local stand-in for the ZEGOCLOUD server API around an RTMP stream: a real HTTP server on loopback that checks
 * the public parameters and the signature as the gateway does, then the action's parameters, its rate limit and
 * the app's environment. It hands out nodes from configured pools (`RTMPDispatchV2`, `RTMPDispatch`), tells a
 * stream's state (`DescribeRTCStreamState`), forbids and resumes stream ids (`ForbidRTCStream`,
 * `ResumeRTCStream`) and announces streams in rooms (`AddStream`, `DeleteStream`). It can inject faults, and it
 * remembers what it dispatched and announced.
 *
 * It also checks publishers the way ZEGOCLOUD's media nodes do: an RTMP server such as nginx-rtmp (see
 * `MediaNode`) asks its `on_publish` endpoint whether a stream may be published, and it allows only a stream it
 * dispatched for push within the publish window (2 hours) and not forbidden; `on_publish_done` tells it the stream
 * closed, and `on_update` (every second) lets it drop a live publisher whose stream id was forbidden. Tests without
 * nginx publish in process (`publish`, `unpublish`).
 *
 * An app with a `callbackUrl` (on loopback) gets ZEGOCLOUD's stream callbacks: `stream_create` when a stream starts,
 * `stream_close` when it ends (type 0 stopped, 3 kicked out by a forbid, 100 `DeleteStream`), signed, retried on
 * ZEGOCLOUD's schedule, with their own fault rules (`callbackFaults`) and a record (`callbacks`).
 *
 * It answers over plain http on loopback only; the core accepts an http base URL for a loopback host.
 *
 * @since 0.1.0
 */
import { Params } from "@effect-zego/core"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import * as Http from "node:http"
import * as EmulatorError from "./EmulatorError.js"
import * as Fault from "./Fault.js"
import * as Bounded from "./internal/bounded.js"
import * as Callbacks from "./internal/callbacks.js"
import * as Codes from "./internal/codes.js"
import * as Cors from "./internal/cors.js"
import * as Dispatcher from "./internal/dispatcher.js"
import { PositiveDurationFromJson } from "./internal/duration.js"
import * as Faults from "./internal/faults.js"
import * as PublishGrants from "./internal/publishGrants.js"
import * as Relays from "./internal/relays.js"
import * as Rooms from "./internal/rooms.js"
import * as Streams from "./internal/streams.js"

/**
 * An app the emulator knows: its AppId, its server secret, and whether it lives in the test environment.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Redacted from "effect/Redacted"
 *
 * const app: Emulator.AppConfig = {
 *   appId: 1234567890,
 *   serverSecret: Redacted.make("0123456789abcdef0123456789abcdef"),
 *   isTest: false
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface AppConfig {
  readonly appId: number
  readonly serverSecret: Redacted.Redacted<string>
  /**
   * `true`: a test-environment app (a project created on or before 2021-11-16 with no production environment):
   * calls must send `IsTest=true` and prefix stream ids with `zegotest-<AppId>-`. Otherwise a production app.
   */
  readonly isTest?: boolean | undefined
  /**
   * Where the emulator POSTs this app's stream callbacks (`stream_create`, `stream_close`): an `http://` URL whose
   * host is loopback (`127.x.x.x`, `::1`, `localhost`); any other is refused (InvalidOptionsError), since tests and
   * demos talk only to this machine. Default: no callbacks.
   */
  readonly callbackUrl?: string | undefined
  /** The callback secret the callbacks are signed with; required with `callbackUrl`. */
  readonly callbackSecret?: Redacted.Redacted<string> | undefined
}

/**
 * An RTMP node of a pool: `rtmp://<host>:<port>/<app>/<StreamId>`.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * const node: Emulator.NodeSpec = { host: "127.0.0.1", port: 1935, app: "live" }
 * const options: Emulator.Options = { apps: [Emulator.demoApp], nodes: { push: [node], pull: [node] } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeSpec {
  readonly host: string
  readonly port: number
  readonly app: string
}

/**
 * How the emulator behaves.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * const options: Emulator.Options = {
 *   apps: [Emulator.demoApp, Emulator.demoTestApp],
 *   rateLimit: { limit: 10, window: "1 second" },
 *   rooms: ["lobby"]
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly apps: ReadonlyArray<AppConfig>
  /** The node pools per type; an empty pool answers 1002 / 1003. Default: `127.0.0.1:1935`, app `live`, for each. */
  readonly nodes?: { readonly push: ReadonlyArray<NodeSpec>; readonly pull: ReadonlyArray<NodeSpec> } | undefined
  /** At most `limit` calls per AppId in any sliding `window`, else 1010; `false`: no limit. Default 40 per second. */
  readonly rateLimit?: { readonly limit: number; readonly window: Duration.DurationInput } | false | undefined
  /** The fault rules in force from the start. */
  readonly faults?: ReadonlyArray<Fault.FaultRule> | undefined
  /** The callback fault rules in force from the start (see {@link Fault.CallbackFaultRule}). */
  readonly callbackFaults?: ReadonlyArray<Fault.CallbackFaultRule> | undefined
  /** The address to listen on: loopback only. Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** The port; 0 (the default) takes a free one. */
  readonly port?: number | undefined
  /**
   * How long after a push dispatch its stream may be published (the `on_publish` check). Default 2 hours, the time
   * ZEGOCLOUD gives to use a node.
   */
  readonly publishWindow?: Duration.DurationInput | undefined
  /** The rooms that exist from the start (`AddStream` needs one; `createRoom` adds more). Default none. */
  readonly rooms?: ReadonlyArray<string> | undefined
  /**
   * How long a closed stream is remembered: `DescribeRTCStreamState` answers 41006 for it within this window, 41004
   * after. Default 10 minutes.
   */
  readonly streamHistory?: Duration.DurationInput | undefined
  /**
   * Multiplies the callbacks' retry schedule (2, 4, 8, 16, 32 s after a failed attempt): a number greater than 0.
   * Default 1; tests use e.g. 0.01.
   */
  readonly callbackRetryScale?: number | undefined
  /** The time limit of one callback attempt. Default 5 seconds (ZEGOCLOUD does not document its own). */
  readonly callbackTimeout?: Duration.DurationInput | undefined
  /** The most callbacks under way at once; past that a callback is dropped (and recorded so). Default 1000. */
  readonly callbackMaxInFlight?: number | undefined
  /**
   * The origins a browser page may call the emulator from (CORS), e.g. `["http://127.0.0.1:5173"]`: for local tools
   * and tests only, since a server secret never belongs in a browser. It answers their preflight `OPTIONS` itself
   * (not an API call, not rate limited) and adds `Access-Control-Allow-Origin` for them only. Default none: no CORS
   * headers at all.
   */
  readonly cors?: ReadonlyArray<string> | undefined
}

/**
 * An action the emulator answers.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * const action: Emulator.Action = "RTMPDispatchV2"
 * assert.ok(Emulator.actions.includes(action))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Action = Dispatcher.ActionName

/**
 * A stream action (not a dispatch): each has its own documented rate limit.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * const action: Emulator.StreamAction = "ForbidRTCStream"
 * assert.deepStrictEqual(Emulator.streamActionLimits[action], { production: 20, test: 5 })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type StreamAction = Dispatcher.StreamAction

/**
 * Every action the emulator answers: the dispatch actions, then the stream actions.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Emulator.actions.slice(0, 2), ["RTMPDispatchV2", "RTMPDispatch"])
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const actions: ReadonlyArray<Action> = Dispatcher.ACTIONS

/**
 * The documented rate limit per AppId per second of each stream action, in production and in the test environment.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.strictEqual(Emulator.streamActionLimits.DescribeRTCStreamState.production, 40)
 * assert.strictEqual(Emulator.streamActionLimits.AddStream.test, 1)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const streamActionLimits: Readonly<
  Record<StreamAction, { readonly production: number; readonly test: number }>
> = Dispatcher.STREAM_ACTION_LIMITS

/**
 * A stream announced in a room by `AddStream` and not deleted since.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const inLobby: Effect.Effect<ReadonlyArray<Emulator.Announced>, never, Emulator.Emulator> = Effect.map(
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.announced),
 *   (streams) => streams.filter((stream) => stream.roomId === "lobby")
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Announced = Rooms.Announced

/**
 * An `AddStream` or `DeleteStream` that took effect, with its request id and time: the announcement's fields
 * (`streamTitle`, `extraInfo` and `censorFlag` for `AddStream` only).
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const withdrawn: Effect.Effect<ReadonlyArray<Emulator.AnnouncementRecord>, never, Emulator.Emulator> = Effect.map(
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.announcements),
 *   (records) => records.filter((record) => record.action === "DeleteStream")
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface AnnouncementRecord extends Omit<Announced, "announcedAt"> {
  readonly requestId: string
  readonly appId: number
  readonly action: "AddStream" | "DeleteStream"
  readonly time: DateTime.Utc
}

/**
 * A relay rule (`CreatCDNTransferRule`) and what became of it: `pending` until its stream is live on a media node,
 * `running` while ffmpeg relays it, `stopped` with the reason (`DeleteCDNTransferRule`, `ClearCDNTransferRule` before
 * it started, the stream ended, ffmpeg exited, the emulator stopped). Times in milliseconds.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const running: Effect.Effect<ReadonlyArray<Emulator.RelayRecord>, never, Emulator.Emulator> = Effect.map(
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.relays),
 *   (relays) => relays.filter((relay) => relay.state === "running")
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type RelayRecord = Relays.RelayRecord

/**
 * A stream callback the emulator sent (or meant to), with its attempts and outcome.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const lost: Effect.Effect<ReadonlyArray<Emulator.CallbackRecord>, never, Emulator.Emulator> = Effect.map(
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.callbacks),
 *   (callbacks) => callbacks.filter((callback) => callback.status === "lost")
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type CallbackRecord = Callbacks.CallbackRecord

/**
 * One attempt to deliver a callback.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * const refused = (record: Emulator.CallbackRecord): ReadonlyArray<Emulator.CallbackAttempt> =>
 *   record.attempts.filter((attempt) => attempt.status === undefined)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type CallbackAttempt = Callbacks.CallbackAttempt

/**
 * The waits before each callback retry, in seconds, before `callbackRetryScale`.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Emulator.callbackRetrySeconds, [2, 4, 8, 16, 32])
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const callbackRetrySeconds: ReadonlyArray<number> = Callbacks.RETRY_SECONDS

/**
 * The default time limit of one callback attempt: 5 seconds.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Duration from "effect/Duration"
 *
 * assert.strictEqual(Duration.toSeconds(Emulator.defaultCallbackTimeout), 5)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCallbackTimeout: Duration.Duration = Duration.seconds(5)

/**
 * The default most callbacks under way at once: 1000.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.strictEqual(Emulator.defaultCallbackMaxInFlight, 1000)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCallbackMaxInFlight = 1000

/**
 * The state of a stream id: published now, closed (within the history window), or unknown.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const isLive = (streamId: string): Effect.Effect<boolean, never, Emulator.Emulator> =>
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.streamState(streamId)).pipe(
 *     Effect.map((state: Emulator.StreamState | undefined) => state?._tag === "Active")
 *   )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type StreamState = Streams.State

/**
 * What a simulated publish was told: allowed, or refused (a forbidden stream id) and why.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const goLive = (streamId: string): Effect.Effect<Emulator.PublishDecision, never, Emulator.Emulator> =>
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.publish(streamId))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PublishDecision {
  readonly allowed: boolean
  readonly reason: string
}

/**
 * A call of nginx-rtmp's `on_publish_done` or `on_update` hook and its answer (the `on_publish` calls are
 * {@link PublishCheck}s). Fields kept short as in a {@link PublishCheck}.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const dropped: Effect.Effect<ReadonlyArray<Emulator.StreamHookCall>, never, Emulator.Emulator> = Effect.map(
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.streamHooks),
 *   (calls) => calls.filter((call) => call.hook === "on_update" && call.status === 403)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
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
 * A node the emulator handed out.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const pushUrls: Effect.Effect<ReadonlyArray<string>, never, Emulator.Emulator> = Effect.map(
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.dispatched),
 *   (records: ReadonlyArray<Emulator.DispatchRecord>) =>
 *     records.filter((record) => record.type === "push").map((record) => record.node)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DispatchRecord {
  readonly requestId: string
  readonly appId: number
  readonly isTest: boolean
  readonly action: Params.Action
  /** The stream id as sent (with the `zegotest-<AppId>-` prefix for a test app). */
  readonly streamId: string
  readonly type: Params.DispatchType
  readonly clientIp: string | undefined
  /** What `Data` carried: the RTMP URL (`RTMPDispatchV2`) or `host:port` (`RTMPDispatch`). */
  readonly node: string
  readonly host: string
  readonly port: number
  readonly app: string
  /** When it was handed out, by the emulator's `Clock`. */
  readonly time: DateTime.Utc
}

/**
 * The most of `times` (milliseconds, e.g. the `receivedAt` of {@link RequestRecord}s) that fall in any one window
 * of `windowMillis`: what a rate limit is judged by.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * // 0, 100 and 900 ms fall in one second; 1000 starts a new one.
 * assert.strictEqual(Emulator.busiestWindow([0, 100, 900, 1000, 1100], 1000), 3)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const busiestWindow = (times: ReadonlyArray<number>, windowMillis: number): number => {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  for (let last = 0, first = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= windowMillis) first++
    most = Math.max(most, last - first + 1)
  }
  return most
}

/**
 * A request the emulator received, whatever it answered. Its strings are kept short (`AppId` 16 characters,
 * `Action` 32, `StreamId` 256, `SignatureNonce` 64; a longer one is cut, ending in `...`), whatever the query.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const rateLimited: Effect.Effect<ReadonlyArray<Emulator.RequestRecord>, never, Emulator.Emulator> = Effect.map(
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.requests),
 *   (requests) => requests.filter((request) => request.code === 1010)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
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
 * A call of the `on_publish` check and its answer. Its fields are kept short (`call` 32 characters, `app` 128, `name`
 * 300, `addr` 64; a longer one is cut, ending in `...`).
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const refused: Effect.Effect<ReadonlyArray<Emulator.PublishCheck>, never, Emulator.Emulator> = Effect.map(
 *   Effect.flatMap(Emulator.Emulator, (emulator) => emulator.publishChecks),
 *   (checks) => checks.filter((check) => !check.allowed)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
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

/**
 * The path of the `on_publish` check.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.strictEqual(Emulator.ON_PUBLISH_PATH, "/rtmp/on_publish")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const ON_PUBLISH_PATH = "/rtmp/on_publish"

/**
 * The path of nginx-rtmp's `on_publish_done` hook: a publisher left.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.strictEqual(Emulator.ON_PUBLISH_DONE_PATH, "/rtmp/on_publish_done")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const ON_PUBLISH_DONE_PATH = "/rtmp/on_publish_done"

/**
 * The path of nginx-rtmp's `on_update` hook: a live publisher may go on (2xx) or is dropped (any other answer).
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.strictEqual(Emulator.ON_UPDATE_PATH, "/rtmp/on_update")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const ON_UPDATE_PATH = "/rtmp/on_update"

const HOOK_PATHS = new Set([ON_PUBLISH_PATH, ON_PUBLISH_DONE_PATH, ON_UPDATE_PATH])

/**
 * The default history window of closed streams: 10 minutes.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Duration from "effect/Duration"
 *
 * assert.strictEqual(Duration.toMinutes(Emulator.defaultStreamHistory), 10)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStreamHistory: Duration.Duration = Duration.minutes(10)

/**
 * The default publish window: 2 hours.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Duration from "effect/Duration"
 *
 * assert.strictEqual(Duration.toHours(Emulator.defaultPublishWindow), 2)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPublishWindow: Duration.Duration = Duration.hours(2)

/**
 * The running emulator.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import { Fault } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * // The next dispatch is answered 1010 (rate limited); then the stream's state.
 * const program = Effect.gen(function*() {
 *   const emulator: Emulator.Service = yield* Emulator.Emulator
 *   yield* emulator.addFault({ fault: Fault.code(1010), next: 1, action: "RTMPDispatchV2" })
 *   return yield* emulator.streamState("demo")
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Where it answers, e.g. `http://127.0.0.1:43123`: the `baseUrl` for the client. */
  readonly baseUrl: string
  readonly host: string
  readonly port: number
  readonly apps: ReadonlyArray<AppConfig>
  /** The nodes handed out so far, oldest first (the last 100 000). */
  readonly dispatched: Effect.Effect<ReadonlyArray<DispatchRecord>>
  /** Every request received so far with the code it was answered, oldest first (the last 100 000). */
  readonly requests: Effect.Effect<ReadonlyArray<RequestRecord>>
  /** Adds a fault rule (the API's or the callbacks'), after those already in force. */
  readonly addFault: (rule: Fault.AnyRule) => Effect.Effect<void>
  /** Removes every fault rule, the callbacks' too. */
  readonly clearFaults: Effect.Effect<void>
  /**
   * The URL for nginx-rtmp's `on_publish`, e.g. `http://127.0.0.1:43123/rtmp/on_publish`: it answers 200 for a
   * stream dispatched for push on a node of that RTMP application within the publish window, 403 otherwise.
   */
  readonly onPublishUrl: string
  /** Every call of the `on_publish` check so far with its answer, oldest first (the last 100 000). */
  readonly publishChecks: Effect.Effect<ReadonlyArray<PublishCheck>>
  /**
   * Forgets the push dispatches of a stream (as sent, with its `zegotest-<AppId>-` prefix if any), or of every
   * stream when none is given: their publish is refused from now on. `dispatched` still lists them.
   */
  readonly forget: (streamId?: string) => Effect.Effect<void>
  /** The URL for nginx-rtmp's `on_publish_done`: the stream closes when its last publisher leaves. */
  readonly onPublishDoneUrl: string
  /** The URL for nginx-rtmp's `on_update`: 403 for a live publisher of a forbidden stream id (nginx drops it). */
  readonly onUpdateUrl: string
  /** Every call of `on_publish_done` and `on_update` so far with its answer, oldest first (the last 100 000). */
  readonly streamHooks: Effect.Effect<ReadonlyArray<StreamHookCall>>
  /**
   * A simulated publisher of `streamId` (as sent, with its test prefix if any) starts, as an allowed `on_publish`
   * would: the stream is active from now, unless its id is forbidden (then refused). No dispatch is needed.
   */
  readonly publish: (streamId: string) => Effect.Effect<PublishDecision>
  /** A simulated publisher of `streamId` leaves: the stream closes now if it was the last publisher. */
  readonly unpublish: (streamId: string) => Effect.Effect<void>
  /** The state of a stream id now (what `DescribeRTCStreamState` answers from). */
  readonly streamState: (streamId: string) => Effect.Effect<StreamState | undefined>
  /** Creates a room (idempotent): `AddStream` into it is allowed from now on. */
  readonly createRoom: (roomId: string) => Effect.Effect<void>
  /** The streams announced now (`AddStream` and not `DeleteStream` since), in the order they were announced. */
  readonly announced: Effect.Effect<ReadonlyArray<Announced>>
  /** Every `AddStream` / `DeleteStream` that took effect, oldest first (the last 100 000). */
  readonly announcements: Effect.Effect<ReadonlyArray<AnnouncementRecord>>
  /**
   * Every stream callback so far, oldest first (the last 100 000): a snapshot, each with its attempts and outcome
   * (`pending` ones may change). Never the secret, nor the body.
   */
  readonly callbacks: Effect.Effect<ReadonlyArray<CallbackRecord>>
  /**
   * Every relay rule so far (`CreatCDNTransferRule`), oldest first (the last 100 000): a snapshot, each with its state
   * (`pending`, `running`, `stopped`), when it started and stopped, and why.
   */
  readonly relays: Effect.Effect<ReadonlyArray<RelayRecord>>
}

/**
 * The service tag.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const emulator = yield* Emulator.Emulator
 *   return emulator.baseUrl
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(Emulator.layer({ apps: [Emulator.demoApp] })))).then((baseUrl) =>
 *   assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
 * )
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("@effect-zego/emulator/Emulator")<Emulator, Service>() {}

/**
 * A demo production app. Public demo data, not a secret: it exists only in this emulator, so that the CLI and
 * the examples work on a machine with no ZEGOCLOUD account.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.strictEqual(Emulator.demoApp.appId, 1234567890)
 * assert.strictEqual(Emulator.demoApp.isTest, false)
 * ```
 *
 * @since 0.1.0
 * @category demo apps
 */
export const demoApp: AppConfig = {
  appId: 1234567890,
  serverSecret: Redacted.make("0123456789abcdef0123456789abcdef"),
  isTest: false
}

/**
 * A demo test-environment app (public demo data, like {@link demoApp}).
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.strictEqual(Emulator.demoTestApp.appId, 1234567891)
 * assert.strictEqual(Emulator.demoTestApp.isTest, true)
 * ```
 *
 * @since 0.1.0
 * @category demo apps
 */
export const demoTestApp: AppConfig = {
  appId: 1234567891,
  serverSecret: Redacted.make("fedcba9876543210fedcba9876543210"),
  isTest: true
}

/**
 * The pools when none are configured: one node on loopback, app `live`, for push and for pull.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(Emulator.defaultNodes.push, [{ host: "127.0.0.1", port: 1935, app: "live" }])
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultNodes: { readonly push: ReadonlyArray<NodeSpec>; readonly pull: ReadonlyArray<NodeSpec> } = {
  push: [{ host: "127.0.0.1", port: 1935, app: "live" }],
  pull: [{ host: "127.0.0.1", port: 1935, app: "live" }]
}

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
const LOOPBACK_V4 = new RegExp(`^127(\\.${OCTET}){3}$`)

/**
 * Whether `host` is a loopback address or `localhost`.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.ok(Emulator.isLoopback("127.0.0.1"))
 * assert.ok(Emulator.isLoopback("::1"))
 * assert.ok(!Emulator.isLoopback("192.168.1.10"))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const isLoopback = (host: string): boolean => host === "localhost" || host === "::1" || LOOPBACK_V4.test(host)

const secretMessage = () => ({ message: "serverSecret must be a non-empty string", override: true })

/** Whether `text` is an `http://` URL on a loopback host, without credentials. */
const isLoopbackHttpUrl = (text: string): boolean => {
  try {
    const url = new URL(text)
    // No user:password@: a URL is printed and logged, a credential in it would be too.
    return url.protocol === "http:" && url.username === "" && url.password === "" &&
      isLoopback(url.hostname.replace(/^\[(.*)\]$/, "$1"))
  } catch {
    return false
  }
}

const AppConfigSchema = Schema.Struct({
  appId: Params.AppId,
  serverSecret: Schema.Redacted(Schema.NonEmptyString.annotations({ message: secretMessage })),
  isTest: Schema.optional(Schema.Boolean),
  callbackUrl: Schema.optional(Schema.String.pipe(Schema.filter(isLoopbackHttpUrl, {
    message: () =>
      "callbackUrl must be an http:// URL on a loopback host (127.0.0.1, ::1, localhost), without user:password@: " +
      "the emulator calls only this machine"
  }))),
  callbackSecret: Schema.optional(Schema.Redacted(Schema.NonEmptyString.annotations({
    message: () => ({ message: "callbackSecret must be a non-empty string", override: true })
  })))
}).pipe(Schema.filter((app) =>
  app.callbackUrl === undefined || app.callbackSecret !== undefined ||
  { path: ["callbackSecret"], message: "callbackSecret is required with callbackUrl" }
))

const NodeSpecSchema = Schema.Struct({
  host: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9.-]{1,253}$/, { message: () => "host must be a host name or an IPv4 address" })
  ),
  port: Schema.Int.pipe(Schema.between(1, 65535, { message: () => "port must be between 1 and 65535" })),
  app: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, {
      message: () => "app must be one or more path segments of letters, digits, . _ ~ -"
    })
  )
})

/**
 * The options as a schema: a JSON file decodes with it (secrets as strings, durations as milliseconds or text
 * such as `"1 second"`), and options given in code are validated with it.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Duration from "effect/Duration"
 * import * as Schema from "effect/Schema"
 *
 * const options = Schema.decodeUnknownSync(Emulator.OptionsSchema)({
 *   apps: [{ appId: 1234567890, serverSecret: "0123456789abcdef0123456789abcdef" }],
 *   rateLimit: { limit: 10, window: "1 second" }
 * })
 * assert.ok(options.rateLimit !== undefined && options.rateLimit !== false)
 * assert.strictEqual(Duration.toMillis(options.rateLimit.window), 1000)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const OptionsSchema = Schema.Struct({
  apps: Schema.Array(AppConfigSchema).pipe(
    Schema.minItems(1, { message: () => "at least one app is needed" }),
    Schema.filter((apps) => {
      const ids = apps.map((app) => app.appId)
      const duplicate = ids.find((id, i) => ids.indexOf(id) !== i)
      return duplicate === undefined || `AppId ${duplicate} appears twice`
    })
  ),
  nodes: Schema.optional(Schema.Struct({ push: Schema.Array(NodeSpecSchema), pull: Schema.Array(NodeSpecSchema) })),
  rateLimit: Schema.optional(Schema.Union(
    Schema.Literal(false),
    Schema.Struct({
      limit: Schema.Int.pipe(Schema.positive({ message: () => "limit must be a positive integer" })),
      window: PositiveDurationFromJson
    })
  )),
  faults: Schema.optional(Schema.Array(Fault.FaultRule)),
  callbackFaults: Schema.optional(Schema.Array(Fault.CallbackFaultRule)),
  host: Schema.optional(
    Schema.String.pipe(Schema.filter(isLoopback, { message: () => "host must be a loopback address (127.0.0.1, ::1)" }))
  ),
  port: Schema.optional(
    Schema.Int.pipe(Schema.between(0, 65535, { message: () => "port must be between 0 and 65535 (0: a free port)" }))
  ),
  publishWindow: Schema.optional(PositiveDurationFromJson),
  rooms: Schema.optional(Schema.Array(
    Schema.String.pipe(
      Schema.filter((id) => id !== "" && Buffer.byteLength(id, "utf8") <= 127, {
        message: () => "a room id is 1 to 127 bytes"
      })
    )
  )),
  streamHistory: Schema.optional(PositiveDurationFromJson),
  callbackRetryScale: Schema.optional(
    Schema.Number.pipe(Schema.filter((scale) => Number.isFinite(scale) && scale > 0, {
      message: () => "callbackRetryScale must be a number greater than 0"
    }))
  ),
  callbackTimeout: Schema.optional(PositiveDurationFromJson),
  callbackMaxInFlight: Schema.optional(
    Schema.Int.pipe(Schema.positive({ message: () => "callbackMaxInFlight must be a positive integer" }))
  ),
  cors: Schema.optional(Schema.Array(
    Schema.String.pipe(Schema.filter(Cors.isOrigin, {
      message: () => "a CORS origin is scheme://host[:port], e.g. http://127.0.0.1:5173, with no path"
    }))
  ))
}).annotations({ identifier: "EmulatorOptions" })

type ValidOptions = typeof OptionsSchema.Type

/**
 * Every problem, by its path. A union reports each of its members: the `undefined` of an optional field and the
 * `false` of `rateLimit` are left out when another member has something more useful to say.
 */
const formatIssues = (error: ParseResult.ParseError): string => {
  // Bounded: Effect's own formatting quotes the offending value in full, and overflows the stack on a deep one.
  const issues = Bounded.issues(error)
  return issues
    .filter((issue) =>
      !(/^Expected (undefined|false), actual/.test(issue.message) &&
        issues.some((other) =>
          other !== issue && (other.path === issue.path || other.path.startsWith(`${issue.path}.`))
        ))
    )
    .map((issue) => `${issue.path === "" ? "options" : issue.path}: ${issue.message}`)
    .join("; ")
}

const validateOptions = (options: Options): Either.Either<ValidOptions, EmulatorError.InvalidOptionsError> => {
  const invalid = (detail: string) => Either.left(new EmulatorError.InvalidOptionsError({ detail }))
  let rateLimit: unknown = options.rateLimit
  if (options.rateLimit !== undefined && options.rateLimit !== false) {
    const window = Duration.decodeUnknown(options.rateLimit.window)
    if (window._tag === "None") return invalid("rateLimit.window: not a duration")
    rateLimit = { ...options.rateLimit, window: window.value }
  }
  let publishWindow: unknown = options.publishWindow
  if (options.publishWindow !== undefined) {
    const window = Duration.decodeUnknown(options.publishWindow)
    if (window._tag === "None") return invalid("publishWindow: not a duration")
    publishWindow = window.value
  }
  let streamHistory: unknown = options.streamHistory
  if (options.streamHistory !== undefined) {
    const window = Duration.decodeUnknown(options.streamHistory)
    if (window._tag === "None") return invalid("streamHistory: not a duration")
    streamHistory = window.value
  }
  let callbackTimeout: unknown = options.callbackTimeout
  if (options.callbackTimeout !== undefined) {
    const timeout = Duration.decodeUnknown(options.callbackTimeout)
    if (timeout._tag === "None") return invalid("callbackTimeout: not a duration")
    callbackTimeout = timeout.value
  }
  return Schema.validateEither(OptionsSchema, { errors: "all", onExcessProperty: "ignore" })({
    ...options,
    rateLimit,
    publishWindow,
    streamHistory,
    callbackTimeout
  }).pipe(Either.mapLeft((error) => new EmulatorError.InvalidOptionsError({ detail: formatIssues(error) })))
}

/**
 * Reads the options from a JSON file (same fields as {@link Options}; secrets as strings, redacted once read).
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
 * import * as Effect from "effect/Effect"
 *
 * // The file: { "apps": [{ "appId": 1234567890, "serverSecret": "…" }], "port": 8080 }
 * const options = Emulator.loadOptions("emulator.json").pipe(Effect.provide(NodeFileSystem.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const loadOptions = (
  path: string
): Effect.Effect<Options, EmulatorError.ConfigFileError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) => new EmulatorError.ConfigFileError({ path, reason: "Read", detail: error.message }))
    )
    // Only the position of a syntax error: JSON.parse's message quotes the text near it, maybe a secret.
    const json = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: () => {
        const error = Bounded.jsonSyntaxError(text)
        return new EmulatorError.ConfigFileError({
          path,
          reason: "Parse",
          detail: error === undefined
            ? "a syntax error (JSON.parse refuses it)"
            : `line ${error.line}, column ${error.column}: ${error.problem}`
        })
      }
    })
    return yield* Schema.decodeUnknown(OptionsSchema, { errors: "all", onExcessProperty: "error" })(json).pipe(
      Effect.mapError((error) =>
        new EmulatorError.ConfigFileError({ path, reason: "Invalid", detail: formatIssues(error) })
      )
    )
  })

const MAX_RECORDS = 100_000
/** The most relay rules kept at once: each may run an ffmpeg. */
const MAX_RELAY_RULES = 64

/**
 * The longest request target (path and query) answered; a longer one gets 414, as nginx answers past 8 KiB.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.strictEqual(Emulator.MAX_TARGET_LENGTH, 8192)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_TARGET_LENGTH = 8 * 1024

/**
 * The largest `on_publish` body read (nginx-rtmp sends a few hundred bytes); a larger one gets 413.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.strictEqual(Emulator.MAX_PUBLISH_BODY, 65536)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_PUBLISH_BODY = 64 * 1024

/** The request target as a URL, if it is one. */
const parseUrl = (target: string): URL | undefined => {
  try {
    return new URL(target, "http://emulator.invalid")
  } catch {
    return undefined
  }
}

/**
 * A request's path and (decoded) query with its `Signature` hidden, for logs: at most 1 000 characters, escaped so
 * that a terminal shows what a client sent instead of obeying it.
 */
const redactUrl = (url: URL | undefined): string => {
  if (url === undefined) return "<not a URL>"
  const query = [...url.searchParams]
    .map(([name, value]) => `${name}=${name.toLowerCase() === "signature" ? "<redacted>" : value}`)
    .join("&")
  return Bounded.printable(query === "" ? url.pathname : `${url.pathname}?${query}`)
}

/** A fresh RequestId: 19 decimal digits, like the real ones. */
const newRequestId = (): string => String(10n ** 18n + randomBytes(8).readBigUInt64BE() % (9n * 10n ** 18n))

const DEFAULT_MALFORMED_BODY = "{\"Code\":0,\"Message\":\"ok\",\"RequestId\":"

const htmlPage = (status: number) =>
  `<html><head><title>${status}</title></head><body><h1>${status} ${
    Http.STATUS_CODES[status] ?? "Server Error"
  }</h1></body></html>`

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

/**
 * Starts the emulator in the current scope; the server stops when the scope closes.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const emulator = yield* Emulator.make({ apps: [Emulator.demoApp] })
 *   return yield* emulator.publish("demo")
 * }))
 *
 * Effect.runPromise(program).then((decision) => assert.strictEqual(decision.allowed, true))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, EmulatorError.InvalidOptionsError | EmulatorError.StartError, Scope.Scope> =>
  Effect.gen(function*() {
    const valid = yield* validateOptions(options)
    const host = valid.host ?? "127.0.0.1"
    const rateLimit = valid.rateLimit ?? { limit: 40, window: Duration.seconds(1) }
    const rooms = Rooms.make(valid.rooms ?? [])
    const callbackFaults = Faults.makeCallbackFaults(valid.callbackFaults ?? [])
    const nodes = valid.nodes ?? defaultNodes
    const callbacks = yield* Callbacks.make({
      apps: valid.apps,
      retryScale: valid.callbackRetryScale ?? 1,
      timeout: valid.callbackTimeout ?? defaultCallbackTimeout,
      maxInFlight: valid.callbackMaxInFlight ?? defaultCallbackMaxInFlight,
      faults: callbackFaults,
      rooms,
      pullNodes: nodes.pull
    })
    // The relays log from ffmpeg's events, outside any fiber: through this scope's runtime (its logger and level).
    const runtime = yield* Effect.runtime<never>()
    const relays = Relays.make({
      ffmpeg: "ffmpeg",
      maxRules: MAX_RELAY_RULES,
      maxRecords: MAX_RECORDS,
      log: (line) => Runtime.runFork(runtime)(Effect.logInfo(Bounded.printable(line, 2000)))
    })
    // Every relay process ends with the emulator.
    yield* Effect.addFinalizer(() => Effect.promise(() => relays.close()))
    const streams = Streams.make(
      Duration.toMillis(valid.streamHistory ?? defaultStreamHistory),
      undefined,
      (change) => {
        callbacks.streamChanged(change)
        if (change._tag === "Closed") relays.streamEnded(change.streamId, change.atMillis)
      }
    )
    const evaluate = Dispatcher.make({
      apps: valid.apps,
      nodes,
      rateLimit: rateLimit === false
        ? false
        : { limit: rateLimit.limit, windowMillis: Duration.toMillis(rateLimit.window) },
      streams,
      rooms,
      relays
    })
    const faults = Faults.make(valid.faults ?? [])
    const cors = Cors.make(valid.cors ?? [])
    const grants = PublishGrants.make(Duration.toMillis(valid.publishWindow ?? defaultPublishWindow))
    let records: Array<DispatchRecord> = []
    let received: Array<RequestRecord> = []
    let checks: Array<PublishCheck> = []
    let hookCalls: Array<StreamHookCall> = []
    let announcements: Array<AnnouncementRecord> = []

    let nodeServer: Http.Server | undefined
    const server = yield* NodeHttpServer.make(() => (nodeServer = Http.createServer()), {
      host,
      port: valid.port ?? 0
    }).pipe(
      Effect.mapError((error) =>
        new EmulatorError.StartError({
          host,
          port: valid.port ?? 0,
          detail: error.cause instanceof Error ? error.cause.message : String(error.cause)
        })
      )
    )
    // Runs before the server closes: a call held by a delay fault must not keep the server open.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer?.closeAllConnections()))
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    const baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`

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
          records.push({ requestId, ...dispatch, time: DateTime.unsafeMake(now) })
          if (records.length > MAX_RECORDS * 1.1) records = records.slice(-MAX_RECORDS)
        }
        const announcement = answer.announcement
        if (announcement !== undefined) {
          const appId = Number(params.get("AppId"))
          const time = DateTime.unsafeMake(now)
          if (announcement._tag === "Deleted") callbacks.deleted(appId, announcement.withdrawn, now)
          announcements.push(
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
          if (announcements.length > MAX_RECORDS * 1.1) announcements = announcements.slice(-MAX_RECORDS)
        }
        return {
          response: HttpServerResponse.text(envelope(requestId, answer), { contentType: "application/json" }),
          code: answer.code,
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
              outcome: Bounded.printable(`Code ${fault.code} (${message}) [fault]`)
            }
          }
          case "Delay": {
            yield* Effect.sleep(fault.duration)
            const answered = yield* answerCall(params, requestId)
            return { ...answered, outcome: `${answered.outcome} [fault: delayed ${Duration.format(fault.duration)}]` }
          }
          case "HttpStatus":
            return {
              response: HttpServerResponse.text(fault.body ?? htmlPage(fault.status), {
                status: fault.status,
                contentType: "text/html"
              }),
              outcome: `HTTP ${fault.status} without an envelope [fault]`
            }
          case "Malformed":
            return {
              response: HttpServerResponse.text(fault.body ?? DEFAULT_MALFORMED_BODY, {
                contentType: "application/json"
              }),
              outcome: "a malformed body [fault]"
            }
          case "Reset":
            NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
            return { response: HttpServerResponse.empty(), outcome: "connection reset [fault]" }
        }
      })

    /**
     * Where a relay plays a stream published on a media node: the push node of that application on loopback that the
     * publisher connected to (its `tcUrl`), else the first such node.
     */
    const relaySource = (app: string, name: string, tcurl: string | undefined): string | undefined => {
      const candidates = nodes.push.filter((spec) => spec.app === app && isLoopback(spec.host))
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
          checks.push({ receivedAt, call, app, name, addr, allowed, status, reason })
          if (checks.length > MAX_RECORDS * 1.1) checks = checks.slice(-MAX_RECORDS)
        } else {
          const hook = path === ON_UPDATE_PATH ? "on_update" : "on_publish_done"
          hookCalls.push({ receivedAt, hook, call, app, name, addr, status, reason })
          if (hookCalls.length > MAX_RECORDS * 1.1) hookCalls = hookCalls.slice(-MAX_RECORDS)
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

    const api = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const receivedAt = yield* Clock.currentTimeMillis
      const requestId = newRequestId()
      const tooLong = request.url.length > MAX_TARGET_LENGTH
      const url = parseUrl(tooLong ? request.url.slice(0, MAX_TARGET_LENGTH) : request.url)
      if (url !== undefined && HOOK_PATHS.has(url.pathname) && !tooLong) return yield* streamHook(request, url.pathname)
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
      received.push(record)
      if (received.length > MAX_RECORDS * 1.1) received = received.slice(-MAX_RECORDS)
      const handled = tooLong
        ? {
          response: HttpServerResponse.text(htmlPage(414), { status: 414, contentType: "text/html" }),
          outcome: `HTTP 414 (a request target of ${request.url.length} characters; at most ${MAX_TARGET_LENGTH})`
        }
        : yield* handle(request, url, requestId)
      const { outcome, response } = handled
      record.code = "code" in handled ? handled.code : undefined
      const date = new Date(yield* Clock.currentTimeMillis).toUTCString()
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

    // The platform's own server span records the full URL, Signature included: ours records nothing secret.
    yield* Effect.locally(server.serve(app), HttpMiddleware.currentTracerDisabledWhen, () => true)

    const addFault = (rule: Fault.AnyRule): Effect.Effect<void> =>
      Either.match(Schema.validateEither(Fault.AnyRule)(rule), {
        onLeft: (error) => Effect.dieMessage(`Emulator.addFault: invalid rule: ${formatIssues(error)}`),
        onRight: (valid) => Fault.isCallbackRule(valid) ? callbackFaults.add(valid) : faults.add(valid)
      })

    return Emulator.of({
      baseUrl,
      host,
      port,
      apps: valid.apps,
      dispatched: Effect.sync(() => records.slice(-MAX_RECORDS)),
      requests: Effect.sync(() => received.slice(-MAX_RECORDS)),
      addFault,
      clearFaults: Effect.zipRight(faults.clear, callbackFaults.clear),
      onPublishUrl: `${baseUrl}${ON_PUBLISH_PATH}`,
      publishChecks: Effect.sync(() => checks.slice(-MAX_RECORDS)),
      forget: (streamId) => Effect.sync(() => grants.forget(streamId)),
      onPublishDoneUrl: `${baseUrl}${ON_PUBLISH_DONE_PATH}`,
      onUpdateUrl: `${baseUrl}${ON_UPDATE_PATH}`,
      streamHooks: Effect.sync(() => hookCalls.slice(-MAX_RECORDS)),
      publish: (streamId) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const decision = streams.publish(Bounded.keep(streamId), "simulated", now)
          return { allowed: decision.allowed, reason: decision.reason }
        }),
      unpublish: (streamId) =>
        Effect.flatMap(
          Clock.currentTimeMillis,
          (now) => Effect.sync(() => streams.publishDone(Bounded.keep(streamId), "simulated", now))
        ),
      streamState: (streamId) =>
        Effect.map(Clock.currentTimeMillis, (now) => streams.state(Bounded.keep(streamId), now)),
      createRoom: (roomId) => Effect.sync(() => rooms.create(roomId)),
      announced: Effect.sync(() => rooms.announced()),
      announcements: Effect.sync(() => announcements.slice(-MAX_RECORDS)),
      callbacks: Effect.sync(callbacks.records),
      relays: Effect.sync(relays.records)
    })
  })

/**
 * The emulator as a layer: it listens while the layer's scope is open.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { Emulator } from "@effect-zego/emulator"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 *
 * // The core's dispatch service pointed at the emulator, with the demo app's credentials.
 * const Dispatch = Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
 *   RtmpDispatch.layer({
 *     appId: Emulator.demoApp.appId,
 *     serverSecret: Emulator.demoApp.serverSecret,
 *     baseUrl: emulator.baseUrl
 *   })))
 *
 * const program = Effect.gen(function*() {
 *   const dispatch = yield* RtmpDispatch.RtmpDispatch
 *   const result = yield* dispatch.dispatch({ streamId: "demo", type: "push" })
 *   return result.nodes[0].url
 * })
 *
 * const DispatchLive = Dispatch.pipe(
 *   Layer.provide(Emulator.layer({ apps: [Emulator.demoApp] })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * Effect.runPromise(program.pipe(Effect.provide(DispatchLive))).then((url) =>
 *   assert.strictEqual(url, "rtmp://127.0.0.1:1935/live/demo")
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Emulator, EmulatorError.InvalidOptionsError | EmulatorError.StartError> =>
  Layer.scoped(Emulator, make(options))

/**
 * The emulator configured from a JSON file (see {@link loadOptions}).
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
 * import * as Layer from "effect/Layer"
 *
 * const EmulatorLive = Emulator.layerFile("emulator.json").pipe(Layer.provide(NodeFileSystem.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (
  path: string
): Layer.Layer<Emulator, EmulatorError.EmulatorError, FileSystem.FileSystem> =>
  Layer.scoped(Emulator, Effect.flatMap(loadOptions(path), make))
