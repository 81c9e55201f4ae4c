import { RateLimit, RtmpDispatch, ZegoError } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { APP_ID, mockLayer, requests, SECRET, service, withTime } from "./utils.js"

const noRetry = { retry: Schedule.stop }

const codeOutsideTable = FastCheck.integer({ min: -2_147_483_648, max: 2_147_483_647 }).filter((code) =>
  code !== 0 && !ZegoError.knownCodes.includes(code)
)

describe("RtmpDispatch.dispatch", () => {
  it.effect("signs an RTMPDispatchV2 call and parses the node, normalising publish to push", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_123)
      const result = yield* (yield* service).dispatch({ streamId: "obs-1", type: "publish", clientIp: "203.0.113.7" })
      const [request] = yield* requests
      assert.strictEqual(request?.action, "RTMPDispatchV2")
      assert.strictEqual(request?.params.Type, "push")
      assert.strictEqual(request?.params.StreamId, "obs-1")
      assert.strictEqual(request?.params.ClientIP, "203.0.113.7")
      assert.strictEqual(request?.params.Timestamp, "1700000000")
      assert.isUndefined(request?.params.IsTest)
      assert.strictEqual(result.type, "push")
      assert.strictEqual(result.requestId, "mock-1")
      assert.deepStrictEqual(
        { ...result.nodes[0] },
        {
          url: "rtmp://127.0.0.1:1935/live/obs-1",
          host: "127.0.0.1",
          port: 1935,
          app: "live",
          streamName: "obs-1",
          obsServer: "rtmp://127.0.0.1:1935/live/",
          obsStreamKey: "obs-1"
        }
      )
    }).pipe(Effect.provide(mockLayer())))

  it.effect("sends the caller's sequence, or a strictly increasing millisecond clock", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      yield* TestClock.setTime(1_700_000_000_000)
      yield* dispatch.dispatch({ streamId: "s", type: "pull", sequence: 42 })
      yield* dispatch.dispatch({ streamId: "s", type: "pull", sequence: 9_223_372_036_854_775_807n })
      yield* Effect.repeatN(dispatch.dispatch({ streamId: "s", type: "pull" }), 2)
      const sent = (yield* requests).map((r) => r.params.Sequence)
      assert.deepStrictEqual(sent.slice(0, 2), ["42", "9223372036854775807"])
      const defaults = sent.slice(2).map(Number)
      assert.isAtLeast(defaults[0]!, 1_700_000_000_000)
      assert.isTrue(defaults[0]! < defaults[1]! && defaults[1]! < defaults[2]!, `not increasing: ${defaults}`)
    }).pipe(Effect.provide(mockLayer())))

  it.effect("keeps several nodes in the server's order", () =>
    Effect.gen(function*() {
      const result = yield* (yield* service).dispatch({ streamId: "s", type: "pull" })
      assert.deepStrictEqual(result.nodes.map((n) => [n.host, n.port, n.app, n.streamName]), [
        ["81.69.49.115", 1935, "1540531164", "caodantest"],
        ["edge.example.com", 1935, "live/inst", "s"]
      ])
    }).pipe(Effect.provide(mockLayer({
      script: [
        ZegoMock.success(["rtmp://81.69.49.115:1935/1540531164/caodantest", "rtmp://edge.example.com/live/inst/s"])
      ]
    }))))
})

describe("RtmpDispatch.dispatchAddresses", () => {
  it.effect("calls RTMPDispatch and parses host:port addresses", () =>
    Effect.gen(function*() {
      const result = yield* (yield* service).dispatchAddresses({ streamId: "s", type: "push" })
      assert.strictEqual((yield* requests)[0]?.action, "RTMPDispatch")
      assert.deepStrictEqual(result.addresses.map((a) => ({ ...a })), [
        { address: "81.69.49.115:1935", host: "81.69.49.115", port: 1935 },
        { address: "10.0.0.2:1936", host: "10.0.0.2", port: 1936 }
      ])
    }).pipe(Effect.provide(mockLayer({ script: [ZegoMock.success(["81.69.49.115:1935", "10.0.0.2:1936"])] }))))

  it.effect("refuses an address that is not host:port", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* service).dispatchAddresses({ streamId: "s", type: "push" }))
      assert.strictEqual(error._tag, "ResponseDecodeError")
    }).pipe(Effect.provide(mockLayer({ script: [ZegoMock.success(["rtmp://1.2.3.4:1935/a/b"])] }))))
})

