/**
 * The live set of fault rules: which one fires for a call (or a callback), counting down the `next` of each. The
 * same bookkeeping serves the API's rules and the callbacks' rules; only what a rule matches differs.
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type { CallbackFault, CallbackFaultRule, Fault, FaultRule } from "../Fault.js"

/** What every rule has: a count, a probability, a stream id pattern. */
interface BaseRule {
  readonly next?: number | undefined
  readonly probability?: number | undefined
  readonly streamId?: string | undefined
}

interface Entry<R> {
  readonly rule: R
  readonly pattern: RegExp | undefined
  /** Calls left for a `next` rule. */
  remaining: number | undefined
}

export interface Rules<R, V, F> {
  readonly add: (rule: R) => Effect.Effect<void>
  readonly clear: Effect.Effect<void>
  /** The fault of the first rule that fires for this view, if any. */
  readonly pick: (view: V) => Effect.Effect<F | undefined>
}

const makeRules = <R extends BaseRule, V, F>(
  initial: ReadonlyArray<R>,
  matches: (rule: R, view: V) => boolean,
  streamIdOf: (view: V) => string,
  faultOf: (rule: R) => F
): Rules<R, V, F> => {
  let entries: Array<Entry<R>> = []
  const add = (rule: R) =>
    Effect.sync(() => {
      entries.push({
        rule,
        pattern: rule.streamId === undefined ? undefined : new RegExp(rule.streamId),
        remaining: rule.next
      })
    })
  for (const rule of initial) Effect.runSync(add(rule))

  const pick = (view: V) =>
    Effect.gen(function*() {
      for (const entry of entries) {
        if (entry.remaining === 0 || !matches(entry.rule, view)) continue
        if (entry.pattern !== undefined && !entry.pattern.test(streamIdOf(view))) continue
        if (entry.rule.probability !== undefined && (yield* Random.next) >= entry.rule.probability) continue
        // Checked and counted down in one synchronous step, so that two concurrent calls cannot both take the
        // last one.
        const fired = yield* Effect.sync(() => {
          if (entry.remaining === undefined) return true
          if (entry.remaining === 0) return false
          entry.remaining -= 1
          if (entry.remaining === 0) entries = entries.filter((other) => other !== entry)
          return true
        })
        if (fired) return faultOf(entry.rule)
      }
      return undefined
    })

  return {
    add,
    clear: Effect.sync(() => {
      entries = []
    }),
    pick
  }
}

/** What a call looks like to a rule: its raw query parameters. */
export interface CallView {
  readonly appId: string | null
  readonly action: string | null
  readonly streamId: string | null
}

export type Faults = Rules<FaultRule, CallView, Fault>

export const make = (initial: ReadonlyArray<FaultRule>): Faults =>
  makeRules(
    initial,
    (rule, call: CallView) =>
      (rule.appId === undefined || call.appId === String(rule.appId)) &&
      (rule.action === undefined || call.action === rule.action),
    (call) => call.streamId ?? "",
    (rule) => rule.fault
  )

/** What a callback looks like to a rule. */
export interface CallbackView {
  readonly appId: number
  readonly event: string
  readonly streamId: string
}

export type CallbackFaults = Rules<CallbackFaultRule, CallbackView, CallbackFault>

export const makeCallbackFaults = (initial: ReadonlyArray<CallbackFaultRule>): CallbackFaults =>
  makeRules(
    initial,
    (rule, callback: CallbackView) =>
      (rule.appId === undefined || callback.appId === rule.appId) &&
      (rule.event === undefined || callback.event === rule.event),
    (callback) => callback.streamId,
    (rule) => rule.callback
  )
