/**
 * The engine's metrics: the responses counted by action and return code, the latency of each attempt by action. Their
 * labels are bounded (the declared actions, the codes of the table), and each tagged metric is built once.
 */
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"
import { Action } from "../Params.js"
import type { ResponseDecodeError, TransportError } from "../ZegoError.js"
import { knownCodes } from "../ZegoError.js"
import type { Exchange } from "./envelope.js"

// Incremental: it only goes up, so OpenTelemetry exports it as a monotonic COUNTER, not an UP_DOWN_COUNTER.
const responses = MetricKey.counter("zego_rtmp_dispatch_responses", {
  description: "RTMP dispatch attempts by action and return code (transport / decode when there was none)",
  incremental: true
})
// Effect metrics have no unit field: @effect/opentelemetry reads the unit from a `unit` tag (UCUM `ms`).
const latency = MetricKey.histogram(
  "zego_rtmp_dispatch_latency_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 14 }),
  "Round trip of one RTMP dispatch attempt, in milliseconds"
)
// Each labelled metric is built once, from its whole key. `Metric.tagged` would wrap the metric instead: every
// update then unions the labels into a new array, which misses Effect's per-labels cache, so that each update made
// a new key, formatted its description to hash it and looked it up in the registry (a fifth of a dispatch's CPU).
// The `action` label takes only the declared actions' names.
const latencyByAction = Object.fromEntries(
  Action.literals.map((action) => [
    action,
    Metric.fromMetricKey(
      MetricKey.taggedWithLabels(latency, [MetricLabel.make("unit", "ms"), MetricLabel.make("action", action)])
    )
  ])
) as Record<Action, Metric.Metric.Histogram<number>>
/**
 * The `code` label of a response: a code of the table (or 0) by value, any other under `other`. A server may send
 * any number of distinct codes, and each label value is a series kept for the life of the process.
 */
const codeLabel = (code: number | "transport" | "decode", answers: ReadonlyArray<number>): string =>
  typeof code === "string"
    ? code
    : code === 0 || knownCodes.includes(code) || answers.includes(code)
    ? String(code)
    : "other"
const responseCounters = new Map<string, Metric.Metric.Counter<number>>()
const responseCounter = (
  action: Action,
  code: number | "transport" | "decode",
  answers: ReadonlyArray<number>
): Metric.Metric.Counter<number> => {
  const label = codeLabel(code, answers)
  const key = `${action} ${label}`
  const cached = responseCounters.get(key)
  if (cached !== undefined) return cached
  const counter = Metric.fromMetricKey(
    MetricKey.taggedWithLabels(responses, [MetricLabel.make("action", action), MetricLabel.make("code", label)])
  )
  responseCounters.set(key, counter)
  return counter
}

/**
 * Counts an attempt's outcome (its return code, `transport` or `decode`; nothing when it was interrupted) and
 * records its latency, under the fiber's metric labels.
 */
export const record = (
  action: Action,
  answers: ReadonlyArray<number>,
  labels: ReadonlyArray<MetricLabel.MetricLabel>,
  latencyMillis: number,
  outcome: Either.Either<Exchange, TransportError | ResponseDecodeError> | undefined
): void => {
  if (outcome !== undefined) {
    responseCounter(
      action,
      Either.isRight(outcome)
        ? outcome.right.envelope.Code
        : outcome.left._tag === "TransportError"
        ? "transport"
        : "decode",
      answers
    ).unsafeUpdate(1, labels)
  }
  latencyByAction[action].unsafeUpdate(latencyMillis, labels)
}
