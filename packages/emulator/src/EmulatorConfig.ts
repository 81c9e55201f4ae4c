/**
 * The emulator's configuration: the apps it knows, its node pools, its options and their defaults, the schema that
 * validates options given in code and decodes a JSON config file, and the demo apps.
 *
 * @example
 * ```ts
 * import { EmulatorConfig } from "@effect-zego/emulator"
 *
 * const options: EmulatorConfig.Options = {
 *   apps: [EmulatorConfig.demoApp, EmulatorConfig.demoTestApp],
 *   nodes: EmulatorConfig.defaultNodes,
 *   rooms: ["lobby"]
 * }
 * ```
 *
 * @since 0.1.0
 */
import { Params } from "@effect-zego/core"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as EmulatorError from "./EmulatorError.js"
import * as Fault from "./Fault.js"
import * as Bounded from "./internal/bounded.js"
import * as Cors from "./internal/cors.js"
import { PositiveDurationFromJson } from "./internal/duration.js"

/**
 * An app the emulator knows: its AppId, its server secret, and whether it lives in the test environment.
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
  /**
   * The rooms that exist from the start (`AddStream` needs one; `createRoom` adds more). Default {@link demoRooms}
   * (`lobby`, `match-room`, the rooms of the READMEs' examples); `[]`: none.
   */
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
  /**
   * A dashboard on a port of its own (on `host`, loopback only): a web page that shows, live, the streams (with OBS's
   * Server and Stream key, and a preview of each stream live on a media node), the recent calls, the callbacks and
   * the rooms, and can forbid or resume a stream. Its URL, with the run's token that its data and actions need, is
   * the service's `dashboardUrl`. `true`: on a free port; `{ port }`: on that one (0: a free one). Default: none.
   */
  readonly dashboard?: boolean | { readonly port?: number | undefined } | undefined
}

/**
 * A demo production app. Public demo data, not a secret: it exists only in this emulator, so that the CLI and
 * the examples work on a machine with no ZEGOCLOUD account.
 *
 * @example
 * ```ts
 * import { EmulatorConfig } from "@effect-zego/emulator"
 *
 * assert.strictEqual(EmulatorConfig.demoApp.appId, 1234567890)
 * assert.strictEqual(EmulatorConfig.demoApp.isTest, false)
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
 * import { EmulatorConfig } from "@effect-zego/emulator"
 *
 * assert.strictEqual(EmulatorConfig.demoTestApp.appId, 1234567891)
 * assert.strictEqual(EmulatorConfig.demoTestApp.isTest, true)
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
 * The demo rooms: those the READMEs' room examples name, so that they work on an emulator started with no options
 * for rooms. Public demo data, like {@link demoApp}.
 *
 * @example
 * ```ts
 * import { EmulatorConfig } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(EmulatorConfig.demoRooms, ["lobby", "match-room"])
 * ```
 *
 * @since 0.1.0
 * @category demo apps
 */
export const demoRooms: ReadonlyArray<string> = ["lobby", "match-room"]

/**
 * The pools when none are configured: one node on loopback, app `live`, for push and for pull.
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
 * import { EmulatorConfig } from "@effect-zego/emulator"
 *
 * assert.ok(EmulatorConfig.isLoopback("127.0.0.1"))
 * assert.ok(EmulatorConfig.isLoopback("::1"))
 * assert.ok(!EmulatorConfig.isLoopback("192.168.1.10"))
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
 * import { EmulatorConfig } from "@effect-zego/emulator"
 * import * as Duration from "effect/Duration"
 * import * as Schema from "effect/Schema"
 *
 * const options = Schema.decodeUnknownSync(EmulatorConfig.OptionsSchema)({
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
  // Optional in a file (the demo apps then), so that a file may name only what it changes, e.g. its rooms; options
  // given in code always name their apps.
  apps: Schema.optionalWith(
    Schema.Array(AppConfigSchema).pipe(
      Schema.minItems(1, { message: () => "at least one app is needed" }),
      Schema.filter((apps) => {
        const ids = apps.map((app) => app.appId)
        const duplicate = ids.find((id, i) => ids.indexOf(id) !== i)
        return duplicate === undefined || `AppId ${duplicate} appears twice`
      })
    ),
    { default: () => [demoApp, demoTestApp] }
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
  )),
  dashboard: Schema.optional(Schema.Union(
    Schema.Boolean,
    Schema.Struct({
      port: Schema.optional(
        Schema.Int.pipe(Schema.between(0, 65535, { message: () => "dashboard.port must be between 0 and 65535" }))
      )
    })
  ))
}).annotations({ identifier: "EmulatorOptions" })

/**
 * The default time limit of one callback attempt: 5 seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCallbackTimeout: Duration.Duration = Duration.seconds(5)

/**
 * The default most callbacks under way at once: 1000.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCallbackMaxInFlight = 1000

/**
 * The default history window of closed streams: 10 minutes.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStreamHistory: Duration.Duration = Duration.minutes(10)

/**
 * The default publish window: 2 hours.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPublishWindow: Duration.Duration = Duration.hours(2)

/**
 * Reads the options from a JSON file (same fields as {@link Options}; secrets as strings, redacted once read; no
 * `apps`: the demo apps).
 *
 * @example
 * ```ts
 * import { EmulatorConfig } from "@effect-zego/emulator"
 * import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
 * import * as Effect from "effect/Effect"
 *
 * // The file: { "apps": [{ "appId": 1234567890, "serverSecret": "…" }], "port": 8080 }
 * const options = EmulatorConfig.loadOptions("emulator.json").pipe(Effect.provide(NodeFileSystem.layer))
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
        new EmulatorError.ConfigFileError({ path, reason: "Invalid", detail: Bounded.formatIssues(error) })
      )
    )
  })
