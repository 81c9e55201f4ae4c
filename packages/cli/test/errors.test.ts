import { Emulator, Fault } from "@effect-zego/emulator"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Net from "node:net"
import * as Bin from "./utils/bin.js"
import { type InProcessResult, runInProcess } from "./utils/inProcess.js"

/** Asserts a failed run: the exit status, nothing on stdout, one line on stderr matching every pattern. */
const assertFailure = (result: Bin.Result, code: 1 | 2, ...patterns: ReadonlyArray<RegExp>) => {
  assert.strictEqual(result.code, code, result.stderr)
  assert.strictEqual(result.stdout, "")
  const stderr = Bin.lines(result.stderr)
  assert.strictEqual(stderr.length, 1, `one line on stderr, got: ${result.stderr}`)
  for (const pattern of patterns) assert.match(stderr[0]!, pattern)
  return stderr[0]!
}

/** Asserts a failed run in the test's process: the exit status, one line matching every pattern. */
const assertFailed = (result: InProcessResult, code: 1 | 2, ...patterns: ReadonlyArray<RegExp>) => {
  assert.strictEqual(result.code, code, result.line)
  const line = result.line ?? ""
  assert.notInclude(line, "\n", "one line")
  for (const pattern of patterns) assert.match(line, pattern)
  return line
}

const push = (streamId: string, ...more: ReadonlyArray<string>) => [
  "dispatch",
  "--type",
  "push",
  "--stream-id",
  streamId,
  ...more
]

// One spawned case per kind of invalid input checks the bin's part (exit status 2, nothing on stdout, one line on
// stderr); the variants of each kind run in the test's process (utils/inProcess.ts), which gives the same status
// and line from the same teardown functions.
describe.concurrent("invalid input: exit status 2, one line, nothing started", () => {
  it.live("an invalid stream id is an InvalidRequestError", () =>
    Effect.gen(function*() {
      const result = yield* Bin.run(push("bad.id"))
      assertFailure(result, 2, /^InvalidRequestError: --stream-id: /, /nothing was sent/, /zego-rtmp dispatch --help/)
    }))

  it.live("an IPv6 client IP is an InvalidRequestError", () =>
    Effect.gen(function*() {
      assertFailed(
        yield* runInProcess(push("demo", "--client-ip", "::1")),
        2,
        /^InvalidRequestError: --client-ip: .*IPv4/
      )
    }))

  it.live("a bad flag value, a missing flag and an unknown command are ValidationErrors", () =>
    Effect.gen(function*() {
      const badType = yield* Bin.run(["dispatch", "--type", "sideways", "--stream-id", "demo"])
      assertFailure(
        badType,
        2,
        /^ValidationError \(InvalidValue\): --type must be one of push, pull, publish, not "sideways"/
      )
      const missing = yield* runInProcess(["dispatch", "--type", "push"])
      assertFailed(missing, 2, /^ValidationError \(MissingValue\): .*'--stream-id'/)
      assertFailed(yield* runInProcess(["dispatsh"]), 2, /^ValidationError/, /'dispatch', 'emulator'/)
      assertFailed(yield* runInProcess(push("demo", "extra")), 2, /^ValidationError .*'extra'/)
    }))

  it.live("a misspelt flag or command is answered with the nearest one, in one sentence", () =>
    Effect.gen(function*() {
      for (
        const [args, suggestion] of [
          [["dispatch", "--tpye", "push", "--stream-id", "demo"], "'--type'"],
          [["dispatch", "--type", "push", "--stream-id", "demo", "--jsn"], "'--json'"],
          [["dispach", "--type", "push"], "'dispatch'"]
        ] as const
      ) {
        const result = yield* runInProcess(args)
        const line = assertFailed(result, 2, /^ValidationError/)
        assert.include(line, `Did you mean ${suggestion}? See`)
        assert.notInclude(line, "?.")
      }
    }))

  it.live("--base-url without credentials names the variables to set", () =>
    Effect.gen(function*() {
      const result = yield* runInProcess(push("demo", "--base-url", "https://rtc-api.zego.im"))
      assertFailed(result, 2, /^MissingCredentialsError: --base-url is set/, /ZEGO_APP_ID and ZEGO_SERVER_SECRET/)
    }))

  it.live("half of the credentials names the other half, and the secret does not show", () =>
    Effect.gen(function*() {
      const secretOnly = yield* Bin.run(push("demo"), { env: { ZEGO_SERVER_SECRET: "topsecret-value" } })
      const line = assertFailure(secretOnly, 2, /ZEGO_SERVER_SECRET is set, but ZEGO_APP_ID is not set/)
      assert.notInclude(line, "topsecret")
    }))

  // The real bin with a malformed ZEGO_APP_ID: reliability's CliHostile.test.ts ("" and "0x10").
  it.live("a malformed ZEGO_APP_ID is a ConfigError", () =>
    Effect.gen(function*() {
      const env = { ZEGO_APP_ID: "twelve", ZEGO_SERVER_SECRET: "topsecret-value" }
      const line = assertFailed(yield* runInProcess(push("demo"), env), 2, /^ConfigError: .*ZEGO_APP_ID/)
      assert.notInclude(line, "topsecret")
    }))

  it.live("an http base URL off loopback is an InvalidRequestError", () =>
    Effect.gen(function*() {
      const remote = { ZEGO_APP_ID: "12", ZEGO_SERVER_SECRET: "topsecret-value" }
      const http = yield* runInProcess(push("demo", "--base-url", "http://example.com"), remote)
      assertFailed(http, 2, /^InvalidRequestError: --base-url or ZEGO_BASE_URL: must be https/)
    }))
})

