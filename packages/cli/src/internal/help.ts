/**
 * The help @effect/cli prints, tidied and fitted to the terminal: each flag's help says what the flag is (its
 * description), without the parser's generic line before it ("A user-defined piece of text.", "A true or false
 * value.", "One of the following: …" under a heading that lists them already); a usage line starts with the command a
 * user types (`$ zego-rtmp stream state …`, not `$ state …`); a subcommand's usage and its description are two lines,
 * not one padded to the longest usage; every line is wrapped at spaces to the terminal's width.
 *
 * @effect/cli renders each paragraph as one unbreakable line, so the wrapping is done here, on its text.
 */
import * as Ansi from "./ansi.js"
import { actionCommands } from "./flags.js"
import * as Invocation from "./invocation.js"

/** The parser's lines that say only which type a flag's value has. */
const GENERIC = new Set(["A user-defined piece of text.", "A true or false value."])

/** The width the help is wrapped to when stdout is not a terminal, or the terminal does not say. */
export const DEFAULT_COLUMNS = 80

/** The width of the terminal on stdout: its `columns`, else {@link DEFAULT_COLUMNS}. */
export const columns = (): number => {
  const width = process.stdout.isTTY === true ? process.stdout.columns : undefined
  return width !== undefined && Number.isInteger(width) && width > 0 ? width : DEFAULT_COLUMNS
}

/**
 * The help text with the generic lines left out, each usage line under `zego-rtmp` and `command`, and every line
 * wrapped to `width` columns.
 */
export const tidy = (text: string, command: string | undefined, width: number = DEFAULT_COLUMNS): string => {
  const lines = text.split("\n")
  const out: Array<string> = []
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!
    const plain = Ansi.stripAnsi(line).trim()
    if (GENERIC.has(plain) || plain.startsWith("One of the following: ")) {
      // The paragraph's blank line goes with it.
      if (index + 1 < lines.length && Ansi.stripAnsi(lines[index + 1]!).trim() === "") index++
      continue
    }
    if (plain.startsWith("$ ")) out.push(usage(line, plain, command))
    else out.push(...subcommandEntry(line))
  }
  // @effect/cli ends a paragraph (the version is one) with a line break, and `console.log` adds its own: one blank
  // line too many.
  return wrap(out, width).join("\n").replace(/\n+$/, "")
}

/** A usage line `$ last-word …` rewritten as `$ <how zego-rtmp was started> the command path …`. */
const usage = (line: string, plain: string, command: string | undefined): string => {
  const rest = plain.slice(2)
  if (rest === "zego-rtmp" || rest.startsWith("zego-rtmp ")) {
    return Invocation.invocation() === "zego-rtmp"
      ? line
      : `$ ${Invocation.invocation()}${rest.slice("zego-rtmp".length)}`
  }
  const path = command?.split(" ") ?? []
  const parents = path.slice(0, -1)
  return ["$", Invocation.invocation(), ...parents, rest].join(" ")
}

/**
 * An entry of the COMMANDS list, `  - usage<spaces to the longest usage>  description`, as two lines: the usage, and
 * the description under it. A usage never holds two spaces in a row (@effect/cli joins its parts with one), so the
 * first run of two or more is the padding. Any other line as it is.
 */
const subcommandEntry = (line: string): Array<string> => {
  const entry = /^( *)- (.*?\S) {2,}(.*)$/.exec(line)
  if (entry === null) return [line]
  const [, indent, usage, description] = entry as unknown as [string, string, string, string]
  return description.trim() === "" ? [`${indent}- ${usage}`] : [`${indent}- ${usage}`, `${indent}  ${description}`]
}

/** The number of columns `text` takes on a terminal (ANSI colour codes take none). */
const visible = (text: string): number => Ansi.stripAnsi(text).length

const leadingSpaces = (text: string): number => text.length - text.trimStart().length

/**
 * `lines` wrapped to `width`. A continuation line is indented under what it continues: past the `$ ` of a usage line,
 * further than the description under an entry of the COMMANDS list or a term of a definition list (a line at the
 * left margin followed by indented lines, as the OPTIONS' flags), and as deep as the text of a paragraph.
 */
const wrap = (lines: ReadonlyArray<string>, width: number): Array<string> =>
  lines.flatMap((line, index) => {
    if (visible(line) <= width) return [line]
    const plain = Ansi.stripAnsi(line)
    const indent = leadingSpaces(plain)
    const body = plain.slice(indent)
    const next = lines.slice(index + 1).find((later) => Ansi.stripAnsi(later).trim() !== "")
    const hang = body.startsWith("$ ") ?
      indent + 2 :
      body.startsWith("- ") ?
      indent + 4 :
      indent === 0 && next !== undefined && leadingSpaces(Ansi.stripAnsi(next)) > 0 ?
      4 :
      indent
    return fill(line, width, hang)
  })

/**
 * The words of `line` (ANSI codes kept with them), a bracketed group (`[--region a | b]`) and a command written in the
 * text (`zego-rtmp stream state`; in a clone `npx -y pnpm@10.34.9 -s zego-rtmp …`, which runs only whole) each held
 * together as one unit,
 * filled into lines of at most `width` columns, the first at the line's own indentation, the rest at `hang`. A group
 * too wide for a line of its own is broken at its spaces; a word too wide for one stands alone, whole.
 */
const fill = (line: string, width: number, hang: number): Array<string> => {
  const indent = leadingSpaces(Ansi.stripAnsi(line))
  const units = groups(invocations(line.split(" ").filter((word) => word !== "")))
  const out: Array<string> = []
  let current = " ".repeat(indent)
  let empty = true
  const place = (unit: string) => {
    if (!empty && visible(current) + 1 + visible(unit) > width) {
      out.push(current)
      current = " ".repeat(hang)
      empty = true
    }
    current += empty ? unit : ` ${unit}`
    empty = false
  }
  for (const unit of units) {
    if (visible(unit) > width - hang && unit.includes(" ")) unit.split(" ").forEach(place)
    else place(unit)
  }
  if (!empty) out.push(current)
  return out
}

/** The words of a command path: `dispatch`, `emulator`, the groups and their subcommands. */
const COMMAND_WORDS: ReadonlySet<string> = new Set([
  "dispatch",
  "emulator",
  ...Object.entries(actionCommands).flatMap(([group, rows]) => [group, ...Object.keys(rows)])
])

/**
 * `words` with each command written in the text (the words of {@link Invocation.invocation} and the command path after
 * them, as in `zego-rtmp stream state`) joined into one.
 */
const invocations = (words: ReadonlyArray<string>): Array<string> => {
  const invocation = Invocation.invocation().split(" ")
  const out: Array<string> = []
  for (let index = 0; index < words.length; index++) {
    if (!invocation.every((word, offset) => Ansi.stripAnsi(words[index + offset] ?? "") === word)) {
      out.push(words[index]!)
      continue
    }
    let end = index + invocation.length
    while (end < words.length && end < index + invocation.length + 2 && COMMAND_WORDS.has(words[end]!)) end++
    out.push(words.slice(index, end).join(" "))
    index = end - 1
  }
  return out
}

/** `words` with each bracketed group joined into one unit. */
const groups = (words: ReadonlyArray<string>): Array<string> => {
  const units: Array<string> = []
  let depth = 0
  for (const word of words) {
    const plain = Ansi.stripAnsi(word)
    if (depth > 0) units[units.length - 1] += ` ${word}`
    else units.push(word)
    depth = Math.max(0, depth + count(plain, "[") - count(plain, "]"))
  }
  return units
}

const count = (text: string, char: string): number => text.split(char).length - 1
