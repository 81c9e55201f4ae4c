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
 * With the `dashboard` option it also serves a web page on a port of its own (`dashboardUrl`): its streams with a
 * live preview of each stream on a media node, its recent calls, callbacks and rooms, live, and a forbid / resume.
 *
 * It answers over plain http on loopback only; the core accepts an http base URL for a loopback host.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as EmulatorConfig from "./EmulatorConfig.js"
import * as EmulatorError from "./EmulatorError.js"
import * as Fault from "./Fault.js"
import * as Bounded from "./internal/bounded.js"
import * as Callbacks from "./internal/callbacks.js"
import * as Cors from "./internal/cors.js"
import * as Dashboard from "./internal/dashboard.js"
import * as DashboardView from "./internal/dashboardView.js"
import * as Dispatcher from "./internal/dispatcher.js"
import * as Faults from "./internal/faults.js"
import * as HttpApi from "./internal/httpApi.js"
import * as Options from "./internal/options.js"
import * as Previews from "./internal/previews.js"
import * as PublishGrants from "./internal/publishGrants.js"
import * as RecordLog from "./internal/recordLog.js"
import * as Relays from "./internal/relays.js"
import * as Rooms from "./internal/rooms.js"
import * as RtmpHooks from "./internal/rtmpHooks.js"
import * as Streams from "./internal/streams.js"

// The configuration lives in `EmulatorConfig`; its names stay here too, so that `Emulator.demoApp`,
// `Emulator.Options` and the rest keep working.
export type {
  /**
   * An app the emulator knows (see `EmulatorConfig.AppConfig`).
   *
   * @since 0.1.0
   * @category models
   */
  AppConfig,
  /**
   * An RTMP node of a pool (see `EmulatorConfig.NodeSpec`).
   *
   * @since 0.1.0
   * @category models
   */
  NodeSpec,
  /**
   * How the emulator behaves (see `EmulatorConfig.Options`).
   *
   * @since 0.1.0
   * @category models
   */
  Options
} from "./EmulatorConfig.js"

export {
  /**
   * The default most callbacks under way at once: 1000.
   *
   * @since 0.1.0
   * @category constants
   */
  defaultCallbackMaxInFlight,
  /**
   * The default time limit of one callback attempt: 5 seconds.
   *
   * @since 0.1.0
   * @category constants
   */
  defaultCallbackTimeout,
  /**
   * The pools when none are configured (see `EmulatorConfig.defaultNodes`).
   *
   * @since 0.1.0
   * @category constants
   */
  defaultNodes,
  /**
   * The default publish window: 2 hours.
   *
   * @since 0.1.0
   * @category constants
   */
  defaultPublishWindow,
  /**
   * The default history window of closed streams: 10 minutes.
   *
   * @since 0.1.0
   * @category constants
   */
  defaultStreamHistory,
  /**
   * A demo production app (see `EmulatorConfig.demoApp`).
   *
   * @example
   * ```ts
   * import { Emulator } from "@effect-zego/emulator"
   *
   * assert.strictEqual(Emulator.demoApp.appId, 1234567890)
   * ```
   *
   * @since 0.1.0
   * @category demo apps
   */
  demoApp,
  /**
   * The demo rooms, there unless the options name rooms (see `EmulatorConfig.demoRooms`).
   *
   * @example
   * ```ts
   * import { Emulator } from "@effect-zego/emulator"
   *
   * assert.ok(Emulator.demoRooms.includes("lobby"))
   * ```
   *
   * @since 0.1.0
   * @category demo apps
   */
  demoRooms,
  /**
   * A demo test-environment app (see `EmulatorConfig.demoTestApp`).
   *
   * @example
   * ```ts
   * import { Emulator } from "@effect-zego/emulator"
   *
   * assert.strictEqual(Emulator.demoTestApp.isTest, true)
   * ```
   *
   * @since 0.1.0
   * @category demo apps
   */
  demoTestApp,
  /**
   * Whether `host` is a loopback address or `localhost` (see `EmulatorConfig.isLoopback`).
   *
   * @example
   * ```ts
   * import { Emulator } from "@effect-zego/emulator"
   *
   * assert.ok(Emulator.isLoopback("127.0.0.1"))
   * assert.ok(!Emulator.isLoopback("192.168.1.10"))
   * ```
   *
   * @since 0.1.0
   * @category utils
   */
  isLoopback,
  /**
   * Reads the options from a JSON file (see `EmulatorConfig.loadOptions`).
   *
   * @example
   * ```ts
   * import { Emulator } from "@effect-zego/emulator"
   * import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
   * import * as Effect from "effect/Effect"
   *
   * const options = Emulator.loadOptions("emulator.json").pipe(Effect.provide(NodeFileSystem.layer))
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  loadOptions,
  /**
   * The options as a schema (see `EmulatorConfig.OptionsSchema`).
   *
   * @example
   * ```ts
   * import { Emulator } from "@effect-zego/emulator"
   * import * as Schema from "effect/Schema"
   *
   * const options = Schema.decodeUnknownSync(Emulator.OptionsSchema)({
   *   apps: [{ appId: 1234567890, serverSecret: "0123456789abcdef0123456789abcdef" }]
   * })
   * assert.strictEqual(options.apps[0]?.appId, 1234567890)
   * ```
   *
   * @since 0.1.0
   * @category schemas
   */
  OptionsSchema
} from "./EmulatorConfig.js"