describe("test environment", () => {
  it.effect("isTest true sends IsTest=true and prefixes stream ids once", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      const first = yield* dispatch.dispatch({ streamId: "test", type: "push" })
      const second = yield* dispatch.dispatch({ streamId: `zegotest-${APP_ID}-test`, type: "push" })
      const sent = yield* requests
      assert.deepStrictEqual(sent.map((r) => [r.params.IsTest, r.params.StreamId]), [
        ["true", "zegotest-12345-test"],
        ["true", "zegotest-12345-test"]
      ])
      assert.strictEqual(first.streamId, "zegotest-12345-test")
      assert.strictEqual(second.streamId, "zegotest-12345-test")
    }).pipe(Effect.provide(mockLayer({ dispatch: { isTest: true } }))))

  it.effect("isTest false sends IsTest=false without a prefix", () =>
    Effect.gen(function*() {
      yield* (yield* service).dispatch({ streamId: "test", type: "push" })
      const [request] = yield* requests
      assert.deepStrictEqual([request?.params.IsTest, request?.params.StreamId], ["false", "test"])
    }).pipe(Effect.provide(mockLayer({ dispatch: { isTest: false } }))))

  it.effect("a stream id that the prefix makes longer than 256 characters is refused before sending", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* service).dispatch({ streamId: "a".repeat(250), type: "push" }))
      assert.strictEqual(error._tag, "InvalidRequestError")
      assert.include(error.message, "zegotest-12345-")
      assert.lengthOf(yield* requests, 0)
    }).pipe(Effect.provide(mockLayer({ dispatch: { isTest: true } }))))
})

