#!/usr/bin/env node
/**
 * The `zego-rtmp` executable: runs the command tree with Node's platform services; a failure prints one line on
 * stderr and exits with status 2 (invalid input) or 1 (anything else); Ctrl-C and SIGTERM stop it cleanly.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Cli from "./Cli.js"
import * as CliError from "./CliError.js"
import * as Stdio from "./internal/stdio.js"

/** Which subcommand the arguments name, for the `--help` pointer of an error line. */
const subcommand = process.argv.slice(2).find((arg) => arg === "dispatch" || arg === "emulator")

/** Whether stdout takes ANSI colours: a terminal, and no `NO_COLOR` (https://no-color.org). */
const colours = process.stdout.isTTY === true && !process.env.NO_COLOR

/**
 * The console of @effect/cli. It prints a validation error as help-doc paragraphs through `Console.error` (its
 * only use of it); the report below prints the same error as one line instead, so that output is dropped. Its help
 * text loses its ANSI colours when stdout is not a terminal.
 */
const cliConsole = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.consoleWith((console) =>
    Effect.withConsole(effect, {
      ...console,
      error: () => Effect.void,
      log: (...args) => console.log(...(colours ? args : args.map((arg) => CliError.stripAnsi(String(arg)))))
    })
  )

Cli.run(process.argv).pipe(
  cliConsole,
  Effect.tapErrorCause((cause) =>
    Option.match(CliError.describeCause(cause, subcommand), {
      onNone: () => Effect.void,
      onSome: Stdio.err
    })
  ),
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true }))),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true, teardown: CliError.teardown })
)