/**
 * An action the emulator answers.
 *
 * @since 0.1.0
 * @category models
 */
export type Action = Dispatcher.ActionName

/**
 * A stream action (not a dispatch): each has its own documented rate limit.
 *
 * @since 0.1.0
 * @category models
 */
export type StreamAction = Dispatcher.StreamAction

/**
 * Every action the emulator answers: the dispatch actions, then the stream actions.
 *
 * @since 0.1.0
 * @category constants
 */
export const actions: ReadonlyArray<Action> = Dispatcher.ACTIONS

/**
 * The documented rate limit per AppId per second of each stream action, in production and in the test environment.
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
 * @since 0.1.0
 * @category models
 */
export type Announced = Rooms.Announced

/**
 * An `AddStream` or `DeleteStream` that took effect, with its request id and time: the announcement's fields
 * (`streamTitle`, `extraInfo` and `censorFlag` for `AddStream` only).
 *
 * @since 0.1.0
 * @category models
 */
export type AnnouncementRecord = HttpApi.AnnouncementRecord

/**
 * A relay rule (`CreatCDNTransferRule`) and what became of it: `pending` until its stream is live on a media node,
 * `running` while ffmpeg relays it, `stopped` with the reason (`DeleteCDNTransferRule`, `ClearCDNTransferRule` before
 * it started, the stream ended, ffmpeg exited, the emulator stopped). Times in milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export type RelayRecord = Relays.RelayRecord

/**
 * A stream callback the emulator sent (or meant to), with its attempts and outcome.
 *
 * @since 0.1.0
 * @category models
 */
export type CallbackRecord = Callbacks.CallbackRecord

/**
 * One attempt to deliver a callback.
 *
 * @since 0.1.0
 * @category models
 */
export type CallbackAttempt = Callbacks.CallbackAttempt

/**
 * The waits before each callback retry, in seconds, before `callbackRetryScale`.
 *
 * @since 0.1.0
 * @category constants
 */
export const callbackRetrySeconds: ReadonlyArray<number> = Callbacks.RETRY_SECONDS

/**
 * The state of a stream id: published now, closed (within the history window), or unknown.
 *
 * @since 0.1.0
 * @category models
 */
export type StreamState = Streams.State

/**
 * What a simulated publish was told: allowed, or refused (a forbidden stream id) and why.
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
 * @since 0.1.0
 * @category models
 */
export type StreamHookCall = RtmpHooks.StreamHookCall

/**
 * A node the emulator handed out.
 *
 * @since 0.1.0
 * @category models
 */
export type DispatchRecord = HttpApi.DispatchRecord

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
 * @since 0.1.0
 * @category models
 */