describe("return codes", () => {
  const expectedTag = (code: number): string => {
    if ([1010, 30002, 5007].includes(code)) return "RateLimitedError"
    if ([30003, 3001, 5000, 5001, 5002, 5006].includes(code)) return "ZegoInternalError"
    const named: Record<number, string> = {
      1001: "DispatchFailedError",
      1002: "NoPublishNodeError",
      1003: "NoPullNodeError",
      1005: "AppNotOnlineError",
      1006: "InvalidParameterError",
      30004: "InvalidIsTestError",
      30005: "InvalidAppIdError",
      30009: "InvalidStreamIdError",
      30010: "InvalidDispatchTypeError",
      30011: "InvalidClientIpError",
      100000004: "SignatureExpiredError",
      100000005: "SignatureInvalidError"
    }
    return named[code] ?? (code >= 100000000 && code <= 100000099 ? "GatewayError" : "UnknownCodeError")
  }

  const codes = [
    1010,
    30002,
    5007,
    1001,
    1002,
    1003,
    1005,
    1006,
    30003,
    3001,
    5000,
    5001,
    5002,
    5006,
    30004,
    30005,
    30009,
    30010,
    30011,
    100000004,
    100000005,
    100000000,
    100000001,
    100000015,
    100000016,
    100000017
  ]

  it.effect("every code of the table maps to its tag, keeping code, message, request id and action", () =>
    Effect.gen(function*() {
      for (const code of codes) {
        const error = yield* Effect.flip(
          Effect.flatMap(service, (s) => s.dispatch({ streamId: "s", type: "push" }, noRetry)).pipe(
            // 100000004 comes with a Date header, so the service signs once more: the script answers twice.
            Effect.provide(
              mockLayer({
                script: [ZegoMock.code(code, `message of ${code}`), ZegoMock.code(code, `message of ${code}`)]
              })
            )
          )
        )
        assert.strictEqual(error._tag, expectedTag(code), `code ${code}`)
        assert.isTrue(ZegoError.isZegoError(error))
        if (!("code" in error)) return assert.fail(`code ${code} gave ${error._tag}`)
        assert.strictEqual(error.code, code)
        assert.strictEqual(error.serverMessage, `message of ${code}`)
        assert.strictEqual(error.requestId, code === 100000004 ? "mock-2" : "mock-1")
        assert.strictEqual(error.action, "RTMPDispatchV2")
        assert.include(error.message, `ZEGO code ${code}`)
        assert.include(error.message, error.requestId)
      }
    }))

  it.effect.prop(
    "any other code gives UnknownCodeError with the code kept",
    [codeOutsideTable],
    ([code]) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          Effect.flatMap(service, (s) => s.dispatch({ streamId: "s", type: "pull" })).pipe(
            Effect.provide(mockLayer({ script: [ZegoMock.code(code)] }))
          )
        )
        assert.strictEqual(error._tag, "UnknownCodeError")
        assert.strictEqual((error as ZegoError.UnknownCodeError).code, code)
        assert.isFalse((error as ZegoError.UnknownCodeError).retryable)
      }),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect("a gateway error's message says what the code means", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      const hints = []
      for (let i = 0; i < 3; i++) {
        hints.push((yield* Effect.flip(dispatch.dispatch({ streamId: "s", type: "push" }))).message)
      }
      assert.include(hints[0], "server secret was not found")
      assert.include(hints[1], "Only SignatureVersion 2.0")
      assert.include(hints[2], "no production environment")
    }).pipe(Effect.provide(mockLayer({
      script: [ZegoMock.code(100000010), ZegoMock.code(100000014), ZegoMock.code(100000016)]
    }))))

  it.effect("a non-zero code is an error whatever the HTTP status", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* service).dispatch({ streamId: "s", type: "push" }, noRetry))
      assert.strictEqual(error._tag, "InvalidStreamIdError")
    }).pipe(Effect.provide(mockLayer({ script: [ZegoMock.code(30009, "bad stream", { status: 500 })] }))))

  it.effect("Code 0 with no Data is the no-node error of the request's type", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      const push = yield* Effect.flip(dispatch.dispatch({ streamId: "s", type: "push" }))
      const pull = yield* Effect.flip(dispatch.dispatch({ streamId: "s", type: "pull" }))
      const v1 = yield* Effect.flip(dispatch.dispatchAddresses({ streamId: "s", type: "pull" }))
      assert.deepStrictEqual([push._tag, pull._tag, v1._tag], [
        "NoPublishNodeError",
        "NoPullNodeError",
        "NoPullNodeError"
      ])
      assert.strictEqual((push as ZegoError.NoPublishNodeError).requestId, "mock-1")
      assert.lengthOf(yield* requests, 3)
    }).pipe(
      Effect.provide(mockLayer({ script: [ZegoMock.success([]), ZegoMock.success(null), ZegoMock.success([])] }))
    ))
})

