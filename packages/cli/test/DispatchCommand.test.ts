import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as DispatchCommand from "../src/DispatchCommand.js"

const request = (flags: Partial<Parameters<typeof DispatchCommand.toRequest>[0]>) =>
  DispatchCommand.toRequest({
    type: "push",
    streamId: "demo",
    clientIp: Option.none(),
    sequence: Option.none(),
    ...flags
  })

type TargetFlags = Pick<DispatchCommand.Flags, "region" | "baseUrl" | "testEnv">

const noFlags: TargetFlags = { region: Option.none(), baseUrl: Option.none(), testEnv: false }

const target = (env: Record<string, string>, flags: Partial<TargetFlags> = {}) =>
  DispatchCommand.resolveTarget({ ...noFlags, ...flags }).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.either
  )

describe("DispatchCommand", () => {
  it("turns the flags into a request checked as the core checks it", () => {
    assert.deepStrictEqual(request({ type: "publish" }), Either.right({ streamId: "demo", type: "publish" }))
    assert.deepStrictEqual(
      request({ clientIp: Option.some("203.0.113.7"), sequence: Option.some("1700000000000") }),
      Either.right({ streamId: "demo", type: "push", clientIp: "203.0.113.7", sequence: 1700000000000 })
    )
    const big = request({ sequence: Option.some("9223372036854775807") })
    assert.deepStrictEqual(Either.map(big, (r) => r.sequence), Either.right(9223372036854775807n))
    for (
      const [flags, parameter] of [
        [{ sequence: Option.some("-1") }, "sequence"],
        [{ sequence: Option.some("1e3") }, "sequence"],
        [{ sequence: Option.some("9223372036854775808") }, "sequence"],
        [{ sequence: Option.some("123456789012345678901234") }, "sequence"],
        [{ clientIp: Option.some("::1") }, "clientIp"],
        [{ streamId: "" }, "streamId"],
        [{ streamId: "a/b" }, "streamId"]
      ] as const
    ) {
      const result = request(flags)
      assert.isTrue(Either.isLeft(result) && result.left.parameter === parameter, JSON.stringify(flags))
    }
  })

  it.effect("no credentials and no server named: the embedded emulator; --test-env and ZEGO_IS_TEST carried", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* target({}), Either.right({ _tag: "Embedded", isTest: undefined }))
      assert.deepStrictEqual(yield* target({}, { testEnv: true }), Either.right({ _tag: "Embedded", isTest: true }))
      assert.deepStrictEqual(
        yield* target({ ZEGO_IS_TEST: "false" }),
        Either.right({ _tag: "Embedded", isTest: false })
      )
    }))

  it.effect("a server named without credentials, or half of them, is a MissingCredentialsError", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, string>, Partial<TargetFlags>, string, number]> = [
        [{}, { baseUrl: Option.some("https://x") }, "--base-url is set", 2],
        [{ ZEGO_BASE_URL: "https://x" }, {}, "ZEGO_BASE_URL is set", 2],
        [{}, { region: Option.some("sgp" as const) }, "--region is set", 2],
        [{ ZEGO_REGION: "fra" }, {}, "ZEGO_REGION is set", 2],
        [{ ZEGO_APP_ID: "1" }, {}, "ZEGO_APP_ID is set", 1],
        [{ ZEGO_SERVER_SECRET: "s" }, {}, "ZEGO_SERVER_SECRET is set", 1]
      ]
      for (const [env, flags, because, missing] of cases) {
        const result = yield* target(env, flags)
        assert.isTrue(Either.isLeft(result), because)
        const error = (result as Either.Left<{ _tag: string; because?: string; missing?: Array<string> }, unknown>)
          .left
        assert.strictEqual(error._tag, "MissingCredentialsError")
        assert.strictEqual(error.because, because)
        assert.strictEqual(error.missing?.length, missing)
      }
    }))

  it.effect("credentials: the remote options, flags over the environment, the secret redacted", () =>
    Effect.gen(function*() {
      const env = {
        ZEGO_APP_ID: "42",
        ZEGO_SERVER_SECRET: "s3cr3t",
        ZEGO_REGION: "hkg",
        ZEGO_BASE_URL: "https://env.example",
        ZEGO_IS_TEST: "false"
      }
      const result = yield* target(env, { baseUrl: Option.some("https://flag.example"), testEnv: true })
      if (Either.isLeft(result) || result.right._tag !== "Remote") return assert.fail(String(result))
      const { options } = result.right
      assert.strictEqual(options.appId, 42)
      assert.strictEqual(options.baseUrl, "https://flag.example")
      assert.strictEqual(options.region, "hkg")
      assert.strictEqual(options.isTest, true)
      assert.isTrue(Redacted.isRedacted(options.serverSecret))
      assert.strictEqual(Redacted.value(options.serverSecret), "s3cr3t")
    }))

  it.effect("a malformed variable is a ConfigError", () =>
    Effect.gen(function*() {
      for (const env of [{ ZEGO_APP_ID: "x", ZEGO_SERVER_SECRET: "s" }, { ZEGO_IS_TEST: "maybe" }]) {
        const result = yield* target(env)
        assert.isTrue(Either.isLeft(result) && result.left._tag === "ConfigError", JSON.stringify(env))
      }
    }))

  it("a --sequence up to 2^63 - 1 is a bigint past 2^53; one more is refused naming sequence", () => {
    const max = request({ sequence: Option.some("9223372036854775807") })
    assert.deepStrictEqual(Either.map(max, (r) => r.sequence), Either.right(9223372036854775807n))
    const over = request({ sequence: Option.some("9223372036854775808") })
    assert.isTrue(Either.isLeft(over) && over.left.parameter === "sequence" && /Int64/.test(over.left.detail))
  })

  it.effect("ZEGO_RATE_LIMIT and ZEGO_RATE_LIMIT_WINDOW reach the options as the library reads them", () =>
    Effect.gen(function*() {
      const credentials = { ZEGO_APP_ID: "42", ZEGO_SERVER_SECRET: "s3cr3t" }
      const rateLimit = (env: Record<string, string>) =>
        Effect.map(target({ ...credentials, ...env }), (result) => {
          if (Either.isLeft(result) || result.right._tag !== "Remote") return assert.fail(String(result))
          return result.right.options.rateLimit
        })
      const set = yield* rateLimit({ ZEGO_RATE_LIMIT: "5", ZEGO_RATE_LIMIT_WINDOW: "2 seconds" })
      assert.isTrue(set !== false && set !== undefined && set.limit === 5)
      assert.strictEqual(set && Duration.toMillis(Duration.decode(set.window)), 2000)
      assert.strictEqual(yield* rateLimit({ ZEGO_RATE_LIMIT: "off" }), false)
      assert.strictEqual(yield* rateLimit({}), undefined, "unset: the action's own default")
    }))
})
