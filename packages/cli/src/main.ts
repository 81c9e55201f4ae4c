/**
 * The `zego-rtmp` executable: runs the command tree with Node's platform services. A failure prints one line on
 * stderr and exits with status 2 (invalid input) or 1 (anything else). SIGINT (Ctrl-C) or SIGTERM stops it: a
 * command stopped before it is done (`dispatch` waiting for the server) prints one line on stderr and exits with
 * 130 (SIGINT) or 143 (SIGTERM); `emulator`, a server that runs until stopped, says it stopped and exits with 0.
 *
 * What the `zego-rtmp` bin (`bin/zego-rtmp.js`) runs is `dist/bin.js`: `start.ts` (which answers a lone `--version`
 * itself and imports this module for anything else) bundled with its imports by `scripts/bundle.mjs`, the dispatch
 * stack and the emulator in chunks of their own, loaded by the subcommands that need them.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import type * as Runtime from "@effect/platform/Runtime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Cli from "./Cli.js"
import type * as CliError from "./CliError.js"
import * as Ansi from "./internal/ansi.js"
import * as CommandFlags from "./internal/flags.js"

/** Which subcommand the arguments name, for the `--help` pointer of an error line and the interrupted status. */
const subcommand = CommandFlags.commandOf(process.argv.slice(2))

/** Whether stdout takes ANSI colours: a terminal, and no `NO_COLOR` (https://no-color.org). */
const colours = process.stdout.isTTY === true && !process.env.NO_COLOR

/**
 * The first stop signal received. `runMain` interrupts the program on SIGINT and SIGTERM but does not say which
 * one; this listener only notes it, and goes away with the first signal, as `runMain`'s does, so that a second
 * Ctrl-C kills the process as usual.
 */
let stopSignal: CliError.StopSignal | undefined
const onSignal = (signal: NodeJS.Signals) => {
  if (signal === "SIGINT" || signal === "SIGTERM") stopSignal ??= signal
  process.off("SIGINT", onSignal).off("SIGTERM", onSignal)
}
process.on("SIGINT", onSignal).on("SIGTERM", onSignal)

/**
 * The console of @effect/cli. It prints a validation error as help-doc paragraphs through `Console.error` (its
 * only use of it); the teardown prints the same error as one line instead, so that output is dropped. Its help
 * text loses its ANSI colours when stdout is not a terminal.
 */
const cliConsole = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.consoleWith((console) =>
    Effect.withConsole(effect, {
      ...console,
      error: () => Effect.void,
      log: (...args) => console.log(...(colours ? args : args.map((arg) => Ansi.stripAnsi(String(arg)))))
    })
  )

/**
 * The platform services the command line needs (those of `CliApp.Environment`), not all of `NodeContext`: its
 * command executor and worker manager would be loaded for nothing.
 */
const platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

/**
 * `CliError.makeTeardown`, its module (and the core's error classes it reads) loaded only when the run did not
 * succeed: `--version`, `--help` and a printed node end without it.
 */
const teardown: Runtime.Teardown = (exit, onExit) => {
  if (Exit.isSuccess(exit)) return onExit(0)
  import("./CliError.js").then(
    (CliError) => CliError.makeTeardown({ command: subcommand, signal: () => stopSignal })(exit, onExit),
    (error) => {
      process.stderr.write(`zego-rtmp: could not load its error reporting: ${String(error)}\n`)
      onExit(1)
    }
  )
}

Cli.run(process.argv).pipe(
  cliConsole,
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true }))),
  Effect.provide(platform),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => {
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal)
      teardown(exit, onExit)
    }
  })
)
