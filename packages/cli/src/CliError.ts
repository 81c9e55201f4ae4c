/**
 * How `zego-rtmp` fails: its own error (missing credentials), the one line a failure prints on stderr, and the exit
 * status: 2 for invalid input, 1 for server, transport and other errors, 130 / 143 when SIGINT / SIGTERM stops a
 * command before it is done.
 *
 * The line quotes what a server sent (its message, its request id) and what a user typed: every control, bidi and
 * line-separator character in it is written visibly (`\x1b`, `\u202e`, `\n`), so that it cannot forge lines or
 * rewrite the terminal, and it is at most {@link MAX_LINE} characters long.
 *
 * @since 0.1.0
 */
import { Untrusted } from "@effect-zego/core"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as Runtime from "@effect/platform/Runtime"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Ansi from "./internal/ansi.js"
import * as Invocation from "./internal/invocation.js"
import * as Tries from "./internal/tries.js"

/**
 * Credentials are needed (a base URL or region points at a real server, or only half of them is set) but missing.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingCredentialsError extends Schema.TaggedError<MissingCredentialsError>()("MissingCredentialsError", {
  /** The environment variables to set. */
  missing: Schema.Array(Schema.String),
  /** Why they are needed, e.g. `--base-url is set`. */
  because: Schema.String,
  /** What to do instead of setting them. */
  otherwise: Schema.String
}) {
  override get message() {
    const missing = this.missing.join(" and ")
    return `MissingCredentialsError: ${this.because}, but ${missing} ${this.missing.length === 1 ? "is" : "are"} ` +
      `not set. Set ${missing} (the AppId and ServerSecret from the ZEGOCLOUD console), or ${this.otherwise}.`
  }
}

/**
 * The exit status for invalid input: bad flags, invalid request values, missing or malformed settings.
 *
 * @since 0.1.0
 * @category exit statuses
 */
export const EXIT_INVALID_INPUT = 2

/**
 * The exit status for everything else that fails: server answers, transport, the emulator failing to start.
 *
 * @since 0.1.0
 * @category exit statuses
 */
export const EXIT_FAILURE = 1

/**
 * The signals that stop `zego-rtmp`, each with the exit status it gives: 128 + its number, as shells report it.
 *
 * @since 0.1.0
 * @category exit statuses
 */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const

/**
 * A signal that stops `zego-rtmp`.
 *
 * @since 0.1.0
 * @category models
 */
export type StopSignal = keyof typeof SIGNAL_EXIT

/**
 * How a run was interrupted: by which signal, if one arrived, and in which subcommand.
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 * import * as Cause from "effect/Cause"
 * import * as FiberId from "effect/FiberId"
 *
 * // Stopping the emulator, a server, is how it ends: status 0.
 * const interruption: CliError.Interruption = { signal: "SIGINT", command: "emulator" }
 * assert.strictEqual(CliError.exitCode(Cause.interrupt(FiberId.none), interruption), 0)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Interruption {
  readonly signal?: StopSignal | undefined
  readonly command?: string | undefined
}

/**
 * Whether an interruption is how the command ends normally: `zego-rtmp emulator` is a server that runs until it
 * is stopped, so Ctrl-C or SIGTERM ends it with status 0 (and its own "emulator stopped" line).
 */
const stopsNormally = (interruption: Interruption): boolean => interruption.command === "emulator"

/** The tags of invalid input: the core's, ours, and the emulator's options and configuration file errors. */
const INVALID_INPUT_TAGS: ReadonlySet<string> = new Set([
  "InvalidRequestError",
  "MissingCredentialsError",
  "InvalidOptionsError",
  "ConfigFileError"
])

/**
 * Whether an error is the caller's input at fault (exit status 2).
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 * import { ZegoError } from "@effect-zego/core"
 *
 * assert.ok(CliError.isInvalidInput(new ZegoError.InvalidRequestError({ parameter: "streamId", detail: "empty" })))
 * assert.ok(!CliError.isInvalidInput(new Error("socket hang up")))
 * ```
 *
 * @since 0.1.0
 * @category exit statuses
 */
