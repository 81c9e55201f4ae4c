/**
 * The `zego-rtmp` command tree (`dispatch`, `emulator`, `stream state|forbid|resume`, `room announce|withdraw`) and the function that runs it on a command line.
 *
 * The tree holds the flags and descriptions only; a subcommand's handler module (with the dispatch stack, or the
 * emulator) is imported when that subcommand runs, so that `--version`, `--help` and an invalid command line load
 * neither.
 *
 * @since 0.1.0
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import type * as ValidationError from "@effect/cli/ValidationError"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import type * as DispatchCommand from "./DispatchCommand.js"
import type * as EmulatorCommand from "./EmulatorCommand.js"
import * as CommandFlags from "./internal/flags.js"
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

/** `zego-rtmp room announce|withdraw`, their handlers loaded when they run. */
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
    ).pipe(Command.withDescription(CommandFlags.roomDescriptions.withdraw))
  ])
)

/** The root command: on its own it prints the help. */
const command = Command.make(name).pipe(
  Command.withDescription(
    "ZEGOCLOUD RTMP dispatch and stream control from the command line, and a local emulator of the API."
  ),
  Command.withSubcommands([dispatch, emulator, stream, room])
)

/**
 * Runs the tool on `process.argv` (the first two elements are node and the script).
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
export const run: (
  argv: ReadonlyArray<string>
) => Effect.Effect<
  void,
  | DispatchCommand.DispatchCommandError
  | EmulatorCommand.EmulatorCommandError
  | StreamCommand.StreamCommandError
  | RoomCommand.RoomCommandError
  | ValidationError.ValidationError,
  CliApp.CliApp.Environment
> = Command.run(command, { name, version })
