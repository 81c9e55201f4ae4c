/**
 * `zego-rtmp emulator`: runs the ZEGOCLOUD API emulator in the foreground, prints its base URL and the
 * environment to point `zego-rtmp dispatch` (or any client) at it, and stops on Ctrl-C or SIGTERM. With
 * `--media-node` it also runs a local RTMP media node (nginx-rtmp) that its pools point at, so that the URLs it
 * dispatches can be published to with OBS or ffmpeg and played. With `--callback-url` (and the secret in
 * `ZEGO_CALLBACK_SECRET`) it sends ZEGOCLOUD's stream callbacks to a receiver on this machine.
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
import * as Stdio from "./internal/stdio.js"
import { shellArg } from "./MediaCommands.js"

/** The flags of `zego-rtmp emulator`. */
export const flags = CommandFlags.emulator

/** The parsed flags. */
export type Flags = CommandFlags.EmulatorFlags

/** Whether an app is one of the demo apps (same AppId and secret), so that its secret may be shown. */
export const isDemoApp = (app: Emulator.AppConfig, demoApps: ReadonlyArray<Emulator.AppConfig>): boolean =>
  demoApps.some((demo) =>
    demo.appId === app.appId && Redacted.value(demo.serverSecret) === Redacted.value(app.serverSecret)
  )

/**
 * The shell lines that point a client at the emulator, one app each: the first an `export` a user can paste, the
 * others commented out. Only the secret of one of `demoApps` (public demo data) is printed; for another app the
 * line says where the secret is.
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
 */
export const CALLBACK_SECRET_ENV = "ZEGO_CALLBACK_SECRET"

/**
 * The apps with `--callback-url` applied: each app without a callback URL of its own gets it and `secret`. Fails when
 * an app would get the URL but there is no secret.
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

/** The lines that say where each app's callbacks go (escaped: a URL from a file or a flag is outside text). */
export const callbackLines = (apps: ReadonlyArray<Emulator.AppConfig>): ReadonlyArray<string> =>
  apps.flatMap((app) =>
    app.callbackUrl === undefined ? [] : [
      `# App ${app.appId}: stream callbacks (stream_create, stream_close) go to ${
        Untrusted.escapeText(app.callbackUrl)
      }, signed with its callback secret (not printed)`
    ]
  )

/** The origins of `--cors`, each repeated flag split at its commas. */
export const corsOrigins = (flags: ReadonlyArray<string>): ReadonlyArray<string> =>
  flags.flatMap((flag) => flag.split(",")).map((origin) => origin.trim()).filter((origin) => origin !== "")

/** Every way `zego-rtmp emulator` can fail. */
export type EmulatorCommandError = EmulatorError.EmulatorError | EmulatorError.MediaNodeError

/** Runs `zego-rtmp emulator` with parsed flags: serves until interrupted. */
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
          ...callbackLines(emulator.apps),
          ...(options.cors === undefined || options.cors.length === 0 ? [] : [
            `# CORS: browser pages from ${
              Untrusted.escapeText(options.cors.join(", "))
            } may call it (for local tools and tests: a server secret never belongs in a browser)`
          ]),
          "# then, in that shell: zego-rtmp dispatch --type push --stream-id demo"
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

/** The `emulator` subcommand. */
export const command: Command.Command<
  "emulator",
  FileSystem.FileSystem,
  EmulatorCommandError,
  Flags
> = Command.make("emulator", flags, handler).pipe(
  Command.withDescription(CommandFlags.emulatorDescription)
)