export const isInvalidInput = (error: unknown): boolean =>
  ValidationError.isValidationError(error) || ConfigError.isConfigError(error) ||
  (Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" && INVALID_INPUT_TAGS.has(error._tag))

/**
 * The exit status a failed run ends with: 2 for invalid input, 1 for any other failure. Interrupted: 0 for the
 * emulator (stopping is how a server ends), else 130 for SIGINT, 143 for SIGTERM, 1 with no signal.
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 * import { ZegoError } from "@effect-zego/core"
 * import * as Cause from "effect/Cause"
 *
 * const invalid = new ZegoError.InvalidRequestError({ parameter: "type", detail: "must be push or pull" })
 * assert.strictEqual(CliError.exitCode(Cause.fail(invalid)), 2)
 * assert.strictEqual(CliError.exitCode(Cause.fail(new Error("refused"))), 1)
 * ```
 *
 * @since 0.1.0
 * @category exit statuses
 */
export const exitCode = (cause: Cause.Cause<unknown>, interruption: Interruption = {}): number => {
  if (Cause.isInterruptedOnly(cause)) {
    return stopsNormally(interruption) ? 0 : interruption.signal === undefined
      ? EXIT_FAILURE
      : SIGNAL_EXIT[interruption.signal]
  }
  return Option.match(Cause.failureOption(cause), {
    onNone: () => EXIT_FAILURE,
    onSome: (error) => (isInvalidInput(error) ? EXIT_INVALID_INPUT : EXIT_FAILURE)
  })
}

/**
 * Removes ANSI colour codes.
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 *
 * assert.strictEqual(CliError.stripAnsi("\u001b[1mbold\u001b[0m"), "bold")
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const stripAnsi: (text: string) => string = Ansi.stripAnsi

/**
 * The longest line a failure prints; a longer one keeps its start and its end (the request id and the advice).
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 *
 * assert.strictEqual(CliError.safeLine("x".repeat(5000)).length <= CliError.MAX_LINE, true)
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const MAX_LINE = 1000

/**
 * A line safe to print on a terminal: every control, bidi and line-separator character written visibly, and at
 * most {@link MAX_LINE} characters (its middle left out when longer).
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 *
 * // A server's text cannot clear the screen or reverse the line: the characters are shown, not obeyed.
 * assert.strictEqual(CliError.safeLine("a\u001b[2Jb\u202e"), "a\\x1b[2Jb\\u202e")
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const safeLine = (text: string): string => {
  const escaped = Untrusted.escapeText(text)
  if (escaped.length <= MAX_LINE) return escaped
  const tail = 300
  const head = MAX_LINE - tail - 40
  return `${escaped.slice(0, head)} …(${escaped.length - head - tail} characters left out)… ${escaped.slice(-tail)}`
}

/**
 * Folds text into one line: no ANSI colours; paragraphs joined with `; `, other line breaks with spaces.
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 *
 * assert.strictEqual(
 *   CliError.oneLine("Missing flag\n  --stream-id\n\nSee --help"),
 *   "Missing flag --stream-id; See --help"
 * )
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const oneLine = (text: string): string =>
  stripAnsi(text)
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.split(/\s*\n\s*/).join(" ").trim())
    .filter((paragraph) => paragraph !== "")
    .join("; ")

const settingsHint =
  "Check the ZEGO_* environment variables: ZEGO_APP_ID is decimal digits, ZEGO_IS_TEST true or false, " +
  "ZEGO_REGION one of unified, sha, hkg, fra, lax, bom, sgp, ZEGO_RATE_LIMIT a positive integer or off, " +
  "ZEGO_RATE_LIMIT_WINDOW a duration such as 1 second."

/**
 * A configuration error as `VARIABLE: what is wrong`, each variable named once. Effect's own rendering quotes the
 * message, and for a secret (`Config.redacted`) the message of a missing variable is `<redacted>`: a missing
 * variable is said to be not set instead.
 */
const describeConfigError = (error: ConfigError.ConfigError): string => {
  switch (error._op) {
    case "And":
      return `${describeConfigError(error.left)}; ${describeConfigError(error.right)}`
    case "Or":
      return `${describeConfigError(error.left)}, or ${describeConfigError(error.right)}`
    case "MissingData":
      return `${error.path.join(".")} is not set`
    case "InvalidData":
      return `${error.path.join(".")}: ${
        error.message === "<redacted>" ? "invalid (its value is secret)" : error.message
      }`
    case "SourceUnavailable":
    case "Unsupported":
      return `${error.path.join(".")}: ${error.message}`
  }
}

