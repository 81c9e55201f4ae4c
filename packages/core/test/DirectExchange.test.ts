import { DirectExchange, Params, RtmpDispatch } from "@effect-zego/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { APP_ID, recordSpans, SECRET } from "./utils.js"

const ENVELOPE = JSON.stringify({ Code: 0, Message: "ok", RequestId: "r-1", Data: ["rtmp://127.0.0.1:1935/app/s"] })

/**
 * A client carrying the capability: `answer` decides each exchange (`undefined`: never answers). Its `execute`
 * answers too, so that a call through it is seen (`executed`).
 */
const fakeClient = (answer: (request: DirectExchange.Request) => DirectExchange.Result | undefined) => {
  const requests: Array<DirectExchange.Request> = []
  let cancelled = 0
  let executed = 0
  const execute = HttpClient.make((request) =>
    Effect.sync(() => executed++).pipe(
      Effect.zipRight(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport" })))
    )
  )
  const client = Object.assign(execute, {
    [DirectExchange.TypeId]: {
      get: (request: DirectExchange.Request, done: (result: DirectExchange.Result) => void) => {
        requests.push(request)
        const result = answer(request)
        if (result !== undefined) queueMicrotask(() => done(result))
        return () => cancelled++
      }
    } satisfies DirectExchange.DirectExchange
  })
  return {
    layer: (options: Partial<RtmpDispatch.Options> = {}) =>
      RtmpDispatch.layer({
        appId: APP_ID,
        serverSecret: SECRET,
        baseUrl: "http://127.0.0.1:9/api",
        retry: Schedule.stop,
        rateLimit: false,
        ...options
      }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client))),
    requests,
    cancelled: () => cancelled,
    executed: () => executed
  }
}

const dispatch = Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "s", type: "pull" }))

