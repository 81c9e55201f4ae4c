/**
 * A strict JSON parser (RFC 8259 grammar) that keeps every number as its source text, so that a
 * `room_session_id` such as 858012925204410400 keeps every digit. `JSON.parse` rounds it to a double.
 *
 * Bounded for untrusted input: the nesting depth and the number of values are capped (the recursion is no deeper
 * than `maxDepth`, so a 3 000-deep body fails early instead of overflowing the stack), a duplicate key is refused
 * (two `nonce`s would let two readers disagree), and objects are `Map`s, so `__proto__` is just a key.
 */
import * as Either from "effect/Either"

/** A string, a number (its text as written) or `true` / `false` / `null` (their text). */
export interface Scalar {
  readonly _tag: "String" | "Number" | "Literal"
  readonly text: string
}

export interface ArrayValue {
  readonly _tag: "Array"
  readonly items: ReadonlyArray<Value>
  /** The array's exact source text. */
  readonly source: string
}

export interface ObjectValue {
  readonly _tag: "Object"
  readonly members: ReadonlyMap<string, Value>
  /** The object's exact source text. */
  readonly source: string
}

export type Value = Scalar | ArrayValue | ObjectValue

export interface Limits {
  /** The deepest nesting of objects and arrays (the top-level object is 1). */
  readonly maxDepth: number
  /** The most values (scalars, arrays and objects) in the whole text. */
  readonly maxValues: number
}

/** Why the text is refused, in our words (an offset, never the text). */
class Failure {
  constructor(readonly reason: string) {}
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y
const HEX4 = /^[0-9a-fA-F]{4}$/
const ESCAPES: Record<string, string> = {
  "\"": "\"",
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t"
}

class Parser {
  private pos = 0
  private values = 0
  constructor(private readonly text: string, private readonly limits: Limits) {}

  private fail(what: string): never {
    throw new Failure(`${what} at offset ${this.pos}`)
  }

  private skipWhitespace(): void {
    const text = this.text
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return
      this.pos++
    }
  }

  private count(): void {
    if (++this.values > this.limits.maxValues) this.fail(`more than ${this.limits.maxValues} values`)
  }

  document(): Value {
    this.skipWhitespace()
    const value = this.value(1)
    this.skipWhitespace()
    if (this.pos !== this.text.length) this.fail("unexpected text after the JSON value")
    return value
  }

  private value(depth: number): Value {
    this.count()
    const c = this.text[this.pos]
    if (c === "{" || c === "[") {
      if (depth > this.limits.maxDepth) this.fail(`nested deeper than ${this.limits.maxDepth} levels`)
      return c === "{" ? this.object(depth) : this.array(depth)
    }
    if (c === "\"") return { _tag: "String", text: this.string() }
    for (const literal of ["true", "false", "null"]) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length
        return { _tag: "Literal", text: literal }
      }
    }
    NUMBER.lastIndex = this.pos
    const match = NUMBER.exec(this.text)
    if (match === null) return this.fail(c === undefined ? "unexpected end" : "unexpected character")
    this.pos += match[0].length
    return { _tag: "Number", text: match[0] }
  }

  private object(depth: number): ObjectValue {
    const start = this.pos++
    const members = new Map<string, Value>()
    this.skipWhitespace()
    if (this.text[this.pos] === "}") {
      this.pos++
      return { _tag: "Object", members, source: this.text.slice(start, this.pos) }
    }
    while (true) {
      this.skipWhitespace()
      if (this.text[this.pos] !== "\"") this.fail("expected a key")
      const key = this.string()
      if (members.has(key)) this.fail("duplicate key")
      this.skipWhitespace()
      if (this.text[this.pos] !== ":") this.fail("expected ':'")
      this.pos++
      this.skipWhitespace()
      members.set(key, this.value(depth + 1))
      this.skipWhitespace()
      const next = this.text[this.pos++]
      if (next === "}") return { _tag: "Object", members, source: this.text.slice(start, this.pos) }
      if (next !== ",") {
        this.pos--
        this.fail("expected ',' or '}'")
      }
    }
  }

  private array(depth: number): ArrayValue {
    const start = this.pos++
    const items: Array<Value> = []
    this.skipWhitespace()
    if (this.text[this.pos] === "]") {
      this.pos++
      return { _tag: "Array", items, source: this.text.slice(start, this.pos) }
    }
    while (true) {
      this.skipWhitespace()
      items.push(this.value(depth + 1))
      this.skipWhitespace()
      const next = this.text[this.pos++]
      if (next === "]") return { _tag: "Array", items, source: this.text.slice(start, this.pos) }
      if (next !== ",") {
        this.pos--
        this.fail("expected ',' or ']'")
      }
    }
  }

  /** A string token from its opening quote: its value, escapes resolved; raw control characters refused. */
  private string(): string {
    const text = this.text
    let pos = this.pos + 1
    let out = ""
    let from = pos
    while (true) {
      if (pos >= text.length) {
        this.pos = pos
        this.fail("unterminated string")
      }
      const c = text.charCodeAt(pos)
      if (c === 0x22) {
        out += text.slice(from, pos)
        this.pos = pos + 1
        return out
      }
      if (c < 0x20) {
        this.pos = pos
        this.fail("control character in a string")
      }
      if (c !== 0x5c) {
        pos++
        continue
      }
      out += text.slice(from, pos)
      const escape = text[pos + 1]
      if (escape === "u") {
        const hex = text.slice(pos + 2, pos + 6)
        if (!HEX4.test(hex)) {
          this.pos = pos
          this.fail("invalid \\u escape")
        }
        out += String.fromCharCode(parseInt(hex, 16))
        pos += 6
      } else {
        const resolved = escape === undefined ? undefined : ESCAPES[escape]
        if (resolved === undefined) {
          this.pos = pos
          this.fail("invalid escape")
        }
        out += resolved
        pos += 2
      }
      from = pos
    }
  }
}

/** Parses `text` as one JSON value: the value, or why not (a short reason with an offset, never the text). */
export const parse = (text: string, limits: Limits): Either.Either<Value, string> => {
  try {
    return Either.right(new Parser(text, limits).document())
  } catch (error) {
    // A RangeError (a string too long to build) is still only a refused text.
    return Either.left(error instanceof Failure ? error.reason : "could not be parsed")
  }
}
