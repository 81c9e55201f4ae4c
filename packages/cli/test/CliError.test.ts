import { Untrusted, ZegoError } from "@effect-zego/core"
import { EmulatorError } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as CliError from "../src/CliError.js"

const server = ZegoError.fromCode({ code: 1002, serverMessage: "no node", requestId: "42", action: "RTMPDispatchV2" })

describe("CliError", () => {
  it("exit status 2 for invalid input, 1 for the rest", () => {
    const invalid = [
      new ZegoError.InvalidRequestError({ parameter: "streamId", detail: "bad" }),
      new CliError.MissingCredentialsError({ missing: ["ZEGO_APP_ID"], because: "x", otherwise: "y" }),
      ConfigError.InvalidData(["ZEGO_APP_ID"], "not a number"),
      new EmulatorError.ConfigFileError({ path: "f", reason: "Parse", detail: "d" }),
      new EmulatorError.InvalidOptionsError({ detail: "d" })
    ]
    for (const error of invalid) assert.strictEqual(CliError.exitCode(Cause.fail(error)), 2, String(error))
    const other = [
      server,
      new ZegoError.TransportError({ action: "RTMPDispatch", reason: "Timeout", detail: "d", retryable: true }),
      new EmulatorError.StartError({ host: "127.0.0.1", port: 1, detail: "taken" })
    ]
    for (const error of other) assert.strictEqual(CliError.exitCode(Cause.fail(error)), 1, String(error))
    assert.strictEqual(CliError.exitCode(Cause.die(new Error("bug"))), 1)
  })

  it("interrupted: 130 for SIGINT, 143 for SIGTERM, 1 without a signal; 0 for the emulator, a server", () => {
    const interrupted = Cause.interrupt("fiber" as never)
    assert.strictEqual(CliError.exitCode(interrupted, { command: "dispatch", signal: "SIGINT" }), 130)
    assert.strictEqual(CliError.exitCode(interrupted, { command: "dispatch", signal: "SIGTERM" }), 143)
    assert.strictEqual(CliError.exitCode(interrupted, { signal: "SIGINT" }), 130)
    assert.strictEqual(CliError.exitCode(interrupted, { command: "dispatch" }), 1)
    assert.strictEqual(CliError.exitCode(interrupted, { command: "emulator", signal: "SIGINT" }), 0)
    assert.strictEqual(CliError.exitCode(interrupted, { command: "emulator", signal: "SIGTERM" }), 0)
  })

  it("describes a ZEGO error in one line with its tag, code, request id and hint", () => {
    assert.strictEqual(
      CliError.describe(server),
      "NoPublishNodeError: ZEGO code 1002 (no node) from RTMPDispatchV2, RequestId 42. No publish node is " +
        "available: contact ZEGOCLOUD support with the RequestId."
    )
  })

  it("folds paragraphs and line breaks into one line without colours", () => {
    assert.strictEqual(CliError.oneLine("\u001b[1ma\u001b[0m\nb\n\nc\n"), "a b; c")
  })

  it("escapes what a server sent: no line break, escape sequence or bidi override reaches the terminal", () => {
    const hostile = ZegoError.fromCode({
      code: 1005,
      serverMessage: "down\n\u001b[31mFORGED\u2028\u202e",
      requestId: "7\u009b2J",
      action: "RTMPDispatchV2"
    })
    const line = CliError.describe(hostile)
    assert.include(line, "down\\n\\x1b[31mFORGED\\u2028\\u202e")
    assert.include(line, "RequestId 7\\x9b2J")
    assert.isFalse(Untrusted.hasUnsafeCharacters(line))
  })

  it("bounds a long line, keeping its start and its end", () => {
    // The core's messages are already short; the line is bounded whatever an error's message holds.
    const line = CliError.safeLine(`AppNotOnlineError: ZEGO code 1005 (${"x".repeat(100_000)}) RequestId 42`)
    assert.isAtMost(line.length, CliError.MAX_LINE + 40)
    assert.match(line, /^AppNotOnlineError: ZEGO code 1005/)
    assert.include(line, "characters left out")
    assert.include(line, "RequestId 42")
  })

  it("an interruption: no line for the emulator (it says it stopped), the signal for another command", () => {
    assert.isTrue(CliError.describeCause(Cause.interrupt("fiber" as never), "emulator", "SIGINT")._tag === "None")
    const line = CliError.describeCause(Cause.interrupt("fiber" as never), "dispatch", "SIGTERM")
    assert.match(Option.getOrThrow(line), /^zego-rtmp dispatch: interrupted by SIGTERM before it was done/)
    const forbid = CliError.describeCause(Cause.interrupt("fiber" as never), "stream forbid", "SIGINT")
    assert.strictEqual(
      Option.getOrThrow(forbid),
      "zego-rtmp stream forbid: interrupted by SIGINT before it was done; nothing was printed (the request may have " +
        "reached the server and taken effect)."
    )
  })

  it("reports a defect as a bug", () => {
    const defect = CliError.describeCause(Cause.die(new TypeError("x is undefined")))
    assert.deepStrictEqual(defect._tag === "Some" && defect.value.startsWith("Unexpected defect"), true)
  })

  it.effect("a missing secret variable is said to be not set, never <redacted>", () =>
    Effect.gen(function*() {
      // The error Effect's own Config.redacted gives for a missing variable: its message is "<redacted>".
      const error = yield* Effect.flip(
        Config.all([Config.redacted("ZEGO_SERVER_SECRET"), Config.string("ZEGO_BASE_URL")]).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
        )
      )
      const line = CliError.describe(error)
      assert.match(line, /^ConfigError: ZEGO_SERVER_SECRET is not set; ZEGO_BASE_URL is not set\. Check the ZEGO_\*/)
      assert.notInclude(line, "redacted")
    }))

  it("prints an error's tag once, whether or not its message starts with it", () => {
    class Boom extends Data.TaggedError("Boom")<{ readonly message: string }> {}
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [new Boom({ message: "Boom: it broke" }), "Boom: it broke"],
      [new Boom({ message: "it broke" }), "Boom: it broke"],
      [new RangeError("RangeError: out of range"), "RangeError: out of range"],
      [new RangeError("out of range"), "RangeError: out of range"],
      ["Error: a thrown string", "Error: a thrown string"]
    ]
    for (const [error, line] of cases) {
      assert.strictEqual(CliError.describe(error), line)
      assert.strictEqual(
        Option.getOrThrow(CliError.describeCause(Cause.die(error))),
        `Unexpected defect (a bug in zego-rtmp, please report it): ${line}`
      )
    }
  })

  it("names the flag or variable an InvalidRequestError is about", () => {
    const line = (parameter: string) =>
      CliError.describe(new ZegoError.InvalidRequestError({ parameter, detail: "bad" }), "dispatch")
    assert.strictEqual(
      line("streamId"),
      "InvalidRequestError: --stream-id: bad (nothing was sent). See zego-rtmp dispatch --help."
    )
    assert.match(line("extraInfo"), /^InvalidRequestError: --extra-info: bad/)
    assert.match(line("rateLimit.window"), /^InvalidRequestError: ZEGO_RATE_LIMIT_WINDOW: bad/)
    assert.match(line("somethingElse"), /^InvalidRequestError: somethingElse: bad/)
  })
})