/**
 * The flag or variable each request field of an `InvalidRequestError` comes from, so that the line names what the
 * user typed (`--stream-id`, not `streamId`).
 */
const PARAMETER_SOURCES: Readonly<Record<string, string>> = {
  streamId: "--stream-id",
  type: "--type",
  clientIp: "--client-ip",
  sequence: "--sequence",
  roomId: "--room-id",
  userId: "--user-id",
  userName: "--user-name",
  title: "--title",
  extraInfo: "--extra-info",
  baseUrl: "--base-url or ZEGO_BASE_URL",
  region: "--region or ZEGO_REGION",
  appId: "ZEGO_APP_ID",
  serverSecret: "ZEGO_SERVER_SECRET",
  rateLimit: "ZEGO_RATE_LIMIT",
  "rateLimit.limit": "ZEGO_RATE_LIMIT",
  "rateLimit.window": "ZEGO_RATE_LIMIT_WINDOW"
}

/** `tag: message`, or the message alone when it already starts with the tag (as the core's errors' do). */
const tagged = (tag: string, message: string): string =>
  message === tag || message.startsWith(`${tag}:`) || message.startsWith(`${tag} `) ? message : `${tag}: ${message}`

const help = (command: string | undefined) => `See ${Invocation.command(`${command ? `${command} ` : ""}--help`)}.`

const describeTagged = (
  error: { readonly _tag: string; readonly message?: unknown },
  command: string | undefined
): string => {
  if (error._tag === "InvalidRequestError" && Predicate.hasProperty(error, "parameter")) {
    const parameter = String(error.parameter)
    const detail = Predicate.hasProperty(error, "detail") ? String(error.detail) : "invalid"
    const source = PARAMETER_SOURCES[parameter] ?? parameter
    return `InvalidRequestError: ${Untrusted.escapeText(source)}: ${
      Untrusted.escapeText(detail)
    } (nothing was sent). ` +
      help(command)
  }
  // Escaped before folding: a line break a server put in its message shows as `\n` instead of a space.
  const message = typeof error.message === "string" ? Untrusted.escapeText(error.message) : ""
  const text = tagged(error._tag, message || "failed")
  const tries = Tries.of(error)
  const gaveUp = tries === undefined ? "" : ` ${Tries.describe(tries)}`
  switch (error._tag) {
    case "TransportError":
      return `${text}.${gaveUp} Check the network and the API address (--region, --base-url or ZEGO_BASE_URL).`
    case "ResponseDecodeError":
      return `${text}.${gaveUp} Check that the base URL is a ZEGOCLOUD API endpoint.`
    default:
      return gaveUp === "" || /[.?!]$/.test(text) ? `${text}${gaveUp}` : `${text}.${gaveUp}`
  }
}

/** `String(value)`, or a bounded excerpt when that throws or is long (a defect can be any value). */
const text = (value: unknown): string => {
  try {
    const shown = String(value)
    return shown.length <= MAX_LINE ? shown : `${shown.slice(0, MAX_LINE)}…`
  } catch {
    return Untrusted.excerpt(value)
  }
}

