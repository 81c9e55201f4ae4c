/**
 * Values from outside (a server's answer, a caller's input, a config file) made safe to quote: a short, flat
 * excerpt for messages, parse errors described without formatting the whole offending value, and text escaped so
 * that a terminal shows it instead of obeying it.
 *
 * Effect's own formatters print a failed value in full and recursively: a body nested 3 000 levels deep overflows
 * the stack, and a long one floods the log. Every message of this library goes through here instead.
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"

/** Characters a terminal obeys instead of showing: C0 and C1 controls, DEL, bidi controls, line separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g")

/**
 * Whether `text` holds a character that a terminal would obey (a control, a bidi override, a line separator).
 *
 * @example
 * ```ts
 * import { Untrusted } from "@effect-zego/core"
 *
 * assert.strictEqual(Untrusted.hasUnsafeCharacters("rtmp://host/live/s1"), false)
 * assert.strictEqual(Untrusted.hasUnsafeCharacters("s1\u202e4pm.exe"), true)
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const hasUnsafeCharacters = (text: string): boolean => UNSAFE.test(text)

/**
 * `text` with every unsafe character written visibly (`\x1b`, `\n`, `\u202e`), so a terminal shows it as it is.
 *
 * @example
 * ```ts
 * import { Untrusted } from "@effect-zego/core"
 *
 * assert.strictEqual(Untrusted.escapeText("a\nb\u001b[2J"), "a\\nb\\x1b[2J")
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const escapeText = (text: string): string =>
  text.replace(UNSAFE_ALL, (c) => {
    const code = c.charCodeAt(0)
    if (c === "\n") return "\\n"
    if (c === "\r") return "\\r"
    if (c === "\t") return "\\t"
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
  })

/**
 * A string from outside, for a message or a terminal line: escaped as {@link escapeText} does, at most `max`
 * characters, ending in `…` when it was cut (the text is cut before it is escaped, so a huge one costs little).
 *
 * @example
 * ```ts
 * import { Untrusted } from "@effect-zego/core"
 *
 * assert.strictEqual(Untrusted.quote("hello world", 6), "hello…")
 * assert.strictEqual(Untrusted.quote("ok", 6), "ok")
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const quote = (text: string, max: number): string => {
  const escaped = escapeText(text.length > max ? text.slice(0, max) : text)
  return escaped.length > max || text.length > max ? `${escaped.slice(0, max - 1)}…` : escaped
}

const MAX_DEPTH = 2
const MAX_ITEMS = 3
const MAX_STRING = 40

const jsonString = (text: string): string =>
  JSON.stringify(text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text)

/** A bounded rendering of a value: a few levels, a few items, short strings; never throws, never recurses deep. */
const render = (value: unknown, depth: number): string => {
  switch (typeof value) {
    case "string":
      return jsonString(value)
    case "number":
    case "boolean":
    case "undefined":
      return String(value)
    case "bigint":
      return `${value}n`
    case "symbol":
      return "<symbol>"
    case "function":
      return "<function>"
  }
  if (value === null) return "null"
  try {
    if (Array.isArray(value)) {
      if (depth >= MAX_DEPTH) return value.length === 0 ? "[]" : "[…]"
      const items = value.slice(0, MAX_ITEMS).map((item) => render(item, depth + 1))
      return `[${items.join(",")}${value.length > MAX_ITEMS ? ",…" : ""}]`
    }
    const keys = Object.keys(value as object)
    if (depth >= MAX_DEPTH) return keys.length === 0 ? "{}" : "{…}"
    const entries = keys.slice(0, MAX_ITEMS).map((key) => {
      let item: string
      try {
        item = render((value as Record<string, unknown>)[key], depth + 1)
      } catch {
        item = "<unreadable>"
      }
      return `${jsonString(key)}:${item}`
    })
    return `{${entries.join(",")}${keys.length > MAX_ITEMS ? ",…" : ""}}`
  } catch {
    // A Proxy whose traps throw, a getter that throws: say so rather than fail.
    return "<unreadable>"
  }
}

