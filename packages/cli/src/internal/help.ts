/**
 * The help @effect/cli prints, tidied: each flag's help says what the flag is (its description), without the
 * parser's generic line before it ("A user-defined piece of text.", "A true or false value."), and a usage line
 * starts with the command a user types (`$ zego-rtmp stream state …`, not `$ state …`).
 */
import * as Ansi from "./ansi.js"
import * as Invocation from "./invocation.js"

/** The parser's lines that say only which type a flag's value has. */
const GENERIC = new Set(["A user-defined piece of text.", "A true or false value."])

/** The help text with the generic lines left out and each usage line under `zego-rtmp` and `command`. */
export const tidy = (text: string, command: string | undefined): string => {
  const lines = text.split("\n")
  const out: Array<string> = []
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!
    const plain = Ansi.stripAnsi(line).trim()
    if (GENERIC.has(plain)) {
      // The paragraph's blank line goes with it.
      if (index + 1 < lines.length && Ansi.stripAnsi(lines[index + 1]!).trim() === "") index++
      continue
    }
    out.push(plain.startsWith("$ ") ? usage(line, plain, command) : line)
  }
  // @effect/cli ends a paragraph (the version is one) with a line break, and `console.log` adds its own: one blank
  // line too many.
  return out.join("\n").replace(/\n+$/, "")
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
