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
import type * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as DispatchCommand from "./DispatchCommand.js"
import type * as EmulatorCommand from "./EmulatorCommand.js"
import * as Argv from "./internal/argv.js"
import * as CommandFlags from "./internal/flags.js"
import * as Help from "./internal/help.js"
import * as Suggest from "./internal/suggest.js"
import * as Tries from "./internal/tries.js"
import { version as internalVersion } from "./internal/version.js"
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
export const version: string = internalVersion

/**
 * The command tree's flags are parsed as they are given, or, with `wizard`, asked as `--wizard` asks them
 * ({@link CommandFlags.wizardFlags}): choices as choices, yes/no flags defaulting to no.
 */
const flagsFor = <Config extends Record<string, Options.Options<unknown>>>(config: Config, wizard: boolean): Config =>
  wizard ? CommandFlags.wizardFlags(config) : config

/** `zego-rtmp dispatch`, its handler loaded when it runs. */
const dispatch = (wizard: boolean): Command.Command<
  "dispatch",
  never,
  DispatchCommand.DispatchCommandError,
  DispatchCommand.Flags
> =>
  Command.make(
    "dispatch",
    flagsFor(CommandFlags.dispatch, wizard),
    (flags) => Effect.flatMap(Effect.promise(() => import("./DispatchCommand.js")), (module) => module.handler(flags))
  ).pipe(Command.withDescription(CommandFlags.dispatchSummary))

/** `zego-rtmp emulator`, its handler loaded when it runs. */
const emulator = (wizard: boolean): Command.Command<
  "emulator",
  FileSystem.FileSystem,
  EmulatorCommand.EmulatorCommandError,
  EmulatorCommand.Flags
> =>
  Command.make(
    "emulator",
    flagsFor(CommandFlags.emulator, wizard),
    (flags) => Effect.flatMap(Effect.promise(() => import("./EmulatorCommand.js")), (module) => module.handler(flags))
  ).pipe(Command.withDescription(CommandFlags.emulatorDescription))

/**
 * What a group's handler module must export: for each of the group's rows, the function its `handler` names, taking
 * the row's parsed flags.
 */
type Handlers<Rows extends Record<string, CommandFlags.ActionCommand>> = {
  readonly [Name in keyof Rows as Rows[Name]["handler"]]: (
    flags: Command.Command.ParseConfig<Rows[Name]["flags"]>
  ) => Effect.Effect<void, unknown>
}

/** The rows of `group`. */
type Rows<Group extends CommandFlags.ActionGroup> = (typeof CommandFlags.actionCommands)[Group]

/** How the handlers of `Rows` can fail, from their signatures in the group's module. */
type HandlerError<Rows extends Record<string, CommandFlags.ActionCommand>, Module> = {
  readonly [Name in keyof Rows]: Rows[Name]["handler"] extends infer Key extends keyof Module ?
    Module[Key] extends (flags: never) => Effect.Effect<void, infer E> ? E : never :
    never
}[keyof Rows]

/**
 * A group of action commands (`zego-rtmp stream|room|relay …`), a subcommand per row of its table; each loads the
 * group's handler module with `load` when it runs, so the tree holds no handler code (a dynamic import each: the
 * bundle's chunk per module).
 */
const actionGroup = <Group extends CommandFlags.ActionGroup, Module extends Handlers<Rows<Group>>>(
  group: Group,
  load: () => Promise<Module>,
  wizard: boolean
) => {
  const rows: Record<string, CommandFlags.ActionCommand> = CommandFlags.actionCommands[group]
  // A row's flags are those its handler takes: `Handlers` checked that against the rows' own types.
  type Run = (flags: Command.Command.ParseConfig<CommandFlags.ActionCommand["flags"]>) => Effect.Effect<
    void,
    HandlerError<Rows<Group>, Module>
  >
  const [first, ...rest] = Object.entries(rows).map(([name, row]) =>
    Command.make(
      name,
      flagsFor(row.flags as Record<string, Options.Options<unknown>>, wizard),
      (flags) => Effect.flatMap(Effect.promise(load), (module) => (module[row.handler as keyof Module] as Run)(flags))
    ).pipe(Command.withDescription(CommandFlags.describeAction(row.action)))
  )
  return Command.make(group).pipe(
    Command.withDescription(CommandFlags.groupDescriptions[group]),
    Command.withSubcommands([first!, ...rest])
  )
}

