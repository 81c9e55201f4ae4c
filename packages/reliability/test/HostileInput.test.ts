/**
 * Hostile input: random strings (unicode, control characters, very long) and random values for every request
 * parameter and every configuration field. Each gives `InvalidRequestError` (or a `ConfigError`) or a success;
 * never a defect; and an invalid input sends no HTTP request.
 */
import { RtmpDispatch } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import { makeCapture } from "./capture.js"
import { figures, observe, save } from "./figures.js"
import { runs } from "./soak.js"

const APP_ID = 123456
const SECRET = Redacted.make("5f0a1b2c3d4e5f60718293a4b5c6d7e8")
const capture = makeCapture()

afterAll(() => save("hostile-input"))

const hostileString = FastCheck.oneof(
  FastCheck.string(),
  FastCheck.fullUnicodeString({ maxLength: 64 }),
  FastCheck.stringOf(FastCheck.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), { maxLength: 32 }),
  FastCheck.string({ minLength: 257, maxLength: 20_000 }),
  FastCheck.constantFrom("", " ", "push\u0000", "127.0.0.1\n", "../../etc/passwd", "%00", "\uFEFFpull", "1e3")
)
const hostileValue = FastCheck.oneof(hostileString, FastCheck.anything())

/** Counts one input, runs it, and checks its outcome and that an invalid one sent nothing. */
const check = <A, E extends { readonly _tag: string }>(
  run: Effect.Effect<A, E, ZegoMock.ZegoMock | RtmpDispatch.RtmpDispatch>,
  allowed: Array<string>
) =>
  Effect.gen(function*() {
    figures.badInputs++
    const result = yield* observe(run, 10_000)
    const sent = (yield* (yield* ZegoMock.ZegoMock).requests).length
    figures.requests += sent
    if (result._tag === "Failure") {
      capture.addError(result.error)
      assert.oneOf(result.error._tag, allowed)
      assert.strictEqual(sent, 0, "an invalid input sent a request")
    } else {
      assert.strictEqual(result._tag, "Success", "cause" in result ? result.cause : result._tag)
    }
  })

const mock = ZegoMock.layerDispatch({ appId: APP_ID, serverSecret: SECRET, dispatch: { rateLimit: false } })

