/**
 * A local RTMP media node for tests and demos: nginx with its RTMP module (the Debian packages `nginx` and
 * `libnginx-mod-rtmp`), run in the current scope with its own configuration in a temporary folder, listening on a
 * loopback port, asking an `on_publish` URL (the emulator's) before each publish. Point the emulator's pools at it
 * and the URLs it dispatches can be published to with OBS or ffmpeg, and played with any RTMP player.
 *
 * nginx runs in the foreground as a single process (`daemon off`, `master_process off`): the PID started is the
 * server, and no worker can outlive it. It is stopped by that PID when the scope closes (SIGTERM, then SIGKILL),
 * and, where util-linux's `setpriv` is available, also gets SIGTERM if this process dies without closing the scope.
 * Every file it writes (the pid file, the error log, the RTMP access log) is in the temporary folder, removed at the
 * end; the error log is also given on the command line (`-e`), so that a build whose default error log is a system
 * path (upstream's `logs/error.log`, some distributions' `/var/log/nginx/error.log`) does not open it at startup.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { execFile, spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as Net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import type { NodeSpec } from "./EmulatorConfig.js"
import { MediaNodeError } from "./EmulatorError.js"

/**
 * Where Debian's `libnginx-mod-rtmp` installs the RTMP module.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"

/**
 * How a media node runs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The RTMP port; 0 or absent: a free one (see {@link freePort}). */
  readonly port?: number | undefined
  /** An IPv4 loopback address to listen on. Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** The RTMP application (the URL's path before the stream name). Default `live`. */
  readonly app?: string | undefined
  /**
   * The http URL nginx POSTs each publish to (`on_publish`), e.g. the emulator's `onPublishUrl`: any answer but 2xx,
   * or no answer, refuses the publish. Absent: anyone may publish.
   */
  readonly onPublish?: string | undefined
  /**
   * The http URL nginx POSTs to when a publisher leaves (`on_publish_done`). Default: beside `onPublish` (its path's
   * last segment `on_publish` becomes `on_publish_done`, as the emulator serves them); `false`: none.
   */
  readonly onPublishDone?: string | false | undefined
  /**
   * The http URL nginx POSTs every `notifyUpdateTimeout` for each live session (`on_update`): any answer but 2xx drops
   * it, so that a forbidden stream's publisher is dropped. Default: beside `onPublish` (`on_update`); `false`: none.
   */
  readonly onUpdate?: string | false | undefined
  /** How often `on_update` is called (`notify_update_timeout`). Default 1 second. */
  readonly notifyUpdateTimeout?: Duration.DurationInput | undefined
  /** The nginx executable. Default: `nginx` on the `PATH`, else in `/usr/sbin` or `/usr/local/sbin`. */
  readonly nginx?: string | undefined
  /** The RTMP module. Default {@link DEFAULT_RTMP_MODULE}. */
  readonly rtmpModule?: string | undefined
  /** How long nginx may take to accept connections. Default 10 seconds. */
  readonly startTimeout?: Duration.DurationInput | undefined
}

/**
 * A running media node.
 *
 * @example
 * ```ts
 * import { MediaNode } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * // The sessions nginx-rtmp logged: one line per finished publish or play.
 * const sessions = Effect.flatMap(MediaNode.MediaNode, (node: MediaNode.Service) => node.accessLog)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly host: string
  readonly port: number
  readonly app: string
  /** `rtmp://<host>:<port>/<app>/`: OBS's Server for this node; a stream's URL is this and the stream name. */
  readonly url: string
  /** This node as the emulator's pools take it: `nodes: { push: [node], pull: [node] }`. */
  readonly node: NodeSpec
  /** The `on_publish` URL, if publishes are checked. */
  readonly onPublish: string | undefined
  /** The `on_publish_done` URL, if any. */
  readonly onPublishDone: string | undefined
  /** The `on_update` URL, if any. */
  readonly onUpdate: string | undefined
  /** The PID of nginx. */
  readonly pid: number
  /** The temporary folder of `nginx.conf`, the pid file and the logs; removed when the scope closes. */
  readonly directory: string
  /** The configuration nginx runs with (see {@link config}). */
  readonly config: string
  /** The error log so far, at level `info`: connections, `publish:` and `play:` lines, `on_publish` calls. */
  readonly errorLog: Effect.Effect<string>
  /** The RTMP access log so far: one line per finished session (`PUBLISH` or `PLAY`, app, stream, bytes). */
  readonly accessLog: Effect.Effect<string>
}

