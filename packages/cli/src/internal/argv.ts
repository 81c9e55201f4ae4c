/**
 * The command line as `zego-rtmp` hands it to @effect/cli, which reads its built-in flags only in certain places:
 * `--help` before a missing or invalid flag is reported, `--log-level` only before the subcommand's own flags, and
 * `--wizard` asks its questions on stdin whatever it is (a pipe or /dev/null leaves it waiting forever). It also drops
 * an empty value of a repeated flag and trims the others, so `emulator --room` is checked here, as typed.
 */
import * as Either from "effect/Either"
import { commandOf, ROOM_ID_MAX_BYTES } from "./flags.js"

/** What `--wizard` says when stdin is not a terminal. */
export const wizardNeedsTerminal =
  "--wizard asks its questions on a terminal, and stdin is not one: give the command's flags instead"

const isHelp = (arg: string) => arg === "--help" || arg === "-h"

/**
 * The arguments (after node and the script) rewritten for @effect/cli: with `--help` or `-h` anywhere, only the
 * subcommand's path and `--help` (so that the help shows whatever else is on the line); else `--log-level LEVEL`
 * (or `--log-level=LEVEL`) moved to the front, where it is read. Fails with a message for `--wizard` without a
 * terminal on stdin. A flag's value spelled `--help` or `-h` asks for help too: no value of ours looks like that.
 */
export const prepare = (
  args: ReadonlyArray<string>,
  options: { readonly stdinIsTerminal: boolean }
): Either.Either<ReadonlyArray<string>, string> => {
  if (args.some(isHelp)) {
    const path = commandOf(args)
    return Either.right([...(path === undefined ? [] : path.split(" ")), "--help"])
  }
  if (args.includes("--wizard") && !options.stdinIsTerminal) return Either.left(wizardNeedsTerminal)
  if (commandOf(args) === "emulator") {
    const problem = roomProblem(args)
    if (problem !== undefined) return Either.left(problem)
  }
  const logLevel: Array<string> = []
  const rest: Array<string> = []
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!
    if (arg === "--log-level" && index + 1 < args.length) {
      logLevel.push(arg, args[++index]!)
    } else if (arg.startsWith("--log-level=")) {
      logLevel.push("--log-level", arg.slice("--log-level=".length))
    } else {
      rest.push(arg)
    }
  }
  return Either.right([...logLevel, ...rest])
}

/**
 * What is wrong with the first `--room` value of `args` that is not a room id the emulator takes (1 to
 * {@link ROOM_ID_MAX_BYTES} bytes) as typed: @effect/cli would drop a missing or empty one, and trim spaces at its
 * ends, so that the emulator would start without the room asked for, or with another.
 */
export const roomProblem = (args: ReadonlyArray<string>): string | undefined => {
  for (let index = 0; index < args.length; index++) {
    if (args[index] !== "--room") continue
    const value = args[index + 1]
    if (value === undefined) return "--room needs a room id"
    if (value === "" || value.trim() !== value || Buffer.byteLength(value, "utf8") > ROOM_ID_MAX_BYTES) {
      return `--room takes a room id of 1 to ${ROOM_ID_MAX_BYTES} bytes without spaces at its ends, not ${
        JSON.stringify(value.slice(0, 40))
      }${value.length > 40 ? "…" : ""}`
    }
    index++
  }
  return undefined
}
