/**
 * The errors of starting the emulator: options that do not make sense, a configuration file that cannot be
 * read, and a server that cannot listen.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The options given in code are invalid; `detail` names each problem by its path (`apps.0.appId: …`).
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as Effect from "effect/Effect"
 *
 * Effect.runPromise(Effect.flip(Effect.scoped(Emulator.make({ apps: [] })))).then((error) => {
 *   assert.strictEqual(error._tag, "InvalidOptionsError")
 *   assert.match(error.message, /at least one app is needed/)
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOptionsError extends Schema.TaggedError<InvalidOptionsError>()("InvalidOptionsError", {
  detail: Schema.String
}) {
  override get message() {
    return `InvalidOptionsError: ${this.detail}`
  }
}

/**
 * The JSON configuration file could not be read (`Read`), is not JSON (`Parse`), or its content is invalid.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 * import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.flip(Emulator.loadOptions("/no/such/emulator.json"))
 *
 * Effect.runPromise(program.pipe(Effect.provide(NodeFileSystem.layer))).then((error) => {
 *   assert.strictEqual(error._tag, "ConfigFileError")
 *   assert.strictEqual(error.reason, "Read")
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigFileError extends Schema.TaggedError<ConfigFileError>()("ConfigFileError", {
  path: Schema.String,
  reason: Schema.Literal("Read", "Parse", "Invalid"),
  detail: Schema.String
}) {
  override get message() {
    const what = this.reason === "Read" ? "cannot be read" : this.reason === "Parse" ? "is not JSON" : "is invalid"
    return `ConfigFileError: the emulator configuration ${this.path} ${what}: ${this.detail}`
  }
}

/**
 * The HTTP server could not listen (the port is taken, the host is not on this machine, …).
 *
 * @example
 * ```ts
 * import { EmulatorError } from "@effect-zego/emulator"
 *
 * const error = new EmulatorError.StartError({ host: "127.0.0.1", port: 80, detail: "EACCES" })
 * assert.strictEqual(error.message, "StartError: the emulator cannot listen on 127.0.0.1:80: EACCES")
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class StartError extends Schema.TaggedError<StartError>()("StartError", {
  host: Schema.String,
  port: Schema.Int,
  detail: Schema.String
}) {
  override get message() {
    return `StartError: the emulator cannot listen on ${this.host}:${this.port}: ${this.detail}`
  }
}

/**
 * Every error of starting the emulator.
 *
 * @example
 * ```ts
 * import type { EmulatorError } from "@effect-zego/emulator"
 *
 * const hint = (error: EmulatorError.EmulatorError): string =>
 *   error._tag === "StartError" ? "pick another port" : "fix the options"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type EmulatorError = InvalidOptionsError | ConfigFileError | StartError

/**
 * The local RTMP media node (nginx with its RTMP module, see `MediaNode`) cannot run: its options are invalid
 * (`InvalidOptions`), nginx or the module is not installed (`NotInstalled`, naming the Debian package), nginx
 * refuses the configuration (`Config`, its `nginx -t` message), it exits before listening (`Start`, the error log's
 * last words), or it does not accept connections in time (`Timeout`).
 *
 * @example
 * ```ts
 * import { EmulatorError } from "@effect-zego/emulator"
 *
 * const error = new EmulatorError.MediaNodeError({ reason: "NotInstalled", detail: "install libnginx-mod-rtmp" })
 * assert.strictEqual(error.message, "MediaNodeError (NotInstalled): install libnginx-mod-rtmp")
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MediaNodeError extends Schema.TaggedError<MediaNodeError>()("MediaNodeError", {
  reason: Schema.Literal("InvalidOptions", "NotInstalled", "Config", "Start", "Timeout"),
  detail: Schema.String
}) {
  override get message() {
    return `MediaNodeError (${this.reason}): ${this.detail}`
  }
}
