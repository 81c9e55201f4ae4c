/**
 * The `zego-rtmp` command tree (`dispatch`, `emulator`, `stream state|forbid|resume`,
 * `room announce|withdraw|streams`, `relay start|stop|clear`) and the function that runs it on a command line.
 *
 * The tree holds the flags and descriptions only; a subcommand's handler module (with the dispatch stack, or the
 * emulator) is imported when that subcommand runs, so that `--version`, `--help` and an invalid command line load
 * neither.
 *
 * @since 0.1.0
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as DispatchCommand from "./DispatchCommand.js"
import type * as EmulatorCommand from "./EmulatorCommand.js"
import * as Argv from "./internal/argv.js"
import * as CommandFlags from "./internal/flags.js"
import * as Help from "./internal/help.js"
import type * as RelayCommand from "./RelayCommand.js"
import type * as RoomCommand from "./RoomCommand.js"
import type * as StreamCommand from "./StreamCommand.js"

/**
 * The name the tool is invoked by.
 *
 * @example
 * ```ts
 * import { Cli } from "@effect-zego/cli"
 *
 * assert.strictEqual(Cli.name, "zego-rtmp")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const name = "zego-rtmp"

/**
 * The version `--version` prints; a test keeps it equal to package.json's.
 *
 * @example
 * ```ts
 * import { Cli } from "@effect-zego/cli"
 *
 * assert.match(Cli.version, /^\d+\.\d+\.\d+/)
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

/** `zego-rtmp dispatch`, its handler loaded when it runs. */
const dispatch: Command.Command<
  "dispatch",
  never,
  DispatchCommand.DispatchCommandError,
  DispatchCommand.Flags
> = Command.make(
  "dispatch",
  CommandFlags.dispatch,
  (flags) => Effect.flatMap(Effect.promise(() => import("./DispatchCommand.js")), (module) => module.handler(flags))
).pipe(Command.withDescription(CommandFlags.dispatchDescription))

/** `zego-rtmp emulator`, its handler loaded when it runs. */
const emulator: Command.Command<
  "emulator",
  FileSystem.FileSystem,
  EmulatorCommand.EmulatorCommandError,
  EmulatorCommand.Flags
> = Command.make(
  "emulator",
  CommandFlags.emulator,
  (flags) => Effect.flatMap(Effect.promise(() => import("./EmulatorCommand.js")), (module) => module.handler(flags))
).pipe(Command.withDescription(CommandFlags.emulatorDescription))

/** A `stream` subcommand, its handler loaded when it runs. */
const streamCommand = <Name extends "state" | "forbid" | "resume">(name: Name) =>
  Command.make(
    name,
    CommandFlags.stream,
    (flags): Effect.Effect<void, StreamCommand.StreamCommandError> =>
      Effect.flatMap(Effect.promise(() => import("./StreamCommand.js")), (module) => module[name](flags))
  ).pipe(Command.withDescription(CommandFlags.streamDescriptions[name]))

/** `zego-rtmp stream state|forbid|resume`. */
const stream = Command.make("stream").pipe(
  Command.withDescription(CommandFlags.streamDescriptions.stream),
  Command.withSubcommands([streamCommand("state"), streamCommand("forbid"), streamCommand("resume")])
)

/** `zego-rtmp room announce|withdraw|streams`, their handlers loaded when they run. */
const room = Command.make("room").pipe(
  Command.withDescription(CommandFlags.roomDescriptions.room),
  Command.withSubcommands([
    Command.make(
      "announce",
      CommandFlags.roomAnnounce,
      (flags): Effect.Effect<void, RoomCommand.RoomCommandError> =>
        Effect.flatMap(Effect.promise(() => import("./RoomCommand.js")), (module) => module.announce(flags))
    ).pipe(Command.withDescription(CommandFlags.roomDescriptions.announce)),
    Command.make(
      "withdraw",
      CommandFlags.roomWithdraw,
      (flags): Effect.Effect<void, RoomCommand.RoomCommandError> =>
        Effect.flatMap(Effect.promise(() => import("./RoomCommand.js")), (module) => module.withdraw(flags))
    ).pipe(Command.withDescription(CommandFlags.roomDescriptions.withdraw)),
    Command.make(
      "streams",
      CommandFlags.roomStreams,
      (flags): Effect.Effect<void, RoomCommand.RoomCommandError> =>
        Effect.flatMap(Effect.promise(() => import("./RoomCommand.js")), (module) => module.streams(flags))
    ).pipe(Command.withDescription(CommandFlags.roomDescriptions.streams))
  ])
)