describe("retry", () => {
  const failing = (reply: ZegoMock.Reply) => mockLayer({ handler: () => reply })

  const retryable: ReadonlyArray<[string, ZegoMock.Reply]> = [
    ["1010", ZegoMock.code(1010)],
    ["30002", ZegoMock.code(30002)],
    ["5007", ZegoMock.code(5007)],
    ["1001", ZegoMock.code(1001)],
    ["30003", ZegoMock.code(30003)],
    ["5001", ZegoMock.code(5001)],
    ["100000015", ZegoMock.code(100000015)],
    ["connection reset", ZegoMock.networkError()],
    ["HTTP 503 without envelope", ZegoMock.raw(503, "<html>busy</html>")]
  ]
  for (const [name, reply] of retryable) {
    it.effect(`retries ${name} up to the default limit of 3 retries`, () =>
      Effect.gen(function*() {
        const exit = yield* withTime(Effect.exit((yield* service).dispatch({ streamId: "s", type: "push" })))
        assert.isTrue(Exit.isFailure(exit))
        assert.lengthOf(yield* requests, 4)
      }).pipe(Effect.provide(failing(reply))))
  }

  const notRetryable: ReadonlyArray<[string, ZegoMock.Reply]> = [
    ["1002", ZegoMock.code(1002)],
    ["1006", ZegoMock.code(1006)],
    ["30009", ZegoMock.code(30009)],
    ["100000005", ZegoMock.code(100000005)],
    ["100000016", ZegoMock.code(100000016)],
    ["an unknown code", ZegoMock.code(777)],
    ["HTTP 404 without envelope", ZegoMock.raw(404, "not found")],
    ["a body that is not JSON", ZegoMock.raw(200, "<html>")]
  ]
  for (const [name, reply] of notRetryable) {
    it.effect(`does not retry ${name}`, () =>
      Effect.gen(function*() {
        const exit = yield* withTime(Effect.exit((yield* service).dispatch({ streamId: "s", type: "push" })))
        assert.isTrue(Exit.isFailure(exit))
        assert.lengthOf(yield* requests, 1)
      }).pipe(Effect.provide(failing(reply))))
  }

  it.effect("succeeds when a success comes within the budget, signing every attempt afresh", () =>
    Effect.gen(function*() {
      const result = yield* withTime((yield* service).dispatch({ streamId: "s", type: "push" }))
      assert.strictEqual(result.requestId, "mock-3")
      const sent = yield* requests
      assert.lengthOf(sent, 3)
      assert.strictEqual(new Set(sent.map((r) => r.params.SignatureNonce)).size, 3)
      assert.deepStrictEqual(sent.map((r) => r.params.Timestamp), ["0", "2", "4"])
      assert.strictEqual(new Set(sent.map((r) => r.params.Signature)).size, 3)
    }).pipe(Effect.provide(mockLayer({
      script: [ZegoMock.code(1010), ZegoMock.code(1010), ZegoMock.success()],
      dispatch: { retry: Schedule.spaced("2 seconds") }
    }))))

  it.effect("the default schedule backs off exponentially from 200 ms", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork((yield* service).dispatch({ streamId: "s", type: "push" }))
      yield* TestClock.adjust("150 millis")
      assert.lengthOf(yield* requests, 1)
      yield* TestClock.adjust("100 millis") // 250 ms: the first retry (200 ms ± 20 % jitter) has gone
      assert.lengthOf(yield* requests, 2)
      // 450 ms: the second has not gone. Jitter is ± 20 %: the first retry comes at 160 ms at the earliest and the
      // second 320 ms after it (400 ms - 20 %), so not before 480 ms.
      yield* TestClock.adjust("200 millis")
      assert.lengthOf(yield* requests, 2)
      yield* TestClock.adjust("10 seconds")
      assert.lengthOf(yield* requests, 4)
      assert.strictEqual((yield* Effect.flip(Fiber.join(fiber)))._tag, "RateLimitedError")
    }).pipe(Effect.provide(failing(ZegoMock.code(1010)))))

  it.effect("a custom schedule from the options is honoured", () =>
    Effect.gen(function*() {
      yield* withTime(Effect.exit((yield* service).dispatch({ streamId: "s", type: "push" })))
      assert.lengthOf(yield* requests, 2)
    }).pipe(Effect.provide(mockLayer({ handler: () => ZegoMock.code(1001), dispatch: { retry: Schedule.recurs(1) } }))))

  it.effect("a per-call retry that is not a Schedule is an InvalidRequestError, and nothing is sent", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        (yield* service).dispatch({ streamId: "s", type: "push" }, { retry: 1 as never })
      )
      assert.strictEqual(error._tag, "InvalidRequestError")
      assert.lengthOf(yield* requests, 0)
    }).pipe(Effect.provide(mockLayer())))

  it.effect("a per-call schedule overrides the layer's", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      yield* withTime(Effect.exit(dispatch.dispatch({ streamId: "s", type: "push" }, { retry: Schedule.recurs(5) })))
      assert.lengthOf(yield* requests, 6)
      yield* Effect.exit(dispatch.dispatch({ streamId: "s", type: "push" }, noRetry))
      assert.lengthOf(yield* requests, 7)
    }).pipe(Effect.provide(mockLayer({ handler: () => ZegoMock.code(1001), dispatch: { retry: Schedule.recurs(1) } }))))
})