export type RequestRecord = HttpApi.RequestRecord

/**
 * A call of the `on_publish` check and its answer. Its fields are kept short (`call` 32 characters, `app` 128, `name`
 * 300, `addr` 64; a longer one is cut, ending in `...`).
 *
 * @since 0.1.0
 * @category models
 */
export type PublishCheck = RtmpHooks.PublishCheck

/**
 * The path of the `on_publish` check.
 *
 * @since 0.1.0
 * @category constants
 */
export const ON_PUBLISH_PATH = RtmpHooks.ON_PUBLISH_PATH

/**
 * The path of nginx-rtmp's `on_publish_done` hook: a publisher left.
 *
 * @since 0.1.0
 * @category constants
 */
export const ON_PUBLISH_DONE_PATH = RtmpHooks.ON_PUBLISH_DONE_PATH

/**
 * The path of nginx-rtmp's `on_update` hook: a live publisher may go on (2xx) or is dropped (any other answer).
 *
 * @since 0.1.0
 * @category constants
 */
export const ON_UPDATE_PATH = RtmpHooks.ON_UPDATE_PATH

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
  readonly apps: ReadonlyArray<EmulatorConfig.AppConfig>
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
  /**
   * The dashboard's URL when the `dashboard` option is on, e.g. `http://127.0.0.1:43124/?token=…`: it carries the
   * run's token, which the dashboard's data and actions need (so it is redacted: a log of the service shows no token).
   */
  readonly dashboardUrl: Redacted.Redacted<string> | undefined
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

/** The most relay rules kept at once: each may run an ffmpeg. */
const MAX_RELAY_RULES = 64

/** The most streams the dashboard previews at once (an ffmpeg each), and the most viewers of one. */
const MAX_PREVIEWS = 4
const MAX_PREVIEW_VIEWERS = 4

