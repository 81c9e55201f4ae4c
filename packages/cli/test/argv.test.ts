import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Argv from "../src/internal/argv.js"

const prepare = (args: ReadonlyArray<string>, stdinIsTerminal = true) => Argv.prepare(args, { stdinIsTerminal })

describe("Argv.prepare", () => {
  it("--help or -h anywhere: the subcommand's path and --help alone", () => {
    assert.deepStrictEqual(prepare(["dispatch", "--type", "push", "--help"]), Either.right(["dispatch", "--help"]))
    assert.deepStrictEqual(prepare(["stream", "state", "-h", "--json"]), Either.right(["stream", "state", "--help"]))
    assert.deepStrictEqual(prepare(["--log-level", "debug", "-h"]), Either.right(["--help"]))
  })

  it("--log-level anywhere moves to the front, in either spelling; the rest keeps its order", () => {
    assert.deepStrictEqual(
      prepare(["dispatch", "--type", "push", "--log-level", "debug", "--stream-id", "x"]),
      Either.right(["--log-level", "debug", "dispatch", "--type", "push", "--stream-id", "x"])
    )
    assert.deepStrictEqual(
      prepare(["room", "withdraw", "--log-level=trace"]),
      Either.right(["--log-level", "trace", "room", "withdraw"])
    )
    // Without a value it stays where it is, for @effect/cli to report.
    assert.deepStrictEqual(prepare(["dispatch", "--log-level"]), Either.right(["dispatch", "--log-level"]))
  })

  it("--wizard: refused without a terminal on stdin, passed on with one", () => {
    assert.deepStrictEqual(prepare(["dispatch", "--wizard"], false), Either.left(Argv.wizardNeedsTerminal))
    assert.deepStrictEqual(prepare(["--wizard"], true), Either.right(["--wizard"]))
    assert.deepStrictEqual(prepare(["dispatch", "--type", "push"], false), Either.right(["dispatch", "--type", "push"]))
  })
})