describe("DirectExchange", () => {
  it.live("an untransformed client carrying it is handed each attempt whole: origin, path, limit and cap", () => {
    const fake = fakeClient(() => ({ _tag: "Response", status: 200, date: undefined, body: ENVELOPE }))
    return Effect.gen(function*() {
      const result = yield* dispatch
      assert.strictEqual(result.nodes[0].url, "rtmp://127.0.0.1:1935/app/s")
      const [request] = fake.requests
      assert.strictEqual(request?.origin, "http://127.0.0.1:9")
      assert.match(request!.path, /^\/api\/\?Action=RTMPDispatchV2&StreamId=s&Sequence=\d+&Type=pull&AppId=12345&/)
      assert.strictEqual(request?.timeoutMillis, 1500)
      assert.strictEqual(request?.maxBodyBytes, 2048)
      assert.strictEqual(fake.executed(), 0)
    }).pipe(Effect.provide(fake.layer({ timeout: "1500 millis", maxResponseBytes: 2048 })))
  })

  it.live("through transformClient the client is an ordinary HttpClient: execute, not the capability", () => {
    const fake = fakeClient(() => ({ _tag: "Response", status: 200, date: undefined, body: ENVELOPE }))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(dispatch)
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(fake.requests.length, 0)
      assert.strictEqual(fake.executed(), 1)
    }).pipe(Effect.provide(fake.layer({ transformClient: (client) => client })))
  })

  it.live("its outcomes are the core's errors: Timeout, TooLarge, Failed (the Signature redacted)", () => {
    const outcomes: Array<DirectExchange.Result> = [
      { _tag: "Timeout" },
      { _tag: "TooLarge", status: 200 },
      { _tag: "Failed", reason: "Transport", cause: new Error("connect ECONNREFUSED at /?Signature=0123abcd") },
      { _tag: "Failed", reason: "Decode", cause: new Error("other side closed") }
    ]
    let next = 0
    const fake = fakeClient(() => outcomes[next++])
    return Effect.gen(function*() {
      const errors = yield* Effect.forEach(outcomes, () => Effect.flip(dispatch))
      assert.deepStrictEqual(errors.map((e) => [e._tag, "reason" in e ? e.reason : undefined]), [
        ["TransportError", "Timeout"],
        ["ResponseDecodeError", undefined],
        ["TransportError", "Connection"],
        ["TransportError", "Connection"]
      ])
      assert.include(errors[0]!.message, "no complete answer within 300ms")
      assert.include(errors[1]!.message, "larger than 64 bytes")
      assert.include(errors[2]!.message, "Transport: connect ECONNREFUSED")
      assert.include(errors[2]!.message, "Signature=<redacted>")
      assert.notInclude(errors[2]!.message, "0123abcd")
      assert.include(errors[3]!.message, "Decode: other side closed")
    }).pipe(Effect.provide(fake.layer({ timeout: "300 millis", maxResponseBytes: 64 })))
  })

  it.live("interrupting a call cancels its exchange", () => {
    const fake = fakeClient(() => undefined)
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(dispatch)
      yield* Effect.sleep("20 millis")
      assert.strictEqual(fake.requests.length, 1)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(fake.cancelled(), 1)
    }).pipe(Effect.provide(fake.layer()))
  })

  it.effect("under TestClock the core keeps the time limit (the client gets none) and cancels the exchange", () => {
    const fake = fakeClient(() => undefined)
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flip(dispatch))
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual((error as { reason?: string }).reason, "Timeout")
      assert.strictEqual(fake.requests[0]?.timeoutMillis, undefined)
      assert.strictEqual(fake.cancelled(), 1)
    }).pipe(Effect.provide(fake.layer({ timeout: "5 seconds" })))
  })

  // With rate limits off, the first attempt is one `Effect.async` around the exchange; what follows its answer (the
  // retry, the clock correction, the errors) is the usual path's, entered from there.
  it.live("a retryable failure of the first attempt is retried, each attempt signed afresh with its own Sequence", () => {
    const outcomes: Array<DirectExchange.Result> = [
      { _tag: "Failed", reason: "Transport", cause: new Error("connect ECONNREFUSED") },
      { _tag: "Response", status: 503, date: undefined, body: "busy" },
      { _tag: "Response", status: 200, date: undefined, body: ENVELOPE }
    ]
    let next = 0
    const fake = fakeClient(() => outcomes[next++])
    return Effect.gen(function*() {
      const result = yield* dispatch
      assert.strictEqual(result.nodes[0].url, "rtmp://127.0.0.1:1935/app/s")
      assert.strictEqual(fake.requests.length, 3)
      const field = (name: string) => fake.requests.map((r) => new URLSearchParams(r.path.split("?")[1]).get(name))
      assert.strictEqual(new Set(field("SignatureNonce")).size, 3)
      const sequences = field("Sequence").map(Number)
      assert.isTrue(sequences[0]! < sequences[1]! && sequences[1]! < sequences[2]!, sequences.join(" "))
    }).pipe(Effect.provide(fake.layer({ retry: Schedule.recurs(3) })))
  })

  it.live("a signature expired with the server's Date: the clock corrected and the same call signed again", () => {
    const serverNow = Date.now() + 90_000
    const date = new Date(serverNow).toUTCString()
    const expired = JSON.stringify({ Code: 100000004, Message: "signature expired", RequestId: "r-0", Data: null })
    const outcomes: Array<DirectExchange.Result> = [
      { _tag: "Response", status: 200, date, body: expired },
      { _tag: "Response", status: 200, date, body: ENVELOPE }
    ]
    let next = 0
    const fake = fakeClient(() => outcomes[next++])
    return Effect.gen(function*() {
      const result = yield* dispatch
      assert.strictEqual(result.requestId, "r-1")
      const [first, second] = fake.requests.map((r) => new URLSearchParams(r.path.split("?")[1]))
      assert.strictEqual(
        second?.get("Sequence"),
        first?.get("Sequence"),
        "the same call: a refused signature applied nothing"
      )
      const timestamp = Number(second?.get("Timestamp"))
      assert.isAtMost(Math.abs(timestamp - serverNow / 1000), 30, "signed on the server's clock")
    }).pipe(Effect.provide(fake.layer()))
  })

  it.live("a code of the table fails typed, not retried; its response is counted by code", () => {
    const unknown = JSON.stringify({ Code: 110, Message: "no such app", RequestId: "r-9", Data: null })
    const fake = fakeClient(() => ({ _tag: "Response", status: 200, date: undefined, body: unknown }))
    const counted = Effect.map(Metric.snapshot, (pairs) =>
      pairs
        .filter((pair) =>
          pair.metricKey.name === "zego_rtmp_dispatch_responses" &&
          pair.metricKey.tags.some((tag) => tag.key === "code" && tag.value === "other")
        )
        .reduce(
          (sum, pair) => sum + (MetricState.isCounterState(pair.metricState) ? Number(pair.metricState.count) : 0),
          0
        ))
    return Effect.gen(function*() {
      const before = yield* counted
      const error = yield* Effect.flip(dispatch)
      assert.strictEqual((error as { code?: number }).code, 110)
      assert.strictEqual(fake.requests.length, 1)
      assert.strictEqual((yield* counted) - before, 1)
    }).pipe(Effect.provide(fake.layer({ retry: Schedule.recurs(3) })))
  })

  it.live("the usual request is read as the schema reads it; anything else goes to the schema, nothing sent", () => {
    const fake = fakeClient(() => ({ _tag: "Response", status: 200, date: undefined, body: ENVELOPE }))
    const call = (request: unknown) =>
      Effect.either(
        Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch(request as Params.DispatchRequest))
      )
    return Effect.gen(function*() {
      const published = yield* call({ type: "publish", streamId: "a_b-1" })
      assert.isTrue(Either.isRight(published) && published.right.type === "push")
      assert.match(fake.requests[0]!.path, /StreamId=a_b-1&Sequence=\d+&Type=push&/)
      const refused: Array<unknown> = [
        { streamId: "a b", type: "pull" },
        { streamId: "x".repeat(257), type: "pull" },
        { streamId: "s", type: "sideways" },
        { streamId: "s", type: "pull", extra: 1 },
        { streamId: "s", type: "pull", [Symbol.for("extra")]: 1 },
        { streamId: 7, type: "pull" },
        null
      ]
      for (const request of refused) {
        const result = yield* call(request)
        assert.isTrue(Either.isLeft(result) && result.left._tag === "InvalidRequestError", String(request))
      }
      // With its optional fields the schema reads it, as before.
      const withIp = yield* call({ streamId: "s", type: "pull", clientIp: "203.0.113.7" })
      assert.isTrue(Either.isRight(withIp))
      assert.match(fake.requests[1]!.path, /&Type=pull&ClientIP=203\.0\.113\.7&/)
      assert.strictEqual(fake.requests.length, 2)
    }).pipe(Effect.provide(fake.layer()))
  })

  it.live("under a real tracer the call is one span with the usual attributes, its retry counted in it", () => {
    const outcomes: Array<DirectExchange.Result> = [
      { _tag: "Timeout" },
      { _tag: "Response", status: 200, date: undefined, body: ENVELOPE }
    ]
    let next = 0
    const fake = fakeClient(() => outcomes[next++])
    const tracing = recordSpans()
    return Effect.gen(function*() {
      yield* dispatch
      const spans = tracing.spans.filter((s) => s.name === "RtmpDispatch.RTMPDispatchV2")
      assert.strictEqual(spans.length, 1)
      assert.strictEqual(spans[0]!.kind, "client")
      assert.deepStrictEqual(Object.fromEntries(spans[0]!.attributes), {
        "zego.action": "RTMPDispatchV2",
        "zego.type": "pull",
        "zego.stream_id": "s",
        "zego.attempts": 2,
        "zego.code": 0,
        "zego.request_id": "r-1"
      })
      assert.strictEqual(fake.requests.length, 2)
    }).pipe(Effect.provide(fake.layer({ retry: Schedule.recurs(1) })), Effect.provide(tracing.layer))
  })
})