// What a new user gets wrong first: each line names the flag or the variable to fix.
describe.concurrent("errors name the flag or variable", () => {
  it.live("--type, --region: the flag, its values and what was given", () =>
    Effect.gen(function*() {
      assertFailed(
        yield* runInProcess(push("demo", "--region", "mars")),
        2,
        /^ValidationError \(InvalidValue\): --region must be one of unified, sha, hkg, fra, lax, bom, sgp, not "mars"\./
      )
      assertFailed(
        yield* runInProcess(["stream", "state", "--stream-id", "demo", "--region=mars"]),
        2,
        /--region must be one of .*, not "mars"\. See zego-rtmp stream state --help\.$/
      )
      assertFailed(yield* runInProcess(["dispatch", "--type=up", "--stream-id", "demo"]), 2, /--type must be .*"up"/)
    }))

  it.live("a --sequence past Int64 (20 digits) names --sequence and the bound", () =>
    Effect.gen(function*() {
      const line = assertFailed(
        yield* runInProcess(push("demo", "--sequence", "99999999999999999999")),
        2,
        /^InvalidRequestError: --sequence: must fit in a non-negative Int64 \(at most 9223372036854775807\)/
      )
      assert.notInclude(line, "Expected number")
      assertFailed(yield* runInProcess(push("demo", "--sequence", "-1")), 2, /^InvalidRequestError: --sequence: /)
    }))

  it.live("ZEGO_APP_ID=-1 and a bad ZEGO_RATE_LIMIT or ZEGO_RATE_LIMIT_WINDOW: the variable, once", () =>
    Effect.gen(function*() {
      const secret = { ZEGO_SERVER_SECRET: "topsecret-value" }
      const appId = assertFailed(
        yield* runInProcess(push("demo"), { ...secret, ZEGO_APP_ID: "-1" }),
        2,
        /^ConfigError: ZEGO_APP_ID: Expected decimal digits only .*got "-1"\. Check the ZEGO_\* environment variables/
      )
      assert.strictEqual(appId.split("ZEGO_APP_ID:").length, 2, appId)
      const credentials = { ...secret, ZEGO_APP_ID: "12", ZEGO_BASE_URL: "http://127.0.0.1:9" }
      assertFailed(
        yield* runInProcess(push("demo"), { ...credentials, ZEGO_RATE_LIMIT: "lots" }),
        2,
        /^ConfigError: ZEGO_RATE_LIMIT: Expected a positive integer or off/
      )
      assertFailed(
        yield* runInProcess(["stream", "state", "--stream-id", "demo"], {
          ...credentials,
          ZEGO_RATE_LIMIT_WINDOW: "x"
        }),
        2,
        /^ConfigError: ZEGO_RATE_LIMIT_WINDOW: Expected a duration/
      )
      // Without credentials (the embedded emulator) the variables are read too.
      assertFailed(
        yield* runInProcess(push("demo"), { ZEGO_RATE_LIMIT: "lots" }),
        2,
        /^ConfigError: ZEGO_RATE_LIMIT: Expected a positive integer or off/
      )
    }))
})