/**
 * The longest request target (path and query) answered; a longer one gets 414, as nginx answers past 8 KiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_TARGET_LENGTH: number = HttpApi.MAX_TARGET_LENGTH

/**
 * The largest `on_publish` body read (nginx-rtmp sends a few hundred bytes); a larger one gets 413.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_PUBLISH_BODY: number = RtmpHooks.MAX_PUBLISH_BODY

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
  options: EmulatorConfig.Options
): Effect.Effect<Service, EmulatorError.InvalidOptionsError | EmulatorError.StartError, Scope.Scope> =>
  Effect.gen(function*() {
    const valid = yield* Options.validate(options)
    const host = valid.host ?? "127.0.0.1"
    const rateLimit = valid.rateLimit ?? { limit: 40, window: Duration.seconds(1) }
    const rooms = Rooms.make(valid.rooms ?? EmulatorConfig.demoRooms)
    const callbackFaults = Faults.makeCallbackFaults(valid.callbackFaults ?? [])
    const nodes = valid.nodes ?? EmulatorConfig.defaultNodes
    const callbacks = yield* Callbacks.make({
      apps: valid.apps,
      retryScale: valid.callbackRetryScale ?? 1,
      timeout: valid.callbackTimeout ?? EmulatorConfig.defaultCallbackTimeout,
      maxInFlight: valid.callbackMaxInFlight ?? EmulatorConfig.defaultCallbackMaxInFlight,
      faults: callbackFaults,
      rooms,
      pullNodes: nodes.pull
    })
    // The relays log from ffmpeg's events, outside any fiber: through this scope's runtime (its logger and level).
    const runtime = yield* Effect.runtime<never>()
    const relays = Relays.make({
      ffmpeg: "ffmpeg",
      maxRules: MAX_RELAY_RULES,
      maxRecords: RecordLog.MAX_RECORDS,
      log: (line) => Runtime.runFork(runtime)(Effect.logInfo(Bounded.printable(line, 2000)))
    })
    // Every relay process ends with the emulator.
    yield* Effect.addFinalizer(() => Effect.promise(() => relays.close()))
    const previews = Previews.make({
      ffmpeg: "ffmpeg",
      maxStreams: MAX_PREVIEWS,
      maxViewers: MAX_PREVIEW_VIEWERS,
      log: (line) => Runtime.runFork(runtime)(Effect.logInfo(Bounded.printable(line, 2000)))
    })
    const streams = Streams.make(
      Duration.toMillis(valid.streamHistory ?? EmulatorConfig.defaultStreamHistory),
      undefined,
      (change) => {
        callbacks.streamChanged(change)
        if (change._tag === "Closed") {
          relays.streamEnded(change.streamId, change.atMillis)
          previews.streamEnded(change.streamId)
        }
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
    const grants = PublishGrants.make(Duration.toMillis(valid.publishWindow ?? EmulatorConfig.defaultPublishWindow))
    const hooks = RtmpHooks.make({ pushNodes: nodes.push, streams, grants, relays })
    const { announcements, app, dispatched, recentCalls, recentDispatches, requests } = HttpApi.make({
      evaluate,
      faults,
      cors,
      grants,
      callbacks,
      hooks
    })

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

    // The platform's own server span records the full URL, Signature included: ours records nothing secret.
    yield* Effect.locally(server.serve(app), HttpMiddleware.currentTracerDisabledWhen, () => true)

    // The dashboard acts outside any fiber (a browser's request): the time is this scope's `Clock`'s.
    const now = () => Runtime.runSync(runtime)(Clock.currentTimeMillis)
    const dashboard = valid.dashboard === undefined || valid.dashboard === false
      ? undefined
      : yield* Dashboard.make({
        host,
        port: valid.dashboard === true ? 0 : valid.dashboard.port ?? 0,
        snapshot: () =>
          DashboardView.snapshot(
            { baseUrl, streams, rooms, grants, relays, callbacks, recentCalls, recentDispatches },
            now()
          ),
        setForbidden: (streamId, forbidden) =>
          forbidden ? streams.forbid(Bounded.keep(streamId), now()) : streams.resume(streamId),
        previewSource: (streamId) =>
          !streams.isForbidden(streamId) && streams.state(streamId, now())?._tag === "Active"
            ? relays.liveSource(streamId)
            : undefined,
        previews,
        log: (line) => Runtime.runFork(runtime)(Effect.logInfo(line))
      })

    const addFault = (rule: Fault.AnyRule): Effect.Effect<void> =>
      Either.match(Schema.validateEither(Fault.AnyRule)(rule), {
        onLeft: (error) => Effect.dieMessage(`Emulator.addFault: invalid rule: ${Bounded.formatIssues(error)}`),
        onRight: (valid) => Fault.isCallbackRule(valid) ? callbackFaults.add(valid) : faults.add(valid)
      })

    return Emulator.of({
      baseUrl,
      host,
      port,
      apps: valid.apps,
      dispatched: Effect.sync(dispatched),
      requests: Effect.sync(requests),
      addFault,
      clearFaults: Effect.zipRight(faults.clear, callbackFaults.clear),
      onPublishUrl: `${baseUrl}${ON_PUBLISH_PATH}`,
      publishChecks: Effect.sync(hooks.publishChecks),
      forget: (streamId) => Effect.sync(() => grants.forget(streamId)),
      onPublishDoneUrl: `${baseUrl}${ON_PUBLISH_DONE_PATH}`,
      onUpdateUrl: `${baseUrl}${ON_UPDATE_PATH}`,
      streamHooks: Effect.sync(hooks.streamHooks),
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
      announcements: Effect.sync(announcements),
      callbacks: Effect.sync(callbacks.records),
      relays: Effect.sync(relays.records),
      dashboardUrl: dashboard?.url
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
  options: EmulatorConfig.Options
): Layer.Layer<Emulator, EmulatorError.InvalidOptionsError | EmulatorError.StartError> =>
  Layer.scoped(Emulator, make(options))

/**
 * The emulator configured from a JSON file (see {@link EmulatorConfig.loadOptions}).
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
  Layer.scoped(Emulator, Effect.flatMap(EmulatorConfig.loadOptions(path), make))
