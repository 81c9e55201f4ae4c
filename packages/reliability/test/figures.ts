/**
 * What each test file of the suite counts, written to the folder the global setup made, summed at the end.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fs from "node:fs"
import * as path from "node:path"

export const FIGURES_DIR = "ZEGO_RELIABILITY_FIGURES_DIR"

export interface Figures {
  faults: number
  badInputs: number
  requests: number
  defects: number
  hangs: number
  lost: number
  /** The reliability promises that a test of this file found kept, by case id. */
  cases: Array<string>
}

export const zero = (): Figures => ({ faults: 0, badInputs: 0, requests: 0, defects: 0, hangs: 0, lost: 0, cases: [] })

/** This file's running totals; {@link save} writes them for the summary. */
export const figures: Figures = zero()

/**
 * Records that a named case held: call it after the assertions that prove it, so a failed case is not counted.
 * The id is short and stable (`deep-json-response`, `redis-phantom-token`, …); the summary counts distinct ids.
 */
export const held = (caseId: string): void => {
  if (!figures.cases.includes(caseId)) figures.cases.push(caseId)
}

export const save = (name: string): void => {
  const dir = process.env[FIGURES_DIR]
  if (dir !== undefined) fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(figures))
  // Test files share their worker's modules: the next file counts from zero.
  Object.assign(figures, zero())
}

/**
 * Runs `effect` within `limitMillis`: its exit, counting a defect (a failure that is not a typed error) or a
 * hang (no outcome in time) in the figures.
 */
export const observe = <A, E, R>(effect: Effect.Effect<A, E, R>, limitMillis: number) =>
  Effect.gen(function*() {
    const exit = yield* effect.pipe(Effect.timeoutOption(limitMillis), Effect.exit)
    if (Exit.isSuccess(exit) && exit.value._tag === "None") {
      figures.hangs++
      return { _tag: "Hang" as const }
    }
    if (Exit.isFailure(exit) && Cause.isDie(exit.cause)) {
      figures.defects++
      return { _tag: "Defect" as const, cause: Cause.pretty(exit.cause) }
    }
    if (Exit.isFailure(exit)) {
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "None") {
        figures.lost++
        return { _tag: "Lost" as const, cause: Cause.pretty(exit.cause) }
      }
      return { _tag: "Failure" as const, error: failure.value }
    }
    return { _tag: "Success" as const, value: (exit.value as { value: A }).value }
  })