describe("clock skew", () => {
  it.effect("on 100000004 with a Date header, keeps the server's offset and signs again once", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const dispatch = yield* service
      yield* dispatch.dispatch({ streamId: "s", type: "push" }, noRetry)
      yield* dispatch.dispatch({ streamId: "s", type: "push" }, noRetry)
      const stamps = (yield* requests).map((r) => Number(r.params.Timestamp))
      assert.deepStrictEqual(stamps, [1_700_000_000, 1_700_003_600, 1_700_003_600])
    }).pipe(Effect.provide(mockLayer({ serverClockOffset: "1 hour" }))))

  it.effect("re-signs only once when the server keeps saying the signature expired", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* service).dispatch({ streamId: "s", type: "push" }))
      assert.strictEqual(error._tag, "SignatureExpiredError")
      assert.lengthOf(yield* requests, 2)
    }).pipe(Effect.provide(mockLayer({ handler: () => ZegoMock.code(100000004) }))))
})

describe("transport and decoding", () => {
  const failsWith = (reply: ZegoMock.Reply, tag: string, check?: (error: ZegoError.ZegoError) => void) =>
    Effect.gen(function*() {
      const error = yield* withTime(Effect.flip((yield* service).dispatch({ streamId: "s", type: "push" }, noRetry)))
      assert.strictEqual(error._tag, tag)
      check?.(error)
    }).pipe(Effect.provide(mockLayer({ script: [reply] })))

  it.effect("a connection failure is a retryable TransportError", () =>
    failsWith(ZegoMock.networkError("ECONNRESET"), "TransportError", (error) => {
      assert.strictEqual((error as ZegoError.TransportError).reason, "Connection")
      assert.isTrue(ZegoError.isRetryable(error))
    }))

  it.effect("an attempt longer than the timeout (5 s by default) is a TransportError", () =>
    failsWith(
      ZegoMock.delay("6 seconds", ZegoMock.success()),
      "TransportError",
      (error) => assert.strictEqual((error as ZegoError.TransportError).reason, "Timeout")
    ))

  it.effect("an HTTP error status without an envelope is a TransportError with the status", () =>
    failsWith(ZegoMock.raw(502, "Bad Gateway"), "TransportError", (error) => {
      assert.strictEqual((error as ZegoError.TransportError).status, 502)
      assert.isTrue(ZegoError.isRetryable(error))
    }))

  it.effect("a body that is not the envelope is a ResponseDecodeError", () =>
    failsWith(ZegoMock.raw(200, "{\"hello\":1}"), "ResponseDecodeError"))

  it.effect("a Code that is not a number is a ResponseDecodeError", () =>
    failsWith(ZegoMock.raw(200, "{\"Code\":\"0\",\"Message\":\"ok\",\"RequestId\":\"1\"}"), "ResponseDecodeError"))

  for (const bad of ["javascript:alert(1)", "http://1.2.3.4/live/s", "garbage", "rtmp://host:99999/a/b"]) {
    it.effect(`a Data entry ${JSON.stringify(bad)} is a ResponseDecodeError keeping the request id`, () =>
      failsWith(ZegoMock.success([bad]), "ResponseDecodeError", (error) => {
        assert.strictEqual((error as ZegoError.ResponseDecodeError).requestId, "mock-1")
      }))
  }

  it.effect("Data that is not an array is a ResponseDecodeError", () =>
    failsWith(ZegoMock.success({ url: "rtmp://1.2.3.4/a/b" }), "ResponseDecodeError"))

  it.effect("a body larger than maxResponseBytes is a ResponseDecodeError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* service).dispatch({ streamId: "s", type: "push" }))
      assert.strictEqual(error._tag, "ResponseDecodeError")
      assert.include(error.message, "larger than 1024 bytes")
    }).pipe(Effect.provide(mockLayer({
      script: [ZegoMock.success(Array.from({ length: 100 }, (_, i) => `rtmp://1.2.3.4/live/s${i}`))],
      dispatch: { maxResponseBytes: 1024 }
    }))))
})