/** `zego-rtmp stream state|forbid|resume`. */
const stream = (wizard: boolean) => actionGroup("stream", () => import("./StreamCommand.js"), wizard)

/** `zego-rtmp room announce|withdraw|streams`. */
const room = (wizard: boolean) => actionGroup("room", () => import("./RoomCommand.js"), wizard)

/** `zego-rtmp relay start|stop|clear`. */
const relay = (wizard: boolean) => actionGroup("relay", () => import("./RelayCommand.js"), wizard)

/** The root command: on its own it prints the help. */
const command = (wizard: boolean) =>
  Command.make(name).pipe(
    Command.withDescription(
      "ZEGOCLOUD RTMP dispatch and stream control from the command line, and a local emulator of the API."
    ),
    Command.withSubcommands([dispatch(wizard), emulator(wizard), stream(wizard), room(wizard), relay(wizard)])
  )

/**
 * The exit statuses, at the end of every `--help` (the numbers are `CliError`'s, which this module does not load:
 * a test keeps them equal).
 */
const exitStatuses: HelpDoc.HelpDoc = HelpDoc.sequence(
  HelpDoc.h1("EXIT STATUS"),
  HelpDoc.descriptionList([
    [Span.text("0"), HelpDoc.p("Done; for emulator, also when stopped by Ctrl-C or SIGTERM.")],
    [Span.text("1"), HelpDoc.p("A server answer, the network, or anything else failed.")],
    [Span.text("2"), HelpDoc.p("Invalid input: a flag, a ZEGO_* variable, or a request value.")],
    [Span.text("130, 143"), HelpDoc.p("Stopped by SIGINT (Ctrl-C) or SIGTERM before it was done.")]
  ])
)

/**
 * What every `--help` ends with: the exit statuses, after the ENVIRONMENT section of the subcommand `path`
 * ({@link CommandFlags.environmentHelp}), which says once where the credentials come from.
 */
const footer = (path: string | undefined): HelpDoc.HelpDoc => {
  const environment = CommandFlags.environmentHelp(path)
  return environment === undefined ?
    exitStatuses :
    HelpDoc.sequence(HelpDoc.sequence(HelpDoc.h1("ENVIRONMENT"), HelpDoc.p(environment)), exitStatuses)
}

/**
 * The tool on a command line, for the subcommand `path` (its help's footer); with `wizard`, its flags as `--wizard`
 * asks them.
 */
const cli = (wizard: boolean, path: string | undefined) =>
  Command.run(command(wizard), { name, version, footer: footer(path) })

/** Tidies the help the run prints ({@link Help.tidy}) for the subcommand `path`, wrapped to `columns`. */
const tidyHelp = (path: string | undefined, columns: number) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.consoleWith((console) =>
    Effect.withConsole(effect, {
      ...console,
      log: (...args) => console.log(...args.map((arg) => typeof arg === "string" ? Help.tidy(arg, path, columns) : arg))
    })
  )

/**
 * Runs the tool on `process.argv` (the first two elements are node and the script), rewritten by {@link Argv.prepare}
 * (`--help` and `--log-level` anywhere on the line). `stdinIsTerminal` (default: `process.stdin`'s) decides whether
 * `--wizard` may ask its questions; `columns` is the width the help is wrapped to (default: the terminal's on
 * stdout, else 80).
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
  options: { readonly stdinIsTerminal?: boolean | undefined; readonly columns?: number | undefined } = {}
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
  const path = CommandFlags.commandOf(args)
  const prepared = Argv.prepare(args, { stdinIsTerminal: options.stdinIsTerminal ?? process.stdin.isTTY === true })
  return Either.match(prepared, {
    onLeft: (message) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))),
    onRight: (rewritten) =>
      cli(rewritten.includes("--wizard"), path)([...argv.slice(0, 2), ...rewritten]).pipe(
        // Not what `--wizard` prints: the command line it built stays one line, to be copied whole.
        tidyHelp(path, rewritten.includes("--wizard") ? Infinity : options.columns ?? Help.columns()),
        // A failure after retries is noted with how many requests the run sent, and for how long.
        Tries.tracked,
        Effect.mapError((error) =>
          ValidationError.isValidationError(error) ? Suggest.withSuggestion(error, args) : error
        )
      )
  })
}
