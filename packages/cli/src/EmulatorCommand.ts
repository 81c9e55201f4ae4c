/**
 * `zego-rtmp emulator`: runs the ZEGOCLOUD API emulator in the foreground, prints its base URL and the
 * environment to point `zego-rtmp dispatch` (or any client) at it, and stops on Ctrl-C or SIGTERM. With
 * `--media-node` it also runs a local RTMP media node (nginx-rtmp) that its pools point at, so that the URLs it
 * dispatches can be published to with OBS or ffmpeg and played. With `--callback-url` (and the secret in
 * `ZEGO_CALLBACK_SECRET`) it sends ZEGOCLOUD's stream callbacks to a receiver on this machine. Its rooms are the config
 * file's, else the demo rooms (`lobby`, `match-room`), and each `--room`. It serves the emulator's dashboard (unless
 * the config file says `"dashboard": false`) and prints its URL, which carries the run's token.
 *
 * @since 0.1.0
 */
import { Untrusted } from "@effect-zego/core"
import type { Emulator, EmulatorError } from "@effect-zego/emulator"
import * as Command from "@effect/cli/Command"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as CommandFlags from "./internal/flags.js"
import * as Invocation from "./internal/invocation.js"
import * as Stdio from "./internal/stdio.js"
import { shellArg } from "./MediaCommands.js"

/**
 * The flags of `zego-rtmp emulator`.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import * as Command from "@effect/cli/Command"
 * import * as Console from "effect/Console"
 *
 * const ports = Command.make("ports", EmulatorCommand.flags, (flags) => Console.log(flags.port))
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const flags = CommandFlags.emulator

/**
 * The parsed flags.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 *
 * const withMediaNode = (flags: EmulatorCommand.Flags): boolean => flags.mediaNode
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Flags = CommandFlags.EmulatorFlags

/**
 * Whether an app is one of the demo apps (same AppId and secret), so that its secret may be shown.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Redacted from "effect/Redacted"
 *
 * const demoApps = [Emulator.demoApp, Emulator.demoTestApp]
 * assert.ok(EmulatorCommand.isDemoApp(Emulator.demoApp, demoApps))
 * assert.ok(!EmulatorCommand.isDemoApp({ appId: 1234567890, serverSecret: Redacted.make("another") }, demoApps))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const isDemoApp = (app: Emulator.AppConfig, demoApps: ReadonlyArray<Emulator.AppConfig>): boolean =>
  demoApps.some((demo) =>
    demo.appId === app.appId && Redacted.value(demo.serverSecret) === Redacted.value(app.serverSecret)
  )

/**
 * The shell lines that point a client at the emulator, one app each: the first an `export` a user can paste, the
 * others commented out. Only the secret of one of `demoApps` (public demo data) is printed; for another app the
 * line says where the secret is.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import { Emulator } from "@effect-zego/emulator"
 *
 * const lines = EmulatorCommand.environmentLines({
 *   baseUrl: "http://127.0.0.1:8080",
 *   apps: [Emulator.demoApp],
 *   demoApps: [Emulator.demoApp]
 * })
 * assert.deepStrictEqual(lines, [
 *   "# Demo app 1234567890 (production), public demo credentials:",
 *   "export ZEGO_APP_ID=1234567890 ZEGO_SERVER_SECRET=0123456789abcdef0123456789abcdef " +
 *   "ZEGO_BASE_URL=http://127.0.0.1:8080"
 * ])
 * ```
 *
 * @since 0.1.0
 * @category output
 */
export const environmentLines = (options: {
  readonly baseUrl: string
  readonly apps: ReadonlyArray<Emulator.AppConfig>
  readonly demoApps: ReadonlyArray<Emulator.AppConfig>
  readonly configPath?: string | undefined
}): ReadonlyArray<string> =>
  options.apps.flatMap((app, index) => {
    const { baseUrl, configPath } = options
    const demo = isDemoApp(app, options.demoApps)
    const assignments = [
      `ZEGO_APP_ID=${app.appId}`,
      ...(demo ? [`ZEGO_SERVER_SECRET=${shellArg(Redacted.value(app.serverSecret))}`] : []),
      `ZEGO_BASE_URL=${shellArg(baseUrl)}`,
      ...(app.isTest === true ? ["ZEGO_IS_TEST=true"] : [])
    ]
    const title = `${demo ? "Demo app" : "App"} ${app.appId}` +
      `${app.isTest === true ? " (test environment)" : " (production)"}` +
      `${demo ? ", public demo credentials" : ""}:`
    const secretNote = demo ? [] : [
      `# and ZEGO_SERVER_SECRET=<the serverSecret of app ${app.appId}${
        configPath === undefined ? "" : ` in ${Untrusted.escapeText(configPath)}`
      }> (not printed)`
    ]
    return [`# ${title}`, `${index === 0 ? "" : "# "}export ${assignments.join(" ")}`, ...secretNote]
  })