describe("rate limit", () => {
  it.effect("call 41 within one second waits for the next token", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      const fiber = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: 41 }, (_, i) => i),
          (i) => dispatch.dispatch({ streamId: `s${i}`, type: "push" }),
          {
            concurrency: "unbounded"
          }
        )
      )
      yield* TestClock.adjust("999 millis")
      assert.lengthOf(yield* requests, 40)
      yield* TestClock.adjust("1 millis")
      assert.lengthOf(yield* Fiber.join(fiber), 41)
      assert.lengthOf(yield* requests, 41)
    }).pipe(Effect.provide(mockLayer())))

  it.effect("never lets more than the limit through in any window", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      const fiber = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 25 }, (_, i) => i), (i) =>
          dispatch.dispatch({ streamId: `s${i}`, type: "push" }), {
          concurrency: 8
        })
      )
      for (let step = 0; step < 80; step++) {
        yield* TestClock.adjust("50 millis")
      }
      yield* Fiber.join(fiber)
      const times = (yield* requests).map((r) =>
        r.receivedAt
      )
      for (const t of times) assert.isAtMost(times.filter((u) => u >= t && u < t + 500).length, 5)
    }).pipe(Effect.provide(mockLayer({ dispatch: { rateLimit: { limit: 5, window: "500 millis" } } }))))

  it.effect("a token returns one window after its call ended, not after it started", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      const call = (streamId: string) => Effect.fork(dispatch.dispatch({ streamId, type: "push" }))
      const slow = yield* call("slow") // answered after 3 s
      yield* call("fast")
      const third = yield* call("third")
      yield* TestClock.adjust("3999 millis")
      assert.lengthOf(yield* requests, 2)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(third)
      yield* Fiber.join(slow)
      assert.deepStrictEqual((yield* requests).map((r) => [r.params.StreamId, r.receivedAt]), [
        ["slow", 0],
        ["fast", 0],
        ["third", 4000]
      ])
    }).pipe(Effect.provide(mockLayer({
      script: [ZegoMock.delay("3 seconds", ZegoMock.success()), ZegoMock.success(), ZegoMock.success()],
      dispatch: { rateLimit: { limit: 2, window: "1 second" }, timeout: "10 seconds" }
    }))))

  it.effect("an interrupted call gives its token back one window later; an interrupted waiter takes none", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      const call = (streamId: string) => Effect.fork(dispatch.dispatch({ streamId, type: "push" }))
      const inFlight = yield* call("in-flight") // answered after 10 s, interrupted at 1 s
      const waiter = yield* call("gives-up") // interrupted while waiting for the token
      const next = yield* call("next")
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(waiter)
      yield* Fiber.interrupt(inFlight)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(next)
      assert.deepStrictEqual((yield* requests).map((r) => [r.params.StreamId, r.receivedAt]), [
        ["in-flight", 0],
        ["next", 2000]
      ])
    }).pipe(Effect.provide(mockLayer({
      script: [ZegoMock.delay("10 seconds", ZegoMock.success()), ZegoMock.success()],
      dispatch: { rateLimit: { limit: 1, window: "1 second" }, timeout: "20 seconds" }
    }))))

  it.effect("takes its tokens from a provided RateLimitStore, keyed by AppId, one per attempt", () => {
    const seen: Array<{ key: string; limit: number; windowMillis: number }> = []
    let takes = 0
    const store = RateLimit.layerStore({
      limiter: (options) => {
        seen.push(options)
        return Effect.succeed({ withPermit: (call) => Effect.zipRight(Effect.sync(() => void takes++), call) })
      }
    })
    return Effect.gen(function*() {
      yield* withTime((yield* service).dispatch({ streamId: "s", type: "push" }))
      assert.deepStrictEqual(seen, [{ key: String(APP_ID), limit: 7, windowMillis: 2000 }])
      assert.strictEqual(takes, 2)
    }).pipe(
      Effect.provide(
        mockLayer({
          script: [ZegoMock.code(1010), ZegoMock.success()],
          dispatch: { rateLimit: { limit: 7, window: "2 seconds" } }
        }).pipe(Layer.provide(store))
      )
    )
  })

  it.effect("can be turned off", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      yield* Effect.forEach(Array.from({ length: 100 }, (_, i) => i), (i) =>
        dispatch.dispatch({ streamId: `s${i}`, type: "push" }), {
        concurrency: "unbounded"
      })
      assert.lengthOf(yield* requests, 100)
    }).pipe(Effect.provide(mockLayer({ dispatch: { rateLimit: false } }))))
})

