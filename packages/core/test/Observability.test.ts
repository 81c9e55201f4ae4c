import { RtmpDispatch } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import { APP_ID, mockLayer, recordSpans, requests, SECRET, SECRET_TEXT, service, withTime } from "./utils.js"

/** Records every log line (logfmt, all levels) and every span. */
const capture = () => {
  const logs: Array<string> = []
  const tracing = recordSpans()
  const layer = Layer.mergeAll(
    Logger.replace(Logger.defaultLogger, Logger.make((options) => logs.push(Logger.logfmtLogger.log(options)))),
    Logger.minimumLogLevel(LogLevel.All),
    tracing.layer
  )
  return { logs, spans: tracing.spans, layer }
}

const responseCount = (code: string) =>
  Effect.map(Metric.snapshot, (pairs) =>
    pairs
      .filter((pair) =>
        pair.metricKey.name === "zego_rtmp_dispatch_responses" &&
        pair.metricKey.tags.some((tag) => tag.key === "code" && tag.value === code)
      )
      .reduce(
        (sum, pair) => sum + (MetricState.isCounterState(pair.metricState) ? Number(pair.metricState.count) : 0),
        0
      ))

describe("observability", () => {
  it.effect("each call is a span with action, type, stream id, attempts, code and request id", () => {
    const { layer, spans } = capture()
    return Effect.gen(function*() {
      yield* withTime((yield* service).dispatch({ streamId: "traced", type: "pull" }))
      const span = spans.find((s) => s.name === "RtmpDispatch.RTMPDispatchV2")
      assert.isDefined(span)
      assert.strictEqual(span!.kind, "client")
      assert.deepStrictEqual(Object.fromEntries(span!.attributes), {
        "zego.action": "RTMPDispatchV2",
        "zego.type": "pull",
        "zego.stream_id": "traced",
        "zego.attempts": 2,
        "zego.code": 0,
        "zego.request_id": "mock-2"
      })
      // No span (the HTTP client's included) records the signed URL.
      for (const s of spans) assert.notInclude(JSON.stringify([...s.attributes]), "Signature")
    }).pipe(
      Effect.provide(mockLayer({ script: [ZegoMock.code(1001), ZegoMock.success()] })),
      Effect.provide(layer)
    )
  })

  it.effect("a failed call's span carries the error tag, code and request id", () => {
    const { layer, spans } = capture()
    return Effect.gen(function*() {
      yield* Effect.flip((yield* service).dispatch({ streamId: "s", type: "push" }))
      const span = spans.find((s) => s.name === "RtmpDispatch.RTMPDispatchV2")!
      assert.strictEqual(span.attributes.get("zego.error"), "SignatureInvalidError")
      assert.strictEqual(span.attributes.get("zego.code"), 100000005)
      assert.strictEqual(span.attributes.get("zego.request_id"), "mock-1")
      assert.strictEqual(span.attributes.get("zego.attempts"), 1)
    }).pipe(Effect.provide(mockLayer({ script: [ZegoMock.code(100000005)] })), Effect.provide(layer))
  })

  describe("under OpenTelemetry (an in-memory exporter)", () => {
    const otel = () => {
      const exporter = new InMemorySpanExporter()
      const layer = NodeSdk.layer(() => ({
        resource: { serviceName: "effect-zego-test" },
        spanProcessor: new SimpleSpanProcessor(exporter)
      }))
      const spans = () => exporter.getFinishedSpans().filter((span) => span.name.startsWith("RtmpDispatch."))
      return { layer, spans, all: () => exporter.getFinishedSpans() }
    }

    it.effect("a call is one client span with the action, type, stream id, attempts, code and request id", () => {
      const { all, layer, spans } = otel()
      return Effect.gen(function*() {
        yield* Effect.withSpan(
          withTime((yield* service).dispatch({ streamId: "traced", type: "pull" })),
          "caller"
        )
        yield* withTime((yield* service).dispatchAddresses({ streamId: "v1", type: "push" }))
        const [v2, v1] = spans()
        assert.strictEqual(spans().length, 2, "one span per call, none per attempt or per HTTP request")
        assert.strictEqual(v2!.name, "RtmpDispatch.RTMPDispatchV2")
        assert.strictEqual(v2!.kind, SpanKind.CLIENT)
        assert.deepStrictEqual({ ...v2!.attributes }, {
          "zego.action": "RTMPDispatchV2",
          "zego.type": "pull",
          "zego.stream_id": "traced",
          "zego.attempts": 2,
          "zego.code": 0,
          "zego.request_id": "mock-2"
        })
        const caller = all().find((span) => span.name === "caller")!
        assert.strictEqual(v2!.parentSpanContext?.spanId, caller.spanContext().spanId, "a child of the caller's span")
        assert.strictEqual(v1!.name, "RtmpDispatch.RTMPDispatch")
        assert.deepStrictEqual({ ...v1!.attributes }, {
          "zego.action": "RTMPDispatch",
          "zego.type": "push",
          "zego.stream_id": "v1",
          "zego.attempts": 1,
          "zego.code": 0,
          "zego.request_id": "mock-3"
        })
        for (const span of all()) assert.notInclude(JSON.stringify(span.attributes), "Signature")
      }).pipe(
        Effect.provide(mockLayer({ script: [ZegoMock.code(1001), ZegoMock.success(), ZegoMock.success()] })),
        Effect.provide(layer)
      )
    })

    it.effect("a failed call's span carries the error tag, code, request id and its status is an error", () => {
      const { layer, spans } = otel()
      return Effect.gen(function*() {
        yield* Effect.flip((yield* service).dispatch({ streamId: "s", type: "push" }))
        yield* Effect.flip((yield* service).dispatch({ streamId: "", type: "push" }))
        const [refused, invalid] = spans()
        assert.deepStrictEqual({ ...refused!.attributes }, {
          "zego.action": "RTMPDispatchV2",
          "zego.type": "push",
          "zego.stream_id": "s",
          "zego.attempts": 1,
          "zego.error": "SignatureInvalidError",
          "zego.code": 100000005,
          "zego.request_id": "mock-1"
        })
        assert.strictEqual(refused!.status.code, 2, "ERROR")
        assert.deepStrictEqual({ ...invalid!.attributes }, {
          "zego.action": "RTMPDispatchV2",
          "zego.error": "InvalidRequestError"
        })
      }).pipe(Effect.provide(mockLayer({ script: [ZegoMock.code(100000005)] })), Effect.provide(layer))
    })
  })

  it.effect("the debug log line shows the URL with its Signature redacted", () => {
    const { layer, logs } = capture()
    return Effect.gen(function*() {
      yield* (yield* service).dispatch({ streamId: "logged", type: "push" })
      const [request] = yield* requests
      const line = logs.find((l) => l.includes("ZEGOCLOUD request"))
      assert.isDefined(line)
      assert.include(line!, "level=DEBUG")
      assert.include(line!, "Signature=<redacted>")
      assert.include(line!, "StreamId=logged")
      assert.notInclude(line!, request!.params.Signature!)
    }).pipe(Effect.provide(mockLayer()), Effect.provide(layer))
  })

  it.effect("counts responses by return code", () =>
    Effect.gen(function*() {
      const before = [yield* responseCount("1010"), yield* responseCount("0"), yield* responseCount("transport")]
      yield* withTime((yield* service).dispatch({ streamId: "s", type: "push" }))
      const after = [yield* responseCount("1010"), yield* responseCount("0"), yield* responseCount("transport")]
      assert.deepStrictEqual(after.map((n, i) => n - before[i]!), [1, 1, 1])
    }).pipe(
      Effect.provide(mockLayer({ script: [ZegoMock.code(1010), ZegoMock.networkError(), ZegoMock.success()] }))
    ))

  it.effect("records each attempt's latency in a histogram", () =>
    Effect.gen(function*() {
      const count = Effect.map(Metric.snapshot, (pairs) =>
        pairs
          .filter((p) => p.metricKey.name === "zego_rtmp_dispatch_latency_ms")
          .reduce((sum, p) => sum + (MetricState.isHistogramState(p.metricState) ? p.metricState.count : 0), 0))
      const before = yield* count
      yield* (yield* service).dispatch({ streamId: "s", type: "push" })
      assert.strictEqual((yield* count) - before, 1)
    }).pipe(Effect.provide(mockLayer())))
})