/**
 * The environment variable holding the callback secret for `--callback-url`. A variable, not a flag: a command line
 * is visible to every user of the machine (`ps`), and lands in shell histories.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 *
 * assert.strictEqual(EmulatorCommand.CALLBACK_SECRET_ENV, "ZEGO_CALLBACK_SECRET")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const CALLBACK_SECRET_ENV = "ZEGO_CALLBACK_SECRET"

/**
 * The apps with `--callback-url` applied: each app without a callback URL of its own gets it and `secret`. Fails when
 * an app would get the URL but there is no secret.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import { Emulator, EmulatorError } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const apps = Effect.runSync(EmulatorCommand.withCallbackUrl(
 *   [Emulator.demoApp],
 *   "http://127.0.0.1:3000/zego/callback",
 *   Redacted.make("callback-secret"),
 *   (detail) => new EmulatorError.InvalidOptionsError({ detail })
 * ))
 * assert.strictEqual(apps[0]?.callbackUrl, "http://127.0.0.1:3000/zego/callback")
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const withCallbackUrl = (
  apps: ReadonlyArray<Emulator.AppConfig>,
  callbackUrl: string | undefined,
  secret: Redacted.Redacted<string> | undefined,
  invalid: (detail: string) => EmulatorError.InvalidOptionsError
): Effect.Effect<ReadonlyArray<Emulator.AppConfig>, EmulatorError.InvalidOptionsError> => {
  if (callbackUrl === undefined) return Effect.succeed(apps)
  if (secret === undefined) {
    return Effect.fail(invalid(`--callback-url needs the callback secret in ${CALLBACK_SECRET_ENV} (not a flag)`))
  }
  return Effect.succeed(
    apps.map((app) => app.callbackUrl === undefined ? { ...app, callbackUrl, callbackSecret: secret } : app)
  )
}

/**
 * The lines that say where each app's callbacks go (escaped: a URL from a file or a flag is outside text).
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Redacted from "effect/Redacted"
 *
 * const app = { ...Emulator.demoApp, callbackUrl: "http://127.0.0.1:3000/cb", callbackSecret: Redacted.make("s") }
 * assert.match(EmulatorCommand.callbackLines([app])[0] ?? "", /go to http:\/\/127\.0\.0\.1:3000\/cb, signed/)
 * ```
 *
 * @since 0.1.0
 * @category output
 */
export const callbackLines = (apps: ReadonlyArray<Emulator.AppConfig>): ReadonlyArray<string> =>
  apps.flatMap((app) =>
    app.callbackUrl === undefined ? [] : [
      `# App ${app.appId}: stream callbacks (stream_create, stream_close) go to ${
        Untrusted.escapeText(app.callbackUrl)
      }, signed with its callback secret (not printed)`
    ]
  )

/**
 * The origins of `--cors`, each repeated flag split at its commas.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 *
 * console.log(EmulatorCommand.corsOrigins(["http://127.0.0.1:5173,http://localhost:5173"]))
 * // [ "http://127.0.0.1:5173", "http://localhost:5173" ]
 * ```
 *
 * @since 0.1.0
 * @category flags
 */
export const corsOrigins = (flags: ReadonlyArray<string>): ReadonlyArray<string> =>
  flags.flatMap((flag) => flag.split(",")).map((origin) => origin.trim()).filter((origin) => origin !== "")

/**
 * The rooms the emulator starts with: the config file's (else the demo rooms), then those of `--room`, each once.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import { Emulator } from "@effect-zego/emulator"
 *
 * assert.deepStrictEqual(EmulatorCommand.rooms(undefined, ["stage"], Emulator.demoRooms), ["lobby", "match-room", "stage"])
 * assert.deepStrictEqual(EmulatorCommand.rooms(["hall"], ["hall"], Emulator.demoRooms), ["hall"])
 * ```
 *
 * @since 0.1.0
 * @category flags
 */
export const rooms = (
  fromFile: ReadonlyArray<string> | undefined,
  flags: ReadonlyArray<string>,
  demoRooms: ReadonlyArray<string>
): ReadonlyArray<string> => [...new Set([...(fromFile ?? demoRooms), ...flags])]

/**
 * The banner's line about the rooms (escaped: a room id from a file or a flag is outside text), naming the command as
 * it runs where the banner is printed (`zego-rtmp` after a global install).
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 *
 * assert.strictEqual(
 *   EmulatorCommand.roomsLine(["lobby", "match-room"]),
 *   "# Rooms (for zego-rtmp room announce; --room ID adds one): lobby, match-room"
 * )
 * ```
 *
 * @since 0.1.0
 * @category output
 */
export const roomsLine = (roomIds: ReadonlyArray<string>): string =>
  `# Rooms (for ${Invocation.command("room announce")}; --room ID adds one): ${
    roomIds.length === 0 ? "none" : Untrusted.escapeText(roomIds.join(", "))
  }`