/** A `relay` subcommand, its handler loaded when it runs. */
const relayCommand = <Name extends "start" | "stop">(name: Name) =>
  Command.make(
    name,
    CommandFlags.relay,
    (flags): Effect.Effect<void, RelayCommand.RelayCommandError> =>
      Effect.flatMap(Effect.promise(() => import("./RelayCommand.js")), (module) => module[name](flags))
  ).pipe(Command.withDescription(CommandFlags.relayDescriptions[name]))

/** `zego-rtmp relay start|stop|clear`. */
const relay = Command.make("relay").pipe(
  Command.withDescription(CommandFlags.relayDescriptions.relay),
  Command.withSubcommands([
    relayCommand("start"),
    relayCommand("stop"),
    Command.make(
      "clear",
      CommandFlags.relayClear,
      (flags): Effect.Effect<void, RelayCommand.RelayCommandError> =>
        Effect.flatMap(Effect.promise(() => import("./RelayCommand.js")), (module) => module.clear(flags))
    ).pipe(Command.withDescription(CommandFlags.relayDescriptions.clear))
  ])
)

/** The root command: on its own it prints the help. */
const command = Command.make(name).pipe(
  Command.withDescription(
    "ZEGOCLOUD RTMP dispatch and stream control from the command line, and a local emulator of the API."
  ),
  Command.withSubcommands([dispatch, emulator, stream, room, relay])
)

/**
 * The exit statuses, at the end of every `--help` (the numbers are `CliError`'s, which this module does not load:
 * a test keeps them equal).
 */
const exitStatuses = HelpDoc.sequence(
  HelpDoc.h1("EXIT STATUS"),
  HelpDoc.descriptionList([
    [Span.text("0"), HelpDoc.p("Done; for emulator, also when stopped by Ctrl-C or SIGTERM.")],
    [Span.text("1"), HelpDoc.p("A server answer, the network, or anything else failed.")],
    [Span.text("2"), HelpDoc.p("Invalid input: a flag, a ZEGO_* variable, or a request value.")],
    [Span.text("130, 143"), HelpDoc.p("Stopped by SIGINT (Ctrl-C) or SIGTERM before it was done.")]
  ])
)

const cli = Command.run(command, { name, version, footer: exitStatuses })

/** Tidies the help the run prints ({@link Help.tidy}) for the subcommand `path`. */
const tidyHelp = (path: string | undefined) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.consoleWith((console) =>
    Effect.withConsole(effect, {
      ...console,
      log: (...args) => console.log(...args.map((arg) => typeof arg === "string" ? Help.tidy(arg, path) : arg))
    })
  )

/**
 * Runs the tool on `process.argv` (the first two elements are node and the script), rewritten by {@link Argv.prepare}
 * (`--help` and `--log-level` anywhere on the line). `stdinIsTerminal` (default: `process.stdin`'s) decides whether
 * `--wizard` may ask its questions.
 *
 * @example
 * ```ts
 * import { Cli } from "@effect-zego/cli"
 * import * as NodeContext from "@effect/platform-node/NodeContext"
 * import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
 * import * as Effect from "effect/Effect"
 *
 * // The bin: the command line of this process, with Node's file system, path and terminal.
 * const main = () => NodeRuntime.runMain(Cli.run(process.argv).pipe(Effect.provide(NodeContext.layer)))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  argv: ReadonlyArray<string>,
  options: { readonly stdinIsTerminal?: boolean | undefined } = {}
): Effect.Effect<
  void,
  | DispatchCommand.DispatchCommandError
  | EmulatorCommand.EmulatorCommandError
  | StreamCommand.StreamCommandError
  | RoomCommand.RoomCommandError
  | RelayCommand.RelayCommandError
  | ValidationError.ValidationError,
  CliApp.CliApp.Environment
> => {
  const args = argv.slice(2)
  const prepared = Argv.prepare(args, { stdinIsTerminal: options.stdinIsTerminal ?? process.stdin.isTTY === true })
  return Either.match(prepared, {
    onLeft: (message) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))),
    onRight: (rewritten) => cli([...argv.slice(0, 2), ...rewritten]).pipe(tidyHelp(CommandFlags.commandOf(args)))
  })
}
