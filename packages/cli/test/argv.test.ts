import { Emulator } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
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

  it("emulator --room: a missing, empty or too long room id, or one with spaces at its ends, is refused as typed", () => {
    const refused = (args: ReadonlyArray<string>) => {
      const result = prepare(["emulator", ...args])
      assert.isTrue(Either.isLeft(result), args.join(" "))
      return Either.isLeft(result) ? result.left : ""
    }
    assert.strictEqual(refused(["--room"]), "--room needs a room id")
    assert.match(
      refused(["--room", ""]),
      /^--room takes a room id of 1 to 127 bytes without spaces at its ends, not ""$/
    )
    assert.match(refused(["--room", "lobby", "--room", " stage"]), /not " stage"$/)
    assert.match(refused(["--room", "   "]), /not " {3}"$/)
    // 128 bytes: as many ASCII characters, or 64 two-byte ones; only the start of a long value is quoted.
    assert.match(refused(["--room", "r".repeat(128)]), /not "r{40}"…$/)
    refused(["--room", "é".repeat(64)])
    assert.deepStrictEqual(
      prepare(["emulator", "--room", "r".repeat(127), "--room", "é".repeat(63)]),
      Either.right(["emulator", "--room", "r".repeat(127), "--room", "é".repeat(63)])
    )
    // Another command's line is not the emulator's.
    assert.isTrue(Either.isRight(prepare(["room", "streams", "--room-id", "lobby"])))
  })

  it("emulator --room accepts a room id exactly when the emulator's configuration does (spaces at the ends aside)", () => {
    // As in a configuration file: the schema's encoded side, on which the apps are optional.
    const decode = Schema.decodeUnknownEither(Emulator.OptionsSchema)
    const emulatorTakes = (options: unknown) => Either.isRight(decode(options))
    FastCheck.assert(
      FastCheck.property(FastCheck.string({ unit: "grapheme", maxLength: 140 }), (roomId) => {
        const cliTakes = Either.isRight(prepare(["emulator", "--room", roomId]))
        assert.strictEqual(cliTakes, roomId.trim() === roomId && emulatorTakes({ rooms: [roomId] }), roomId)
      })
    )
  })
})
