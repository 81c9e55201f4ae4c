/**
 * The live set of fault rules: which one fires for a call, counting down the `next` of each.
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type { Fault, FaultRule } from "../Fault.js"

interface Entry {
  readonly rule: FaultRule
  readonly pattern: RegExp | undefined
  /** Calls left for a `next` rule. */
  remaining: number | undefined
}

/** What a call looks like to a rule: its raw query parameters. */
export interface CallView {
  readonly appId: string | null
  readonly action: string | null
  readonly streamId: string | null
}

export interface Faults {
  readonly add: (rule: FaultRule) => Effect.Effect<void>
  readonly clear: Effect.Effect<void>
  /** The fault of the first rule that fires for this call, if any. */
  readonly pick: (call: CallView) => Effect.Effect<Fault | undefined>
}

const matches = (entry: Entry, call: CallView): boolean =>
  (entry.rule.appId === undefined || call.appId === String(entry.rule.appId)) &&
  (entry.rule.action === undefined || call.action === entry.rule.action) &&
  (entry.pattern === undefined || entry.pattern.test(call.streamId ?? ""))

export const make = (initial: ReadonlyArray<FaultRule>): Faults => {
  let entries: Array<Entry> = []
  const add = (rule: FaultRule) =>
    Effect.sync(() => {
      entries.push({
        rule,
        pattern: rule.streamId === undefined ? undefined : new RegExp(rule.streamId),
        remaining: rule.next
      })
    })
  for (const rule of initial) Effect.runSync(add(rule))

  const pick = (call: CallView) =>
    Effect.gen(function*() {
      for (const entry of entries) {
        if (entry.remaining === 0 || !matches(entry, call)) continue
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
        if (fired) return entry.rule.fault
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
