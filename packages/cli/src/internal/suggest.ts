/**
 * "Did you mean …?" for a misspelt flag or subcommand that @effect/cli reports without a suggestion (an unknown
 * argument after the flags, an invalid subcommand): the known name nearest to it, at most two edits away.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as CommandFlags from "./flags.js"

/** The number of single-character insertions, deletions and substitutions that turn `a` into `b`. */
export const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** The candidate nearest to `word`, if it is at most two edits away and not `word` itself. */
export const nearest = (word: string, candidates: ReadonlyArray<string>): string | undefined => {
  let best: { readonly name: string; readonly distance: number } | undefined
  for (const name of candidates) {
    const d = distance(word, name)
    if (d > 0 && d <= 2 && (best === undefined || d < best.distance)) best = { name, distance: d }
  }
  return best?.name
}

/** The subcommand names: `dispatch`, `emulator`, the groups and their leaves. */
const commands = [
  "dispatch",
  "emulator",
  ...Object.entries(CommandFlags.actionCommands).flatMap(([group, rows]) => [group, ...Object.keys(rows)])
]

/** The flags of the subcommand `path` (`dispatch`, `stream state`, …), and the built-in ones. */
const flagsOf = (path: string | undefined): ReadonlyArray<string> => {
  const [group, leaf] = path?.split(" ") ?? []
  const config: object | undefined = group === "dispatch"
    ? CommandFlags.dispatch
    : group === "emulator"
    ? CommandFlags.emulator
    : group !== undefined && leaf !== undefined && Object.hasOwn(CommandFlags.actionCommands, group)
    ? (CommandFlags.actionCommands[group as CommandFlags.ActionGroup] as Record<string, CommandFlags.ActionCommand>)[
      leaf
    ]?.flags
    : undefined
  const own = Object.keys(config ?? {}).map((key) =>
    `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`
  )
  return [...own, "--help", "--version", "--wizard", "--log-level", "--completions"]
}

/** `error`, with "Did you mean …?" added when a word of `args` is a misspelt flag or subcommand. */
export const withSuggestion = (
  error: ValidationError.ValidationError,
  args: ReadonlyArray<string>
): ValidationError.ValidationError => {
  const text = HelpDoc.toAnsiText(error.error).trim()
  if (ValidationError.isCommandMismatch(error)) {
    // Subcommands come before the flags.
    const flags = args.findIndex((arg) => arg.startsWith("-"))
    const words = (flags < 0 ? args : args.slice(0, flags)).filter((word) => !commands.includes(word))
    for (const word of words) {
      const suggestion = nearest(word, commands)
      if (suggestion !== undefined) {
        return ValidationError.commandMismatch(HelpDoc.p(`${text}. Did you mean '${suggestion}'?`))
      }
    }
    return error
  }
  const unknown = /^Received unknown argument: '(--[^']*)'$/.exec(text)
  const suggestion = unknown === null ? undefined : nearest(unknown[1]!, flagsOf(CommandFlags.commandOf(args)))
  return suggestion === undefined
    ? error
    : ValidationError.invalidValue(HelpDoc.p(`${text}. Did you mean '${suggestion}'?`))
}
