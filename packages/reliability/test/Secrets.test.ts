/**
 * Secrets in the CLI: a real secret given through the environment appears in none of `zego-rtmp`'s output,
 * on success, on every kind of failure, and with debug logging on.
 */
import { Emulator, Fault } from "@effect-zego/emulator"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { figures, save } from "./figures.js"

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../cli/dist/bin.js")
const app: Emulator.AppConfig = { appId: 777001, serverSecret: Redacted.make("c0ffee5ecre7c0ffee5ecre7c0ffee5e") }
const secret = Redacted.value(app.serverSecret)

afterAll(() => save("secrets"))

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.async<{ code: number | null; output: string }>((resume) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("ZEGO_")))
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, NO_COLOR: "1", ...env } })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    // Only a guard against a hang, sized for a busy machine: every outcome is asserted from what the process did.
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.on("close", (code) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code, output }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

describe("secrets in the CLI", () => {
  it.live("no output of zego-rtmp shows the server secret", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ apps: [app] })
      yield* emulator.addFault({ fault: Fault.code(1010), streamId: "^limited$" })
      yield* emulator.addFault({ fault: Fault.httpStatus(503), streamId: "^down$" })
      yield* emulator.addFault({ fault: Fault.reset, streamId: "^reset$" })
      const env = {
        ZEGO_APP_ID: String(app.appId),
        ZEGO_SERVER_SECRET: secret,
        ZEGO_BASE_URL: emulator.baseUrl
      }
      const runs = [
        { args: ["dispatch", "--type", "push", "--stream-id", "ok"], env, code: 0 },
        { args: ["dispatch", "--type", "pull", "--stream-id", "ok", "--json"], env, code: 0 },
        { args: ["--log-level", "debug", "dispatch", "--type", "push", "--stream-id", "ok", "--v1"], env, code: 0 },
        { args: ["dispatch", "--type", "push", "--stream-id", "limited"], env, code: 1 },
        { args: ["dispatch", "--type", "push", "--stream-id", "down"], env, code: 1 },
        { args: ["dispatch", "--type", "push", "--stream-id", "reset"], env, code: 1 },
        { args: ["dispatch", "--type", "push", "--stream-id", "bad id!"], env, code: 2 },
        {
          args: ["--log-level", "debug", "dispatch", "--type", "push", "--stream-id", "ok"],
          env: { ...env, ZEGO_SERVER_SECRET: `${secret}-wrong` },
          code: 1
        },
        {
          args: ["dispatch", "--type", "push", "--stream-id", "ok", "--base-url", "http://198.51.100.1"],
          env,
          code: 2
        },
        { args: ["dispatch", "--type", "push", "--stream-id", "ok"], env: { ...env, ZEGO_APP_ID: "x" }, code: 2 }
      ]
      // A few at a time: the failing runs spend most of their time waiting out the CLI's back-off.
      const results = yield* Effect.forEach(runs, (run) => cli(run.args, run.env), { concurrency: 3 })
      for (const [run, result] of runs.map((run, i) => [run, results[i]!] as const)) {
        figures.requests++
        assert.strictEqual(result.code, run.code, `${run.args.join(" ")}: ${result.output}`)
        assert.notInclude(result.output, secret, run.args.join(" "))
        assert.notInclude(result.output, secret.slice(0, 16), run.args.join(" "))
      }
    }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)), Effect.scoped), { timeout: 180_000 })
})