/**
 * The service tag, for {@link layer}.
 *
 * @example
 * ```ts
 * import { MediaNode } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const node = yield* MediaNode.MediaNode
 *   return `${node.url}demo`
 * })
 * const runnable = program.pipe(Effect.provide(MediaNode.layer()))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class MediaNode extends Context.Tag("@effect-zego/emulator/MediaNode")<MediaNode, Service>() {}

/**
 * What {@link config} writes.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigSettings {
  readonly rtmpModule: string
  /** The folder of the pid file and the logs. */
  readonly directory: string
  readonly host: string
  readonly port: number
  readonly app: string
  readonly onPublish: string | undefined
  readonly onPublishDone?: string | undefined
  readonly onUpdate?: string | undefined
  /** `notify_update_timeout` in whole seconds (at least 1), when `onUpdate` is given. Default 1. */
  readonly notifyUpdateSeconds?: number | undefined
}

/**
 * The nginx configuration of a media node: the RTMP module, one foreground process, the pid file and logs in
 * `directory`, and one live application (no recording; a player that joins mid-stream starts at a key frame),
 * with `on_publish`, `on_publish_done` and `on_update` (and its `notify_update_timeout`) when given.
 *
 * @example
 * ```ts
 * import { MediaNode } from "@effect-zego/emulator"
 *
 * const text = MediaNode.config({
 *   rtmpModule: MediaNode.DEFAULT_RTMP_MODULE,
 *   directory: "/tmp/media-node",
 *   host: "127.0.0.1",
 *   port: 1935,
 *   app: "live",
 *   onPublish: "http://127.0.0.1:8080/rtmp/on_publish"
 * })
 * assert.ok(text.includes("listen 127.0.0.1:1935;"))
 * assert.ok(text.includes("on_publish \"http://127.0.0.1:8080/rtmp/on_publish\";"))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const config = (settings: ConfigSettings): string => {
  const file = (name: string) => `"${path.join(settings.directory, name)}"`
  return [
    "# A local RTMP media node for tests and demos (@effect-zego/emulator MediaNode).",
    `load_module "${settings.rtmpModule}";`,
    "daemon off;",
    "master_process off;",
    "worker_processes 1;",
    `pid ${file("nginx.pid")};`,
    `error_log ${file("error.log")} info;`,
    "events {",
    "  worker_connections 256;",
    "}",
    "rtmp {",
    `  access_log ${file("access.log")};`,
    "  server {",
    `    listen ${settings.host}:${settings.port};`,
    `    application ${settings.app} {`,
    "      live on;",
    "      record off;",
    "      wait_key on;",
    ...(settings.onPublish === undefined ? [] : [`      on_publish "${settings.onPublish}";`]),
    ...(settings.onPublishDone === undefined ? [] : [`      on_publish_done "${settings.onPublishDone}";`]),
    ...(settings.onUpdate === undefined ? [] : [
      `      on_update "${settings.onUpdate}";`,
      `      notify_update_timeout ${Math.max(1, Math.round(settings.notifyUpdateSeconds ?? 1))}s;`
    ]),
    "    }",
    "  }",
    "}",
    ""
  ].join("\n")
}

/**
 * A TCP port that was free on `host` a moment ago, for a server started next. Taken below the kernels' ephemeral
 * ranges (Linux 32768–60999, macOS 49152–65535) when one is free there, so that an outgoing connection's local port,
 * or another server's port 0, cannot take it before it is used; else the kernel's pick for port 0.
 *
 * @example
 * ```ts
 * import { MediaNode } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * Effect.runPromise(MediaNode.freePort()).then((port) => assert.ok(port > 0 && port < 65536))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const freePort = (host = "127.0.0.1"): Effect.Effect<number, MediaNodeError> => portFrom(host, FIXED_PORT_TRIES)

/** Random ports tried below the ephemeral ranges before the kernel's pick. */
const FIXED_PORT_TRIES = 8

