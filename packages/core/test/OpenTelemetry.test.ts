/**
 * The metrics and spans as an Effect user exports them: `@effect/opentelemetry`'s `NodeSdk.layer` with the SDK's own
 * in-memory exporters, read back the way a collector would see them. The span attributes' values are checked in
 * Observability.test.ts; this file checks what the SDK makes of the metrics (names, instrument types, monotonicity,
 * units, attributes) and that the same layer carries the spans.
 */
import { Callback, CallbackReceiver } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  InstrumentType,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import type { Histogram, MetricData } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { mockLayer, service, withTime } from "./utils.js"

const RESPONSES = "zego_rtmp_dispatch_responses"
const LATENCY = "zego_rtmp_dispatch_latency_ms"

/** The SDK wired as a user would, with exporters the test can read. */
const otel = () => {
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  // Exports only when flushed below; the interval is never reached by the test.
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 })
  const spans = new InMemorySpanExporter()
  const layer = NodeSdk.layer(() => ({
    resource: { serviceName: "effect-zego-test" },
    spanProcessor: new SimpleSpanProcessor(spans),
    metricReader: reader
  }))
  /** Collects the metrics now and returns this collection's `zego_` metrics by name. */
  const collect = Effect.promise(async () => {
    metrics.reset()
    await reader.forceFlush()
    const exported = metrics.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((s) => s.metrics))
    return new Map(
      exported.filter((m) => m.descriptor.name.startsWith("zego_")).map((m) => [m.descriptor.name, m] as const)
    )
  })
  return { layer, collect, spans: () => spans.getFinishedSpans() }
}

/**
 * The instrument type @effect/opentelemetry puts on the descriptor (the SDK's public type leaves it out; exporters
 * see a SUM and its `isMonotonic`, which is checked as well).
 */
const instrument = (metric: MetricData): unknown => (metric.descriptor as { readonly type?: unknown }).type

/** A metric's values by the `action code` of each point (histograms: the count), 0 for a metric not yet seen. */
const values = (metric: MetricData | undefined): Map<string, number> =>
  new Map(
    (metric?.dataPoints ?? []).map((point) => [
      `${point.attributes.action} ${point.attributes.code ?? ""}`.trim(),
      typeof point.value === "number" ? point.value : (point.value as Histogram).count
    ])
  )

/** How much each point grew between two collections (points that did not move left out). */
const increase = (before: MetricData | undefined, after: MetricData | undefined): Record<string, number> => {
  const old = values(before)
  return Object.fromEntries(
    [...values(after)].map(([key, value]) => [key, value - (old.get(key) ?? 0)]).filter(([, delta]) => delta !== 0)
  )
}

