/**
 * The `zego-rtmp` command tree (`dispatch`, `emulator`) and the function that runs it on a command line.
 *
 * The tree holds the flags and descriptions only; a subcommand's handler module (with the dispatch stack, or the
 * emulator) is imported when that subcommand runs, so that `--version`, `--help` and an invalid command line load
 * neither.
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import type * as ValidationError from "@effect/cli/ValidationError"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import type * as DispatchCommand from "./DispatchCommand.js"
import type * as EmulatorCommand from "./EmulatorCommand.js"
import * as CommandFlags from "./internal/flags.js"

/** The name the tool is invoked by. */
export const name = "zego-rtmp"

/** The version `--version` prints; a test keeps it equal to package.json's. */
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

/** The root command: on its own it prints the help. */
const command = Command.make(name).pipe(
  Command.withDescription("ZEGOCLOUD RTMP dispatch from the command line, and a local emulator of the API."),
  Command.withSubcommands([dispatch, emulator])
)

/** Runs the tool on `process.argv` (the first two elements are node and the script). */
export const run: (
  argv: ReadonlyArray<string>
) => Effect.Effect<
  void,
  DispatchCommand.DispatchCommandError | EmulatorCommand.EmulatorCommandError | ValidationError.ValidationError,
  CliApp.CliApp.Environment
> = Command.run(command, { name, version })
