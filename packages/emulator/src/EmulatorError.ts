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