describe("layer options", () => {
  const build = (options: Partial<RtmpDispatch.Options>) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(mockLayer({ dispatch: options })))
      return exit
    }).pipe(Effect.scoped)

  for (
    const baseUrl of [
      "http://example.com",
      "http://10.0.0.1:8080",
      "http://127.0.0.1.evil.com",
      "ftp://127.0.0.1",
      "nope"
    ]
  ) {
    it.effect(`refuses the base URL ${baseUrl} when building the layer`, () =>
      Effect.gen(function*() {
        const exit = yield* build({ baseUrl })
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? exit.cause : undefined
        assert.include(String(error), "InvalidRequestError")
        assert.include(String(error), "baseUrl")
      }))
  }

  for (const baseUrl of ["https://rtc-api.zego.im", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"]) {
    it.effect(`accepts the base URL ${baseUrl}`, () =>
      Effect.gen(function*() {
        assert.isTrue(Exit.isSuccess(yield* build({ baseUrl })))
      }))
  }

  it.effect("uses the region's https host, unified by default", () =>
    Effect.gen(function*() {
      const urlOf = (options: Partial<RtmpDispatch.Options>) =>
        Effect.map(
          RtmpDispatch.make({ appId: APP_ID, serverSecret: SECRET, ...options }),
          (s) => s.baseUrl
        ).pipe(Effect.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET })))
      assert.strictEqual(yield* urlOf({}), "https://rtc-api.zego.im")
      assert.strictEqual(yield* urlOf({ region: "fra" }), "https://rtc-api-fra.zego.im")
      assert.strictEqual(
        yield* urlOf({ region: "sgp", baseUrl: "http://127.0.0.1:9/zego/" }),
        "http://127.0.0.1:9/zego"
      )
    }))

  const invalidOptions: ReadonlyArray<[string, Partial<RtmpDispatch.Options>]> = [
    ["appId", { appId: -1 }],
    ["appId", { appId: 2 ** 32 }],
    ["appId", { appId: 1.5 }],
    ["region", { region: "mars" as never }],
    ["timeout", { timeout: 0 }],
    ["rateLimit.limit", { rateLimit: { limit: 0, window: "1 second" } }],
    ["rateLimit.window", { rateLimit: { limit: 10, window: -5 } }],
    ["maxResponseBytes", { maxResponseBytes: 0 }],
    ["serverSecret", { serverSecret: "plain text" as never }],
    ["serverSecret", { serverSecret: Redacted.make("") }],
    ["serverSecret", { serverSecret: Redacted.make("abc\uD800def") }],
    ["isTest", { isTest: "yes" as never }],
    ["retry", { retry: 3 as never }],
    ["transformClient", { transformClient: "proxy" as never }]
  ]
  for (const [parameter, options] of invalidOptions) {
    it.effect(`refuses an invalid ${parameter} (${JSON.stringify(options)})`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          RtmpDispatch.make({ appId: APP_ID, serverSecret: SECRET, ...options }).pipe(
            Effect.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET }))
          )
        )
        assert.strictEqual(error._tag, "InvalidRequestError")
        assert.strictEqual(error.parameter, parameter)
      }))
  }
})