/**
 * Every way `zego-rtmp emulator` can fail.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import * as Effect from "effect/Effect"
 *
 * const reason = (error: EmulatorCommand.EmulatorCommandError): string =>
 *   error._tag === "MediaNodeError" ? error.reason : error._tag
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type EmulatorCommandError = EmulatorError.EmulatorError | EmulatorError.MediaNodeError

/**
 * Runs `zego-rtmp emulator` with parsed flags: serves until interrupted.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * // What `zego-rtmp emulator --port 8080` runs: it serves until interrupted.
 * const program = EmulatorCommand.handler({
 *   port: Option.some(8080),
 *   config: Option.none(),
 *   callbackUrl: Option.none(),
 *   cors: Option.none(),
 *   room: [],
 *   mediaNode: false
 * }).pipe(Effect.provide(NodeFileSystem.layer))
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const handler = (flags: Flags): Effect.Effect<void, EmulatorCommandError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const { Emulator, EmulatorError: Errors, MediaNode } = yield* Effect.promise(() => import("@effect-zego/emulator"))
    const demoApps = [Emulator.demoApp, Emulator.demoTestApp]
    const configPath = Option.getOrUndefined(flags.config)
    const fromFile = configPath === undefined ? undefined : yield* Emulator.loadOptions(configPath)
    // The media node's port is chosen first: the emulator's pools need it, and nginx needs the emulator's URL.
    const mediaNode = flags.mediaNode
      ? { host: "127.0.0.1", port: yield* MediaNode.freePort(), app: "live" }
      : undefined
    // A missing (or unreadable) variable is no secret; an empty one is refused by the emulator's checks.
    const secret = yield* Config.option(Config.redacted(CALLBACK_SECRET_ENV)).pipe(
      Effect.map(Option.getOrUndefined),
      Effect.orElseSucceed(() => undefined)
    )
    const apps = yield* withCallbackUrl(
      fromFile?.apps ?? demoApps,
      Option.getOrUndefined(flags.callbackUrl),
      secret,
      (detail) => new Errors.InvalidOptionsError({ detail })
    )
    const options: Emulator.Options = {
      ...(fromFile ?? {}),
      apps,
      ...(mediaNode === undefined ? {} : { nodes: { push: [mediaNode], pull: [mediaNode] } }),
      port: Option.getOrElse(flags.port, () => fromFile?.port ?? 0),
      rooms: rooms(fromFile?.rooms, flags.room, Emulator.demoRooms),
      dashboard: fromFile?.dashboard ?? true,
      ...Option.match(flags.cors, { onNone: () => ({}), onSome: (cors) => ({ cors: corsOrigins(cors) }) })
    }
    yield* Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const media = mediaNode === undefined
        ? undefined
        : yield* MediaNode.make({ ...mediaNode, onPublish: emulator.onPublishUrl })
      yield* Stdio.out(
        [
          `# ZEGOCLOUD RTMP dispatch emulator listening on ${emulator.baseUrl}`,
          ...(media === undefined ? [] : [
            `# RTMP media node (nginx-rtmp, PID ${media.pid}) listening on ${media.url}: the emulator dispatches ` +
            `it, and it lets publish only the streams dispatched for push; its logs are in ${media.directory}`
          ]),
          ...environmentLines({ baseUrl: emulator.baseUrl, apps: emulator.apps, demoApps, configPath }),
          ...(emulator.dashboardUrl === undefined ? [] : [
            `# Dashboard (streams with a live preview, calls, callbacks, rooms; forbid and resume): ${
              Redacted.value(emulator.dashboardUrl)
            }`
          ]),
          ...callbackLines(emulator.apps),
          roomsLine(options.rooms ?? []),
          ...(options.cors === undefined || options.cors.length === 0 ? [] : [
            `# CORS: browser pages from ${
              Untrusted.escapeText(options.cors.join(", "))
            } may call it (for local tools and tests: a server secret never belongs in a browser)`
          ]),
          `# then, in that shell: ${Invocation.command("dispatch --type push --stream-id demo")}`
        ].join("\n")
      )
      yield* Stdio.err(
        `zego-rtmp: the emulator logs each request${
          media === undefined ? "" : " and publish check"
        } here; press Ctrl-C to stop it.`
      )
      return yield* Effect.never
    }).pipe(
      Effect.scoped,
      Effect.provide(Emulator.layer(options)),
      Effect.onInterrupt(() =>
        Stdio.err(`zego-rtmp: emulator${mediaNode === undefined ? "" : " and media node"} stopped.`)
      )
    )
  })

/**
 * The `emulator` subcommand.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import * as Command from "@effect/cli/Command"
 *
 * const run = Command.run(Command.make("my-tool").pipe(Command.withSubcommands([EmulatorCommand.command])), {
 *   name: "my-tool",
 *   version: "1.0.0"
 * })
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const command: Command.Command<
  "emulator",
  FileSystem.FileSystem,
  EmulatorCommandError,
  Flags
> = Command.make("emulator", flags, handler).pipe(
  Command.withDescription(CommandFlags.emulatorDescription)
)
