/**
 * @effect-zego/cli: the `zego-rtmp` command-line tool, and the builders of the OBS settings and ffmpeg / ffplay
 * commands it prints, for other tools and tests to reuse.
 */
export * as Cli from "./Cli.js"
export * as CliError from "./CliError.js"
export * as DispatchCommand from "./DispatchCommand.js"
export * as EmulatorCommand from "./EmulatorCommand.js"
export * as MediaCommands from "./MediaCommands.js"
export * as Output from "./Output.js"