describe("OpenTelemetry through @effect/opentelemetry and the SDK's in-memory exporters", () => {
  it.effect("exports a monotonic counter of responses, a latency histogram in ms, and one client span per call", () => {
    const { collect, layer, spans } = otel()
    return Effect.gen(function*() {
      // Counts are cumulative over the process: compare two collections rather than trust a fresh registry.
      const before = yield* collect
      const dispatch = yield* service
      yield* withTime(dispatch.dispatch({ streamId: "ok", type: "pull" })) // 1001 (retried), then 0
      yield* Effect.flip(dispatch.dispatch({ streamId: "refused", type: "push" })) // 100000005, not retried
      const after = yield* collect

      const responses = after.get(RESPONSES)
      assert.isDefined(responses)
      assert.strictEqual(responses!.dataPointType, DataPointType.SUM)
      assert.strictEqual(instrument(responses!), InstrumentType.COUNTER, "a COUNTER, not an UP_DOWN_COUNTER")
      assert.isTrue(responses!.dataPointType === DataPointType.SUM && responses!.isMonotonic, "monotonic")
      assert.strictEqual(responses!.aggregationTemporality, AggregationTemporality.CUMULATIVE)
      assert.strictEqual(responses!.descriptor.unit, "1")
      assert.include(responses!.descriptor.description, "return code")
      for (const point of responses!.dataPoints) {
        assert.deepStrictEqual(Object.keys(point.attributes).sort(), ["action", "code"])
      }
      assert.deepStrictEqual(increase(before.get(RESPONSES), responses), {
        "RTMPDispatchV2 1001": 1,
        "RTMPDispatchV2 0": 1,
        "RTMPDispatchV2 100000005": 1
      })

      const latency = after.get(LATENCY)
      assert.isDefined(latency)
      assert.strictEqual(latency!.dataPointType, DataPointType.HISTOGRAM)
      assert.strictEqual(instrument(latency!), InstrumentType.HISTOGRAM)
      assert.strictEqual(latency!.descriptor.unit, "ms")
      assert.include(latency!.descriptor.description, "milliseconds")
      for (const point of latency!.dataPoints) {
        assert.deepStrictEqual(point.attributes, { action: point.attributes.action, unit: "ms" })
        assert.deepStrictEqual(
          (point.value as Histogram).buckets.boundaries,
          Array.from({ length: 13 }, (_, i) => 2 ** i),
          "1 ms to 4096 ms, doubling, then an open-ended bucket"
        )
      }
      assert.deepStrictEqual(increase(before.get(LATENCY), latency), { RTMPDispatchV2: 3 }, "one per attempt")

      const calls = spans().filter((span) => span.name.startsWith("RtmpDispatch."))
      assert.strictEqual(calls.length, 2, "one span per call, none per attempt")
      const [ok, refused] = calls
      for (const span of [ok!, refused!]) {
        assert.strictEqual(span.name, "RtmpDispatch.RTMPDispatchV2")
        assert.strictEqual(span.kind, SpanKind.CLIENT)
      }
      const keys = ["zego.action", "zego.attempts", "zego.code", "zego.request_id", "zego.stream_id", "zego.type"]
      assert.deepStrictEqual(Object.keys(ok!.attributes).sort(), keys)
      assert.notStrictEqual(ok!.status.code, SpanStatusCode.ERROR)
      assert.deepStrictEqual(Object.keys(refused!.attributes).sort(), [...keys, "zego.error"].sort())
      assert.strictEqual(refused!.attributes["zego.error"], "SignatureInvalidError")
      assert.strictEqual(refused!.status.code, SpanStatusCode.ERROR)
    }).pipe(
      Effect.provide(mockLayer({ script: [ZegoMock.code(1001), ZegoMock.success(), ZegoMock.code(100000005)] })),
      Effect.provide(layer)
    )
  })

  it.effect("exports one server span per callback received, naming the event's kind or the error's tag", () => {
    const { layer, spans } = otel()
    const secret = Redacted.make("callback-secret")
    const body = (nonce: string, signature?: string) => {
      const timestamp = "1700000000"
      return JSON.stringify({
        event: "room_create",
        appid: "1234567890",
        timestamp,
        nonce,
        signature: signature ?? Callback.signature(secret, timestamp, nonce)
      })
    }
    return Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const receiver = yield* CallbackReceiver.makeReceiver({ secret })
      yield* receiver.receive({ body: body("otel-1") })
      yield* Effect.flip(receiver.receive({ body: body("otel-2", "0".repeat(40)) }))
      const received = spans().filter((span) => span.name === "Callback.receive")
      assert.strictEqual(received.length, 2)
      const [ok, refused] = received
      assert.strictEqual(ok!.kind, SpanKind.SERVER)
      assert.deepStrictEqual(ok!.attributes, { "zego.callback.event": "UnknownEvent" })
      assert.notStrictEqual(ok!.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(refused!.kind, SpanKind.SERVER)
      assert.deepStrictEqual(refused!.attributes, { "zego.callback.error": "CallbackSignatureError" })
      assert.strictEqual(refused!.status.code, SpanStatusCode.ERROR)
    }).pipe(Effect.provide(layer))
  })
})