/**
 * The one line a failure prints on stderr: the error tag and, for ZEGOCLOUD errors, the code, the request id and
 * what to do (the core errors' messages carry that hint). `command` is the subcommand, for the `--help` pointer.
 * What a server or a user sent is escaped ({@link safeLine}).
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 * import { ZegoError } from "@effect-zego/core"
 *
 * const line = CliError.describe(new ZegoError.InvalidRequestError({ parameter: "type", detail: "x" }), "dispatch")
 * assert.ok(line.startsWith("InvalidRequestError"))
 * assert.ok(line.endsWith("See zego-rtmp dispatch --help."))
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const describe = (error: unknown, command?: string): string => safeLine(describeRaw(error, command))

const describeRaw = (error: unknown, command: string | undefined): string => {
  if (ValidationError.isValidationError(error)) {
    const text = oneLine(HelpDoc.toAnsiText(error.error)).replace(/\.$/, "") || error._tag
    // A question ("Did you mean '--type'?") ends its sentence already.
    return `ValidationError (${error._tag}): ${text}${/[?!]$/.test(text) ? "" : "."} ${help(command)}`
  }
  if (ConfigError.isConfigError(error)) {
    return `ConfigError: ${oneLine(describeConfigError(error)).replace(/\.$/, "")}. ${settingsHint}`
  }
  if (Predicate.hasProperty(error, "_tag") && typeof error._tag === "string") {
    return oneLine(describeTagged(error as { readonly _tag: string; readonly message?: unknown }, command))
  }
  if (error instanceof Error) return oneLine(tagged(text(error.name), text(error.message)))
  return oneLine(tagged("Error", text(error)))
}

/** The line for a run stopped by a signal before it was done. */
const interruptedLine = (interruption: Interruption): string =>
  `zego-rtmp${interruption.command === undefined ? "" : ` ${interruption.command}`}: interrupted by ` +
  `${interruption.signal ?? "an interruption"} before it was done${
    interruption.command === "dispatch"
      ? "; no node was printed (the request may have reached the server)"
      : interruption.command?.startsWith("stream ") || interruption.command?.startsWith("room ")
      ? "; nothing was printed (the request may have reached the server and taken effect)"
      : ""
  }.`

/**
 * The line for a failed run: none when the emulator was stopped (it prints its own line), one that names the signal
 * when another command was interrupted.
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 * import * as Cause from "effect/Cause"
 * import * as FiberId from "effect/FiberId"
 * import * as Option from "effect/Option"
 *
 * const stopped = Cause.interrupt(FiberId.none)
 * assert.ok(Option.isSome(CliError.describeCause(stopped, "dispatch", "SIGINT")))
 * assert.ok(Option.isNone(CliError.describeCause(stopped, "emulator", "SIGINT")))
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const describeCause = (
  cause: Cause.Cause<unknown>,
  command?: string,
  signal?: StopSignal
): Option.Option<string> => {
  if (Cause.isInterruptedOnly(cause)) {
    return stopsNormally({ command }) ? Option.none() : Option.some(interruptedLine({ command, signal }))
  }
  return Option.some(
    Option.match(Cause.failureOption(cause), {
      onSome: (error) => describe(error, command),
      onNone: () =>
        Option.match(Cause.dieOption(cause), {
          onSome: (defect) => `Unexpected defect (a bug in zego-rtmp, please report it): ${describe(defect, command)}`,
          onNone: () => safeLine("Unexpected failure: " + oneLine(text(Cause.pretty(cause))))
        })
    })
  )
}

/**
 * The teardown of `NodeRuntime.runMain`: prints the failure's line ({@link describeCause}) on stderr and ends with
 * the status of {@link exitCode}; `signal()` tells which signal, if any, stopped the run. (The line is printed here
 * rather than in the program: a fiber interrupted by a signal runs no error handler.) A failed run sets
 * `process.exitCode` and lets Node exit once stdout and stderr are flushed (pipes are asynchronous on some
 * systems), forcing the exit after a second if something still holds the event loop.
 *
 * @example
 * ```ts
 * import { Cli } from "@effect-zego/cli"
 * import { CliError } from "@effect-zego/cli"
 * import * as NodeContext from "@effect/platform-node/NodeContext"
 * import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
 * import * as Effect from "effect/Effect"
 *
 * let signal: CliError.StopSignal | undefined
 * process.once("SIGTERM", () => (signal = "SIGTERM"))
 * const main = () =>
 *   NodeRuntime.runMain(Cli.run(process.argv).pipe(Effect.provide(NodeContext.layer)), {
 *     teardown: CliError.makeTeardown({ command: process.argv[2], signal: () => signal })
 *   })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const makeTeardown = (options: {
  readonly command?: string | undefined
  readonly signal: () => StopSignal | undefined
}): Runtime.Teardown =>
(exit, onExit) => {
  if (Exit.isSuccess(exit)) return onExit(0)
  const signal = options.signal()
  Option.map(describeCause(exit.cause, options.command, signal), (line) => process.stderr.write(`${line}\n`))
  const code = exitCode(exit.cause, { command: options.command, signal })
  if (code === 0) return onExit(0)
  process.exitCode = code
  setTimeout(() => onExit(code), 1000).unref()
}