const SECRET = "0dd5ec7e70dd5ec7e70dd5ec7e70dd5e"
const app: Emulator.AppConfig = { appId: 515151, serverSecret: Redacted.make(SECRET) }

describe.concurrent("server and transport errors", () =>
  layer(
    Bin.emulatorLayer({
      apps: [app],
      faults: [
        { fault: Fault.code(1005), streamId: "^offline$" },
        { fault: Fault.malformed(), streamId: "^garbled$" }
      ]
    }),
    { excludeTestServices: true }
  )("server and transport errors: exit status 1, one line with the tag, the code and the request id", (it) => {
    const env = (baseUrl: string, secret = SECRET, appId = app.appId) => ({
      ZEGO_APP_ID: String(appId),
      ZEGO_SERVER_SECRET: secret,
      ZEGO_BASE_URL: baseUrl
    })

    it.effect("a ZEGO code (1005, app not online) with what to do", () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Emulator.Emulator
        const result = yield* Bin.run(push("offline"), { env: env(baseUrl) })
        assertFailure(
          result,
          1,
          /^AppNotOnlineError: ZEGO code 1005 .* RequestId \d{19}\. /,
          /ask ZEGOCLOUD support/
        )
        assert.notInclude(result.stderr, "Gave up", "one attempt: nothing said of retries")
        assert.isFalse(Bin.leaks(result.stderr, SECRET))
      }))

    // The other failures run in the test's process: the spawn above checks the bin's part for a server error.
    // (Reliability's Secrets.test.ts spawns the bin with a wrong secret, 1010, 503 and a reset.)
    it.effect("an unknown AppId is a gateway error", () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Emulator.Emulator
        const result = yield* runInProcess(push("demo", "--json"), env(baseUrl, SECRET, 999))
        assertFailed(result, 1, /^GatewayError: ZEGO code 1000000\d\d .*RequestId \d+/)
      }))

    it.effect("a wrong secret is SignatureInvalidError, and neither secret shows", () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Emulator.Emulator
        const wrong = "ffffeeeeddddccccbbbbaaaa99998888"
        const result = yield* runInProcess(push("demo"), env(baseUrl, wrong))
        const line = assertFailed(
          result,
          1,
          /^SignatureInvalidError: ZEGO code 100000005 .*RequestId \d+.*ZEGO_SERVER_SECRET/
        )
        assert.isFalse(Bin.leaks(line, wrong))
        assert.isFalse(Bin.leaks(line, SECRET))
      }))

    it.effect("a body that is not the envelope is a ResponseDecodeError", () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Emulator.Emulator
        const result = yield* runInProcess(push("garbled"), env(baseUrl))
        assertFailed(result, 1, /^ResponseDecodeError from RTMPDispatchV2 \(HTTP 200\)/)
      }))

    it.effect("nothing listening is a TransportError (after the retries)", () =>
      Effect.gen(function*() {
        const port = yield* Effect.async<number>((resume) => {
          const server = Net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as Net.AddressInfo
            server.close(() => resume(Effect.succeed(port)))
          })
        })
        const started = performance.now()
        const result = yield* runInProcess(push("demo"), env(`http://127.0.0.1:${port}`))
        const took = (performance.now() - started) / 1000
        const line = assertFailed(
          result,
          1,
          /^TransportError \(Connection\) calling RTMPDispatchV2/,
          /Check the network/
        )
        // The core's default schedule: a first attempt and 3 retries, 200, 400 and 800 ms apart, each within 20%.
        const tries = /ECONNREFUSED [^ ]+\. Gave up after (\d+) attempts in (\d+\.\d) s\. Check/.exec(line)
        assert.isNotNull(tries, line)
        assert.strictEqual(Number(tries![1]), 4, line)
        assert.isAtLeast(Number(tries![2]), 1.1, line)
        assert.isAtMost(Number(tries![2]), took + 0.05, `${line}: the run itself took ${took} s`)
      }))
  }))