/** One of `tries` random ports from 20000 to 31999, else (none left to try) the kernel's pick. */
const portFrom = (host: string, tries: number): Effect.Effect<number, MediaNodeError> =>
  Effect.catchAll(
    listenedPort(host, tries > 0 ? 20_000 + Math.floor(Math.random() * 12_000) : 0),
    (error) => tries > 0 ? portFrom(host, tries - 1) : Effect.fail(error)
  )

/** `port` (0: the kernel's pick) listened on and let go. */
const listenedPort = (host: string, port: number): Effect.Effect<number, MediaNodeError> =>
  Effect.async<number, MediaNodeError>((resume) => {
    const server = Net.createServer()
    server.once(
      "error",
      (error) =>
        resume(
          Effect.fail(new MediaNodeError({ reason: "Start", detail: `no free port on ${host}: ${error.message}` }))
        )
    )
    server.listen(port, host, () => {
      const { port: listened } = server.address() as Net.AddressInfo
      server.close(() => resume(Effect.succeed(listened)))
    })
  })

const LOOPBACK_V4 = /^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$/
const APP = /^[A-Za-z0-9._~-]+$/
/** A path nginx reads inside double quotes with no escaping. */
const SAFE_PATH = /^\/[A-Za-z0-9._+~@/ -]*$/
/** An http URL nginx reads inside double quotes with no escaping. */
const SAFE_URL = /^http:\/\/[^\s"'\\;{}$]+$/

const invalid = (detail: string) => new MediaNodeError({ reason: "InvalidOptions", detail })

const isExecutable = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** nginx on the `PATH`, else where Debian puts it (`/usr/sbin` is not on a normal user's `PATH`). */
const findNginx = (explicit: string | undefined): string | undefined => {
  if (explicit !== undefined) return isExecutable(explicit) ? explicit : undefined
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== ""), "/usr/sbin"]
  return [...dirs, "/usr/local/sbin"].map((dir) => path.join(dir, "nginx")).find(isExecutable)
}

/** The lines of an nginx log worth showing for a failure: the errors, else the last few lines; on one line. */
const lastWords = (log: string): string => {
  const lines = log.split("\n").map((line) => line.trim()).filter((line) => line !== "")
  const errors = lines.filter((line) => /\[(emerg|alert|crit|error)\]|^nginx: \[/.test(line))
  return (errors.length > 0 ? errors : lines.slice(-5))
    .map((line) => line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: /, "$1 "))
    .join("; ") || "(nothing logged)"
}

const readText = (file: string): string => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch {
    return ""
  }
}

let guarded: boolean | undefined

/**
 * Whether util-linux's `setpriv --pdeathsig` is available. nginx is started through it (setpriv sets the signal
 * and executes nginx in place, so the PID is nginx's), so that nginx gets SIGTERM if this process dies without
 * closing its scope (killed, or a test worker torn down), instead of living on as an orphan.
 */
const orphanGuard = (): boolean =>
  guarded ??= spawnSync("setpriv", ["--pdeathsig", "TERM", "--", "true"], { stdio: "ignore", timeout: 5000 })
    .status === 0

/** Waits, on the real clock whatever the fiber's `Clock`, for a process to exit; `false` after `millis`. */
const awaitExit = (child: ChildProcess, millis: number): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.succeed(true))
    const onExit = () => {
      clearTimeout(timer)
      resume(Effect.succeed(true))
    }
    const timer = setTimeout(() => {
      child.off("exit", onExit)
      resume(Effect.succeed(false))
    }, millis)
    child.once("exit", onExit)
    return Effect.sync(() => {
      clearTimeout(timer)
      child.off("exit", onExit)
    })
  })

/** Stops nginx by its PID: SIGTERM (a fast shutdown that closes open RTMP sessions), SIGKILL after 3 seconds. */
const stop = (child: ChildProcess): Effect.Effect<void> =>
  Effect.gen(function*() {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill("SIGTERM")
    if (yield* awaitExit(child, 3000)) return
    yield* Effect.logWarning(`media node: nginx (PID ${child.pid}) ignored SIGTERM for 3 seconds; sending SIGKILL`)
    child.kill("SIGKILL")
    yield* awaitExit(child, 2000)
  })

