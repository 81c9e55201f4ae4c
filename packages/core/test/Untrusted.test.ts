import { Untrusted } from "@effect-zego/core"
import { assert, describe, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"

const deep = (depth: number): unknown => {
  let value: unknown = "x"
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value }
  return value
}

describe("Untrusted", () => {
  it.prop("an excerpt of any value is short, one line, and shows no character a terminal obeys", [
    FastCheck.oneof(
      FastCheck.anything(),
      FastCheck.fullUnicodeString(),
      FastCheck.integer({ min: 0, max: 20_000 }).map(deep)
    ),
    FastCheck.integer({ min: 8, max: 200 })
  ], ([value, max]) => {
    const text = Untrusted.excerpt(value, max)
    assert.isAtMost(text.length, max)
    assert.isFalse(Untrusted.hasUnsafeCharacters(text))
  })

  it.prop(
    "escapeText leaves no unsafe character and changes safe text not at all",
    [FastCheck.fullUnicodeString()],
    ([text]) => {
      const escaped = Untrusted.escapeText(text)
      assert.isFalse(Untrusted.hasUnsafeCharacters(escaped))
      if (!Untrusted.hasUnsafeCharacters(text)) assert.strictEqual(escaped, text)
    }
  )

  it("escapes ESC, C1, bidi overrides and newlines visibly", () => {
    assert.strictEqual(Untrusted.escapeText("a\u001b[2Kb\u009bc\u202ed\ne"), "a\\x1b[2Kb\\x9bc\\u202ed\\ne")
  })

  it("describes a parse error of a value 10 000 levels deep in one short line, with its path", () => {
    const schema = Schema.Struct({ nodes: Schema.Array(Schema.String) })
    const result = Schema.decodeUnknownEither(schema)({ nodes: ["ok", deep(10_000)] })
    assert.strictEqual(result._tag, "Left")
    if (result._tag !== "Left") return
    const { message, path } = Untrusted.describeParseError(result.left)
    assert.strictEqual(path, "nodes.1")
    assert.match(message, /^Expected string, actual /)
    assert.isAtMost(message.length, 300)
  })

  it("keeps a message annotation that reads the real value", () => {
    const Short = Schema.String.pipe(
      Schema.filter((s) => s.length < 3, { message: (i) => `got ${String(i.actual).length}` })
    )
    const result = Schema.decodeUnknownEither(Short)("x".repeat(500))
    assert.strictEqual(result._tag === "Left" && Untrusted.describeParseError(result.left).message, "got 500")
  })
})