describe("hostile input", () => {
  it.live("every request parameter: InvalidRequestError or success, never a defect, nothing sent when invalid", () =>
    Effect.gen(function*() {
      const runtime = yield* Effect.runtime<never>()
      const request = FastCheck.record({
        streamId: hostileValue,
        type: FastCheck.oneof(hostileValue, FastCheck.constantFrom("push", "pull", "publish")),
        clientIp: FastCheck.oneof(hostileValue, FastCheck.ipV4(), FastCheck.ipV6()),
        sequence: FastCheck.oneof(hostileValue, FastCheck.bigInt(), FastCheck.double(), FastCheck.integer())
      }, { requiredKeys: [] })
      const property = FastCheck.asyncProperty(request, FastCheck.boolean(), (input, v1) =>
        Runtime.runPromise(runtime)(
          check(
            Effect.flatMap(
              RtmpDispatch.RtmpDispatch,
              (dispatch): Effect.Effect<unknown, { readonly _tag: string }> =>
                v1 ? dispatch.dispatchAddresses(input as never) : dispatch.dispatch(input as never)
            ),
            ["InvalidRequestError"]
          ).pipe(Effect.provide(mock))
        ))
      yield* Effect.promise(() => FastCheck.assert(property, { numRuns: runs(200) }))
    }).pipe(Effect.provide(capture.layer)))

  it.live("a valid request with one hostile field is refused, naming that field", () =>
    Effect.gen(function*() {
      const runtime = yield* Effect.runtime<never>()
      const field = FastCheck.constantFrom("streamId", "type", "clientIp", "sequence")
      const property = FastCheck.asyncProperty(field, hostileString, (name, value) =>
        Runtime.runPromise(runtime)(
          Effect.gen(function*() {
            const valid = { streamId: "ok", type: "push", clientIp: "198.51.100.7", sequence: 7 }
            const input = { ...valid, [name]: value }
            const dispatch = yield* RtmpDispatch.RtmpDispatch
            figures.badInputs++
            const result = yield* observe(dispatch.dispatch(input as never), 10_000)
            const sent = (yield* (yield* ZegoMock.ZegoMock).requests).length
            figures.requests += sent
            // A few hostile strings are valid values ("1e3" is not, but "push" from a generator may be).
            if (result._tag === "Success") return
            assert.strictEqual(result._tag, "Failure")
            if (result._tag !== "Failure") {
              return
            }
            capture.addError(result.error)
            assert.strictEqual(result.error._tag, "InvalidRequestError")
            assert.strictEqual((result.error as { parameter?: string }).parameter, name)
            assert.strictEqual(sent, 0)
          }).pipe(Effect.provide(mock))
        ))
      yield* Effect.promise(() => FastCheck.assert(property, { numRuns: runs(150) }))
    }).pipe(Effect.provide(capture.layer)))

  it.live("every option of layer(options): InvalidRequestError or a working layer, never a defect", () =>
    Effect.gen(function*() {
      const runtime = yield* Effect.runtime<never>()
      const options = FastCheck.record({
        appId: FastCheck.oneof(hostileValue, FastCheck.integer(), FastCheck.double()),
        serverSecret: FastCheck.oneof(hostileValue, hostileString.map(Redacted.make)),
        region: hostileValue,
        baseUrl: FastCheck.oneof(hostileValue, FastCheck.webUrl(), FastCheck.constant("http://127.0.0.1:9")),
        isTest: hostileValue,
        retry: hostileValue,
        timeout: FastCheck.oneof(hostileValue, FastCheck.integer()),
        rateLimit: FastCheck.oneof(
          hostileValue,
          FastCheck.record({ limit: hostileValue, window: hostileValue }),
          FastCheck.record({ limit: FastCheck.integer(), window: FastCheck.integer() })
        ),
        maxResponseBytes: FastCheck.oneof(hostileValue, FastCheck.integer()),
        transformClient: hostileValue
      }, { requiredKeys: [] })
      const property = FastCheck.asyncProperty(options, (input) =>
        Runtime.runPromise(runtime)(Effect.gen(function*() {
          figures.badInputs++
          const layer = RtmpDispatch.layer(input as never).pipe(
            Layer.provideMerge(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET }))
          )
          const result = yield* observe(Effect.scoped(Layer.build(layer)), 10_000)
          if (result._tag === "Failure") {
            capture.addError(result.error)
            assert.strictEqual(result.error._tag, "InvalidRequestError")
          } else {
            assert.strictEqual(result._tag, "Success", "cause" in result ? result.cause : result._tag)
          }
        })))
      yield* Effect.promise(() => FastCheck.assert(property, { numRuns: runs(200) }))
    }).pipe(Effect.provide(capture.layer)))

  it.live("every ZEGO_* variable of layerConfig: a ConfigError, InvalidRequestError or a working layer", () =>
    Effect.gen(function*() {
      const runtime = yield* Effect.runtime<never>()
      const variables = FastCheck.record({
        ZEGO_APP_ID: FastCheck.oneof(hostileString, FastCheck.integer().map(String)),
        ZEGO_SERVER_SECRET: hostileString,
        ZEGO_REGION: FastCheck.oneof(hostileString, FastCheck.constantFrom("unified", "fra", "sgp")),
        ZEGO_BASE_URL: FastCheck.oneof(hostileString, FastCheck.webUrl(), FastCheck.constant("http://localhost:1")),
        ZEGO_IS_TEST: FastCheck.oneof(hostileString, FastCheck.constantFrom("true", "false"))
      }, { requiredKeys: [] })
      const property = FastCheck.asyncProperty(variables, (env) =>
        Runtime.runPromise(runtime)(Effect.gen(function*() {
          figures.badInputs++
          const layer = RtmpDispatch.layerConfig().pipe(
            Layer.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET })),
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
          )
          const result = yield* observe(Effect.scoped(Layer.build(layer)), 10_000)
          if (result._tag === "Failure") {
            capture.addError(result.error)
            assert.oneOf((result.error as { _tag: string })._tag, ["ConfigError", "InvalidRequestError"])
          } else {
            assert.strictEqual(result._tag, "Success", "cause" in result ? result.cause : result._tag)
          }
          // A distinctive secret (not also another variable's value) must not show in anything captured.
          const secret = env.ZEGO_SERVER_SECRET
          const others = [env.ZEGO_APP_ID, env.ZEGO_REGION, env.ZEGO_BASE_URL, env.ZEGO_IS_TEST]
          if (secret && /[A-Za-z0-9]{12}/.test(secret) && !others.some((value) => value?.includes(secret))) {
            for (const text of capture.texts) assert.notInclude(text, secret)
          }
        })))
      yield* Effect.promise(() => FastCheck.assert(property, { numRuns: runs(150) }))
    }).pipe(Effect.provide(capture.layer)))

  it("the secret appears in nothing the suite captured", () => {
    assert.isAbove(capture.texts.length, 0)
    for (const text of capture.texts) assert.notInclude(text, Redacted.value(SECRET))
  })
})