/**
 * A short, flat excerpt of any value, for a message: at most `maxLength` characters, one line, nothing obeyed.
 *
 * @example
 * ```ts
 * import { Untrusted } from "@effect-zego/core"
 *
 * const text = Untrusted.excerpt({ Code: 0, Data: ["rtmp://host/live/s1"] }, 30)
 * assert.ok(text.length <= 30 && !text.includes("\n"))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const excerpt = (value: unknown, maxLength = 80): string => {
  const text = escapeText(render(value, 0))
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text
}

/** A stand-in for a failed value: Effect's formatter prints it through `toString`, which gives the excerpt. */
class Excerpt {
  constructor(readonly text: string) {}
  toString() {
    return this.text
  }
}

/**
 * The same issue with every value that a message would quote replaced by its excerpt. Only `Type` leaves quote
 * their value (`Expected …, actual …`); primitives that print short are kept as they are, so that message
 * annotations reading them still see the real value. The issue tree is as deep as the schema, not as the value.
 */
const boundIssue = (issue: ParseResult.ParseIssue): ParseResult.ParseIssue => {
  switch (issue._tag) {
    case "Type": {
      const actual = issue.actual
      const short = actual === null || (typeof actual !== "object" && typeof actual !== "function" &&
        (typeof actual !== "string" || (actual.length <= MAX_STRING && !hasUnsafeCharacters(actual))))
      return short ? issue : new ParseResult.Type(issue.ast, new Excerpt(excerpt(actual)), issue.message)
    }
    case "Pointer":
      return new ParseResult.Pointer(issue.path, issue.actual, boundIssue(issue.issue))
    case "Refinement":
      return new ParseResult.Refinement(issue.ast, issue.actual, issue.kind, boundIssue(issue.issue))
    case "Transformation":
      return new ParseResult.Transformation(issue.ast, issue.actual, issue.kind, boundIssue(issue.issue))
    case "Composite":
      return new ParseResult.Composite(
        issue.ast,
        issue.actual,
        Array.isArray(issue.issues)
          ? (issue.issues as ReadonlyArray<ParseResult.ParseIssue>).map(boundIssue) as [
            ParseResult.ParseIssue,
            ...Array<ParseResult.ParseIssue>
          ]
          : boundIssue(issue.issues as ParseResult.ParseIssue),
        issue.output
      )
    default:
      return issue
  }
}

const MAX_MESSAGE = 300

/**
 * Every problem of a parse error (at most `maxIssues`), each as `{ path, message }` (path `""` at the top): no value
 * is quoted past a short excerpt, and each message is one line of at most 300 characters.
 *
 * @example
 * ```ts
 * import { Params, Untrusted } from "@effect-zego/core"
 * import * as Either from "effect/Either"
 * import * as Schema from "effect/Schema"
 *
 * const result = Schema.decodeUnknownEither(Params.DispatchRequest)({ streamId: "", type: "sideways" })
 * if (Either.isLeft(result)) {
 *   for (const { message, path } of Untrusted.describeParseIssues(result.left)) console.log(`${path}: ${message}`)
 * }
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const describeParseIssues = (
  error: ParseResult.ParseError | ParseResult.ParseIssue,
  maxIssues = 20
): ReadonlyArray<{ readonly path: string; readonly message: string }> => {
  const issue = "issue" in error && error._tag === "ParseError" ? error.issue : error as ParseResult.ParseIssue
  let all: ReadonlyArray<ParseResult.ArrayFormatterIssue>
  try {
    all = ParseResult.ArrayFormatter.formatIssueSync(boundIssue(issue))
  } catch {
    // A message annotation that throws: say where, at least.
    all = [{ _tag: issue._tag, path: [], message: "is invalid" }]
  }
  return all.slice(0, Math.max(1, maxIssues)).map((item) => ({
    path: item.path.map((key) => quote(String(key), 40)).join("."),
    message: quote(item.message, MAX_MESSAGE)
  }))
}

/**
 * The first problem of a parse error, as {@link describeParseIssues} describes it.
 *
 * @example
 * ```ts
 * import { Params, Untrusted } from "@effect-zego/core"
 * import * as Either from "effect/Either"
 * import * as Schema from "effect/Schema"
 *
 * const result = Schema.decodeUnknownEither(Params.DispatchRequest)({ streamId: "s1", type: "sideways" })
 * assert.ok(Either.isLeft(result))
 * assert.strictEqual(Untrusted.describeParseError(result.left).path, "type")
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const describeParseError = (
  error: ParseResult.ParseError | ParseResult.ParseIssue
): { readonly path: string; readonly message: string } =>
  describeParseIssues(error, 1)[0] ?? { path: "", message: "is invalid" }
