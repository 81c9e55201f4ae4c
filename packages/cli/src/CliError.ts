/**
 * How `zego-rtmp` fails: its own error (missing credentials), the one line a failure prints on stderr, and the exit
 * status: 2 for invalid input, 1 for server, transport and other errors.
 *
 * The line quotes what a server sent (its message, its request id) and what a user typed: every control, bidi and
 * line-separator character in it is written visibly (`\x1b`, `\u202e`, `\n`), so that it cannot forge lines or
 * rewrite the terminal, and it is at most {@link MAX_LINE} characters long.
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

/** Credentials are needed (a base URL or region points at a real server, or only half of them is set) but missing. */
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

/** The exit status for invalid input: bad flags, invalid request values, missing or malformed settings. */
export const EXIT_INVALID_INPUT = 2

/** The exit status for everything else that fails: server answers, transport, the emulator failing to start. */
export const EXIT_FAILURE = 1

/** The tags of invalid input: the core's, ours, and the emulator's options and configuration file errors. */
const INVALID_INPUT_TAGS: ReadonlySet<string> = new Set([
  "InvalidRequestError",
  "MissingCredentialsError",
  "InvalidOptionsError",
  "ConfigFileError"
])

/** Whether an error is the caller's input at fault (exit status 2). */
export const isInvalidInput = (error: unknown): boolean =>
  ValidationError.isValidationError(error) || ConfigError.isConfigError(error) ||
  (Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" && INVALID_INPUT_TAGS.has(error._tag))

/** The exit status a failed run ends with: 0 when it was only interrupted (Ctrl-C, SIGTERM), 2 or 1 otherwise. */
export const exitCode = (cause: Cause.Cause<unknown>): number => {
  if (Cause.isInterruptedOnly(cause)) return 0
  return Option.match(Cause.failureOption(cause), {
    onNone: () => EXIT_FAILURE,
    onSome: (error) => (isInvalidInput(error) ? EXIT_INVALID_INPUT : EXIT_FAILURE)
  })
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

/** Removes ANSI colour codes. */
export const stripAnsi = (text: string): string => text.replace(ANSI, "")

/** The longest line a failure prints; a longer one keeps its start and its end (the request id and the advice). */
export const MAX_LINE = 1000

/**
 * A line safe to print on a terminal: every control, bidi and line-separator character written visibly, and at
 * most {@link MAX_LINE} characters (its middle left out when longer).
 */
export const safeLine = (text: string): string => {
  const escaped = Untrusted.escapeText(text)
  if (escaped.length <= MAX_LINE) return escaped
  const tail = 300
  const head = MAX_LINE - tail - 40
  return `${escaped.slice(0, head)} …(${escaped.length - head - tail} characters left out)… ${escaped.slice(-tail)}`
}

/** Folds text into one line: no ANSI colours; paragraphs joined with `; `, other line breaks with spaces. */
export const oneLine = (text: string): string =>
  stripAnsi(text)
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.split(/\s*\n\s*/).join(" ").trim())
    .filter((paragraph) => paragraph !== "")
    .join("; ")

const settingsHint =
  "Check the ZEGO_* environment variables: ZEGO_APP_ID is decimal digits, ZEGO_IS_TEST true or false, " +
  "ZEGO_REGION one of unified, sha, hkg, fra, lax, bom, sgp."

const help = (command: string | undefined) => `See zego-rtmp${command ? ` ${command}` : ""} --help.`

const describeTagged = (
  error: { readonly _tag: string; readonly message?: unknown },
  command: string | undefined
): string => {
  // Escaped before folding: a line break a server put in its message shows as `\n` instead of a space.
  const message = typeof error.message === "string" ? Untrusted.escapeText(error.message) : ""
  const text = message.startsWith(error._tag) ? message : `${error._tag}: ${message || "failed"}`
  switch (error._tag) {
    case "InvalidRequestError":
      return `${text}. ${help(command)}`
    case "TransportError":
      return `${text}. Check the network and the API address (--region, --base-url or ZEGO_BASE_URL).`
    case "ResponseDecodeError":
      return `${text}. Check that the base URL is a ZEGOCLOUD API endpoint.`
    default:
      return text
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
 */
export const describe = (error: unknown, command?: string): string => safeLine(describeRaw(error, command))

const describeRaw = (error: unknown, command: string | undefined): string => {
  if (ValidationError.isValidationError(error)) {
    const text = oneLine(HelpDoc.toAnsiText(error.error)).replace(/\.$/, "") || error._tag
    return `ValidationError (${error._tag}): ${text}. ${help(command)}`
  }
  if (ConfigError.isConfigError(error)) {
    return `ConfigError: ${oneLine(text(error)).replace(/^\(|\)$/g, "")}. ${settingsHint}`
  }
  if (Predicate.hasProperty(error, "_tag") && typeof error._tag === "string") {
    return oneLine(describeTagged(error as { readonly _tag: string; readonly message?: unknown }, command))
  }
  if (error instanceof Error) return oneLine(`${text(error.name)}: ${text(error.message)}`)
  return oneLine(`Error: ${text(error)}`)
}

/** The line for a failed run, or none when it was only interrupted. */
export const describeCause = (cause: Cause.Cause<unknown>, command?: string): Option.Option<string> => {
  if (Cause.isInterruptedOnly(cause)) return Option.none()
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
 * The teardown of `NodeRuntime.runMain`: exit status 0, 1 or 2 by {@link exitCode}. A failed run sets
 * `process.exitCode` and lets Node exit once stdout and stderr are flushed (pipes are asynchronous on some
 * systems), forcing the exit after a second if something still holds the event loop.
 */
export const teardown: Runtime.Teardown = (exit, onExit) => {
  const code = Exit.isSuccess(exit) ? 0 : exitCode(exit.cause)
  if (code === 0) return onExit(0)
  process.exitCode = code
  setTimeout(() => onExit(code), 1000).unref()
}
