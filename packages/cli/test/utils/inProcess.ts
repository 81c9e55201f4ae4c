/**
 * Runs the command tree in the test's process, as the bin does up to its teardown: the exit status and the one line
 * the bin prints for a failure (`CliError.exitCode`, `CliError.describeCause`, which the bin's teardown calls), and
 * what the commands log to the console (help, version). A spawn of the real bin costs about a second of CPU; the
 * cases that differ only in what they get wrong run here, and one spawned case per kind of failure checks the bin's
 * own part (stdout empty, one line on stderr, the exit status).
 *
 * Only for runs that fail before they print: a command's own output goes to `process.stdout`, which is not
 * captured. The environment is `env` alone (a `ConfigProvider`), whatever `ZEGO_*` variables the test process has.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Terminal from "@effect/platform/Terminal"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Cli from "../../src/Cli.js"
import * as CliError from "../../src/CliError.js"
import * as CommandFlags from "../../src/internal/flags.js"

/** What a run in the test's process gave. */
export interface InProcessResult {
  readonly code: number
  /** The line the bin would print on stderr; none for a success. */
  readonly line: string | undefined
  /** What the commands logged to the console (help, version), without ANSI colours. */
  readonly console: string
}

/**
 * Runs `zego-rtmp args…` in this process, with only `env` as its environment; with `terminal`, stdin is that terminal
 * (for `--wizard`), else none. The help is wrapped to `columns` (default 80, as off a terminal), whatever terminal
 * the tests run in.
 */
export const runInProcess = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  options: { readonly terminal?: Terminal.Terminal; readonly columns?: number } = {}
): Effect.Effect<InProcessResult> => {
  const { columns = 80, terminal } = options
  const command = CommandFlags.commandOf(args)
  const logged: Array<string> = []
  // stdin is a terminal only when the test gives one: `--wizard` would otherwise wait for answers in a test run from one.
  return Cli.run(["node", Cli.name, ...args], { stdinIsTerminal: terminal !== undefined, columns }).pipe(
    (effect) => terminal === undefined ? effect : Effect.provideService(effect, Terminal.Terminal, terminal),
    (effect) =>
      Effect.consoleWith((console) =>
        Effect.withConsole(effect, {
          ...console,
          // The bin drops @effect/cli's validation paragraphs in favour of its one line; so does this.
          error: () => Effect.void,
          log: (...items) => Effect.sync(() => void logged.push(...items.map((item) => String(item))))
        })
      ),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.provide(Logger.minimumLogLevel(LogLevel.None)),
    Effect.provide(NodeContext.layer),
    Effect.exit,
    Effect.map((exit): InProcessResult => {
      const console = CliError.stripAnsi(logged.join("\n"))
      if (Exit.isSuccess(exit)) return { code: 0, line: undefined, console }
      return {
        code: CliError.exitCode(exit.cause, { command }),
        line: Option.getOrUndefined(CliError.describeCause(exit.cause, command)),
        console
      }
    })
  )
}