/** Whether something accepts TCP connections at `host:port`. */
const accepts = (host: string, port: number): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resume(Effect.succeed(ok))
    }
    socket.setTimeout(500, () => done(false))
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
    return Effect.sync(() => socket.destroy())
  })

const sleepReal = (millis: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(timer))
  })

/** Runs `nginx -t` on the configuration: its complaint, if any, on one line. */
const testConfig = (nginx: string, directory: string, configPath: string): Effect.Effect<string | undefined> =>
  Effect.async<string | undefined>((resume) => {
    const child = execFile(
      nginx,
      ["-t", "-q", "-p", `${directory}/`, "-c", configPath, "-e", "stderr"],
      { timeout: 10_000, encoding: "utf8" },
      (error, stdout, stderr) =>
        resume(Effect.succeed(error === null ? undefined : lastWords(`${stderr}\n${stdout}`) || error.message))
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/**
 * Starts a media node in the current scope: checks that nginx and the RTMP module are installed, writes the
 * configuration into a new temporary folder, has nginx test it, starts nginx and waits until the port accepts
 * connections. Closing the scope stops nginx (by its PID) and removes the folder.
 *
 * @example
 * ```ts
 * import { Emulator, MediaNode } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * // A media node the emulator dispatches and checks: only streams dispatched for push may publish to it.
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const port = yield* MediaNode.freePort()
 *   const spec = { host: "127.0.0.1", port, app: "live" }
 *   const emulator = yield* Emulator.make({ apps: [Emulator.demoApp], nodes: { push: [spec], pull: [spec] } })
 *   const node = yield* MediaNode.make({ ...spec, onPublish: emulator.onPublishUrl })
 *   return node.url
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, MediaNodeError, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    const app = options.app ?? "live"
    const rtmpModule = options.rtmpModule ?? DEFAULT_RTMP_MODULE
    const onPublish = options.onPublish
    const startTimeout = Duration.decodeUnknown(options.startTimeout ?? Duration.seconds(10))
    if (!LOOPBACK_V4.test(host)) return yield* invalid(`host must be an IPv4 loopback address, not ${host}`)
    if (!APP.test(app)) return yield* invalid(`app must be letters, digits, . _ ~ -, not ${app}`)
    if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)) {
      return yield* invalid(`port must be 0 to 65535, not ${options.port}`)
    }
    for (
      const [name, url] of [["onPublish", onPublish], ["onPublishDone", options.onPublishDone], [
        "onUpdate",
        options.onUpdate
      ]] as const
    ) {
      if (url !== undefined && url !== false && !(SAFE_URL.test(url) && URL.canParse(url))) {
        return yield* invalid(`${name} must be an http URL without spaces, quotes or ; { } $, not ${url}`)
      }
    }
    const beside = (hook: string): string | undefined =>
      onPublish !== undefined && /\/on_publish$/.test(new URL(onPublish).pathname)
        ? onPublish.replace(/\/on_publish(?=$|\?)/, `/${hook}`)
        : undefined
    const onPublishDone = options.onPublishDone === false
      ? undefined
      : options.onPublishDone ?? beside("on_publish_done")
    const onUpdate = options.onUpdate === false ? undefined : options.onUpdate ?? beside("on_update")
    const notifyUpdate = Duration.decodeUnknown(options.notifyUpdateTimeout ?? Duration.seconds(1))
    if (notifyUpdate._tag === "None" || Duration.toMillis(notifyUpdate.value) < 1000) {
      return yield* invalid("notifyUpdateTimeout must be a duration of at least 1 second")
    }
    if (startTimeout._tag === "None") return yield* invalid("startTimeout: not a duration")
    if (!SAFE_PATH.test(rtmpModule)) return yield* invalid(`rtmpModule must be an absolute path, not ${rtmpModule}`)

    const nginx = findNginx(options.nginx)
    if (nginx === undefined) {
      return yield* new MediaNodeError({
        reason: "NotInstalled",
        detail: options.nginx === undefined
          ? "nginx is not installed (not on the PATH, nor in /usr/sbin): install the Debian package nginx " +
            "(apt-get install nginx libnginx-mod-rtmp)"
          : `${options.nginx} is not an executable file`
      })
    }
    if (!fs.existsSync(rtmpModule)) {
      return yield* new MediaNodeError({
        reason: "NotInstalled",
        detail: `the nginx RTMP module ${rtmpModule} is missing: install the Debian package libnginx-mod-rtmp ` +
          "(apt-get install libnginx-mod-rtmp)"
      })
    }

    const directory = yield* Effect.acquireRelease(
      Effect.try({
        try: () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zego-media-node-"))),
        catch: (error) => new MediaNodeError({ reason: "Start", detail: `no temporary folder: ${String(error)}` })
      }),
      (directory) => Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))
    )
    if (!SAFE_PATH.test(directory)) {
      return yield* invalid(`the temporary folder ${directory} has characters nginx would misread: set TMPDIR`)
    }
    const port = options.port === undefined || options.port === 0 ? yield* freePort(host) : options.port
    const text = config({
      rtmpModule,
      directory,
      host,
      port,
      app,
      onPublish,
      onPublishDone,
      onUpdate,
      notifyUpdateSeconds: Duration.toSeconds(notifyUpdate.value)
    })
    const configPath = path.join(directory, "nginx.conf")
    const errorLogPath = path.join(directory, "error.log")
    const accessLogPath = path.join(directory, "access.log")
    fs.writeFileSync(configPath, text)

    const refused = yield* testConfig(nginx, directory, configPath)
    if (refused !== undefined) {
      return yield* new MediaNodeError({ reason: "Config", detail: `nginx -t refuses ${configPath}: ${refused}` })
    }

    const where = `${host}:${port}`
    if (yield* accepts(host, port)) {
      return yield* new MediaNodeError({ reason: "Start", detail: `something already listens on ${where}` })
    }
    let stderr = ""
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const args = ["-p", `${directory}/`, "-c", configPath, "-e", errorLogPath]
        const [program, argv] = orphanGuard()
          ? ["setpriv", ["--pdeathsig", "TERM", "--", nginx, ...args]]
          : [nginx, args]
        const child = spawn(program, argv, { stdio: ["ignore", "ignore", "pipe"] })
        child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
          if (stderr.length < 65_536) stderr += chunk
        })
        child.once("error", (error) => (stderr += `\n${error.message}`))
        return child
      }),
      stop
    )
    const deadline = Date.now() + Duration.toMillis(startTimeout.value)
    while (!(yield* accepts(host, port))) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        const status = child.signalCode ?? `status ${child.exitCode ?? "unknown"}`
        return yield* new MediaNodeError({
          reason: "Start",
          detail: `nginx exited (${status}) before listening on ${where}: ` +
            lastWords(`${readText(errorLogPath)}\n${stderr}`)
        })
      }
      if (Date.now() > deadline) {
        return yield* new MediaNodeError({
          reason: "Timeout",
          detail: `nginx (PID ${child.pid}) does not accept connections on ${where} after ` +
            `${Duration.format(startTimeout.value)}: ${lastWords(readText(errorLogPath))}`
        })
      }
      yield* sleepReal(25)
    }
    const pid = child.pid!
    yield* Effect.logDebug(`media node: nginx (PID ${pid}) listens on rtmp://${where}/${app}/ (folder ${directory})`)
    return MediaNode.of({
      host,
      port,
      app,
      url: `rtmp://${where}/${app}/`,
      node: { host, port, app },
      onPublish,
      onPublishDone,
      onUpdate,
      pid,
      directory,
      config: text,
      errorLog: Effect.sync(() => readText(errorLogPath)),
      accessLog: Effect.sync(() => readText(accessLogPath))
    })
  })

/**
 * A media node as a layer: it runs while the layer's scope is open.
 *
 * @example
 * ```ts
 * import { MediaNode } from "@effect-zego/emulator"
 *
 * const MediaNodeLive = MediaNode.layer({ port: 1935 })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<MediaNode, MediaNodeError> =>
  Layer.scoped(MediaNode, make(options))
