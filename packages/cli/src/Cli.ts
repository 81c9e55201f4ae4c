/**
 * The `zego-rtmp` command tree (`dispatch`, `emulator`) and the function that runs it on a command line.
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import type * as ValidationError from "@effect/cli/ValidationError"
import type * as Effect from "effect/Effect"
import * as DispatchCommand from "./DispatchCommand.js"
import * as EmulatorCommand from "./EmulatorCommand.js"

/** The name the tool is invoked by. */
export const name = "zego-rtmp"

/** The version `--version` prints; a test keeps it equal to package.json's. */
export const version = "0.1.0"

/** The root command: on its own it prints the help. */
const command = Command.make(name).pipe(
  Command.withDescription("ZEGOCLOUD RTMP dispatch from the command line, and a local emulator of the API."),
  Command.withSubcommands([DispatchCommand.command, EmulatorCommand.command])
)

/** Runs the tool on `process.argv` (the first two elements are node and the script). */
export const run: (
  argv: ReadonlyArray<string>
) => Effect.Effect<
  void,
  DispatchCommand.DispatchCommandError | EmulatorCommand.EmulatorCommandError | ValidationError.ValidationError,
  CliApp.CliApp.Environment
> = Command.run(command, { name, version })
