import * as Terminal from "@effect/platform/Terminal"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as CliError from "../src/CliError.js"
import { runInProcess } from "./utils/inProcess.js"

/** A terminal whose user presses Enter at every question, and what the prompts displayed. */
const pressingEnter = (displayed: Array<string>): Terminal.Terminal => ({
  columns: Effect.succeed(80),
  rows: Effect.succeed(24),
  isTTY: Effect.succeed(true),
  readInput: Effect.gen(function*() {
    const mailbox = yield* Mailbox.make<Terminal.UserInput>()
    const enter: Terminal.UserInput = {
      input: Option.none(),
      key: { name: "return", ctrl: false, meta: false, shift: false }
    }
    yield* mailbox.offerAll(Array.from({ length: 100 }, () => enter))
    return mailbox
  }),
  readLine: Effect.succeed(""),
  display: (text) => Effect.sync(() => void displayed.push(text))
})

describe("--wizard", () => {
  it.live("Enter through dispatch's questions sets no yes/no flag and offers --type and --region as choices", () =>
    Effect.gen(function*() {
      const displayed: Array<string> = []
      const result = yield* runInProcess(["dispatch", "--wizard"], {}, { terminal: pressingEnter(displayed) })
      const command = result.console.split("\n").find((line) => line.includes("zego-rtmp dispatch --type"))
      assert.isDefined(command, result.console)
      for (const flag of ["--v1", "--json", "--test-env"]) assert.notInclude(command, flag)
      assert.include(command, "--type push")
      // The questions: --type and --region as lists of their values, a yes/no flag as "use the default (false)?".
      const screens = CliError.stripAnsi(displayed.join(""))
      for (const value of ["pull", "publish", "unified", "sgp"]) assert.include(screens, value)
      assert.include(screens, "use the default (false)")
    }))
})
