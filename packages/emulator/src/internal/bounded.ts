/**
 * Outside input made small and safe before the emulator keeps it, logs it or quotes it in an error: strings cut to
 * a bound and copied (a kept field must not hold on to the whole request it came from), text escaped so that a
 * terminal shows it instead of obeying it, parse errors formatted without the offending value (by the core), and
 * the position of a JSON syntax error without the text around it (a configuration file holds secrets).
 */
import { Untrusted } from "@effect-zego/core"
import type * as ParseResult from "effect/ParseResult"

/** The most characters a kept string (a record's field) has: a valid StreamId (256) is kept whole. */
export const MAX_KEPT = 256

/**
 * At most `max` characters of `text`, ending in `...` when it was cut (ASCII, so the string stays one byte per
 * character), in a string of its own: in V8 a slice of a long string can share (and keep alive) the long string, so
 * the result is rebuilt through JSON.
 */
export const keep = (text: string, max = MAX_KEPT): string =>
  JSON.parse(JSON.stringify(text.length > max ? `${text.slice(0, max - 3)}...` : text)) as string

/** {@link keep} for an optional value. */
export const keepOptional = (text: string | undefined, max = MAX_KEPT): string | undefined =>
  text === undefined ? undefined : keep(text, max)

/** At most `max` characters of `text` with every control, bidi and line-separator character written visibly. */
export const printable = (text: string, max = 1000): string => Untrusted.quote(text, max)

/**
 * Every problem of a parse error (at most 20), each as `{ path, message }`: no value quoted past a short excerpt,
 * each message one line of at most 300 characters, nothing a terminal would obey.
 */
export const issues = (
  error: ParseResult.ParseError
): ReadonlyArray<{ readonly path: string; readonly message: string }> => Untrusted.describeParseIssues(error, 20)

/**
 * Every problem, by its path. A union reports each of its members: the `undefined` of an optional field and the
 * `false` of `rateLimit` are left out when another member has something more useful to say.
 */
export const formatIssues = (error: ParseResult.ParseError): string => {
  // Bounded: Effect's own formatting quotes the offending value in full, and overflows the stack on a deep one.
  const found = issues(error)
  return found
    .filter((issue) =>
      !(/^Expected (undefined|false), actual/.test(issue.message) &&
        found.some((other) =>
          other !== issue && (other.path === issue.path || other.path.startsWith(`${issue.path}.`))
        ))
    )
    .map((issue) => `${issue.path === "" ? "options" : issue.path}: ${issue.message}`)
    .join("; ")
}

/** Where a JSON text stops being JSON: 1-based line and column, and what went wrong in words that quote nothing. */
export interface SyntaxErrorPosition {
  readonly line: number
  readonly column: number
  readonly problem: string
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"])
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y

/**
 * The first syntax error of a text that `JSON.parse` refuses, found by a scan of its own (without recursion, so
 * any nesting depth is fine), or `undefined` if the scan finds none. The message of `JSON.parse` is not used: it
 * quotes the text near the error, which in a configuration file may be a secret.
 */
export const jsonSyntaxError = (text: string): SyntaxErrorPosition | undefined => {
  let i = 0
  const at = (problem: string): SyntaxErrorPosition => {
    const before = text.slice(0, i)
    return { line: before.split("\n").length, column: i - (before.lastIndexOf("\n") + 1) + 1, problem }
  }
  const skip = () => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++
  }
  const string = (): SyntaxErrorPosition | undefined => {
    i++
    while (i < text.length && text[i] !== "\"") {
      if (text.charCodeAt(i) < 0x20) return at("a control character inside a string")
      if (text[i] === "\\") {
        i++
        if (text[i] === "u") {
          if (!/^[0-9A-Fa-f]{4}$/.test(text.slice(i + 1, i + 5))) return at("an invalid \\u escape")
          i += 4
        } else if (i >= text.length || !"\"\\/bfnrt".includes(text[i]!)) {
          return at("an invalid escape")
        }
      }
      i++
    }
    if (i >= text.length) return at("a string that is not closed")
    i++
    return undefined
  }
  /** A key and its colon, at `i` after the whitespace. */
  const key = (): SyntaxErrorPosition | undefined => {
    if (text[i] !== "\"") return at(i >= text.length ? "the text ends inside an object" : "a missing key")
    const error = string()
    if (error !== undefined) return error
    skip()
    if (text[i] !== ":") return at("a missing ':' after a key")
    i++
    return undefined
  }
  /** A string, number or literal at `i`. */
  const scalar = (): SyntaxErrorPosition | undefined => {
    if (text[i] === "\"") return string()
    NUMBER.lastIndex = i
    const number = NUMBER.exec(text)
    if (number !== null) {
      i += number[0].length
      return undefined
    }
    const literal = ["true", "false", "null"].find((word) => text.startsWith(word, i))
    if (literal !== undefined) {
      i += literal.length
      return undefined
    }
    return at(i >= text.length ? "the text ends where a value is expected" : "an unexpected character")
  }
  /** The open arrays and objects, innermost last. */
  const stack: Array<"[" | "{"> = []
  skip()
  if (i >= text.length) return at("the file is empty")
  for (;;) {
    // A value is expected at `i`.
    skip()
    const c = text[i]
    if (c === "[" || c === "{") {
      i++
      skip()
      const empty = text[i] === (c === "[" ? "]" : "}")
      if (empty) {
        i++
      } else {
        stack.push(c)
        if (c === "{") {
          const error = key()
          if (error !== undefined) return error
        }
        continue
      }
    } else {
      const error = scalar()
      if (error !== undefined) return error
    }
    // After a value: a comma, a closing bracket, or the end.
    for (;;) {
      skip()
      const open = stack[stack.length - 1]
      if (open === undefined) return i < text.length ? at("more text after the JSON value") : undefined
      const close = open === "[" ? "]" : "}"
      if (text[i] === close) {
        stack.pop()
        i++
        continue
      }
      if (text[i] !== ",") {
        return at(i >= text.length ? "the text ends before a closing bracket" : `a missing ',' or '${close}'`)
      }
      i++
      skip()
      if (open === "{") {
        const error = key()
        if (error !== undefined) return error
      }
      break
    }
  }
}