describe("the server secret", () => {
  it.effect("appears in no log line, error, span attribute, nor String/JSON of options and errors", () => {
    const { layer, logs, spans } = capture()
    return Effect.gen(function*() {
      const dispatch = yield* service
      const texts: Array<string> = []
      yield* withTime(dispatch.dispatch({ streamId: "ok", type: "push" }))
      for (const streamId of ["bad", "bad", "bad", "bad"]) {
        const exit = yield* withTime(Effect.exit(dispatch.dispatch({ streamId, type: "pull" })))
        if (exit._tag === "Failure") {
          texts.push(Cause.pretty(exit.cause))
          const error = Option.getOrThrow(Cause.failureOption(exit.cause))
          texts.push(String(error), JSON.stringify(error), error.message, error.stack ?? "")
        }
      }
      const invalid = yield* Effect.flip(dispatch.dispatch({ streamId: "", type: "pull" }))
      texts.push(String(invalid), JSON.stringify(invalid))
      const options: RtmpDispatch.Options = { appId: APP_ID, serverSecret: SECRET }
      texts.push(String(options.serverSecret), JSON.stringify(options), `${options.serverSecret}`)
      const layerError = yield* Effect.flip(
        RtmpDispatch.make({ ...options, baseUrl: `http://example.com/${SECRET_TEXT.slice(0, 4)}` }).pipe(
          Effect.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET }))
        )
      )
      texts.push(String(layerError))
      for (const span of spans) texts.push(JSON.stringify([...span.attributes]), span.name)

      assert.isAbove(logs.length, 4)
      assert.isAbove(spans.length, 4)
      for (const text of [...logs, ...texts]) assert.notInclude(text, SECRET_TEXT)
    }).pipe(
      Effect.provide(mockLayer({
        handler: (request) =>
          request.params.StreamId === "ok"
            ? ZegoMock.success()
            : [ZegoMock.code(100000005), ZegoMock.code(1010), ZegoMock.raw(500, "oops"), ZegoMock.networkError()][
              Number(request.requestId.slice(5)) % 4
            ]!
      })),
      Effect.provide(layer)
    )
  })

  it.effect("is read redacted from the environment by layerConfig", () =>
    Effect.gen(function*() {
      const dispatch = yield* service
      assert.strictEqual(dispatch.appId, 4242)
      assert.strictEqual(dispatch.baseUrl, "http://127.0.0.1:9")
      yield* dispatch.dispatch({ streamId: "s", type: "push" })
      const [request] = yield* requests
      assert.strictEqual(request?.params.IsTest, "true")
      assert.strictEqual(request?.params.StreamId, "zegotest-4242-s")
    }).pipe(
      Effect.provide(
        RtmpDispatch.layerConfig().pipe(
          Layer.provideMerge(ZegoMock.layer({ appId: 4242, serverSecret: SECRET })),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
            new Map([
              ["ZEGO_APP_ID", "4242"],
              ["ZEGO_SERVER_SECRET", SECRET_TEXT],
              ["ZEGO_BASE_URL", "http://127.0.0.1:9"],
              ["ZEGO_IS_TEST", "true"]
            ])
          )))
        )
      )
    ))

  it.effect("layerConfig fails with a ConfigError naming a missing variable, without the secret", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(
        RtmpDispatch.layerConfig().pipe(
          Layer.provide(ZegoMock.layer({ appId: 1, serverSecret: SECRET })),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["ZEGO_SERVER_SECRET", SECRET_TEXT]]))))
        )
      ))
      assert.strictEqual(exit._tag, "Failure")
      const text = exit._tag === "Failure" ? Cause.pretty(exit.cause) : ""
      assert.include(text, "ZEGO_APP_ID")
      assert.notInclude(text, SECRET_TEXT)
    }).pipe(Effect.scoped))
})
