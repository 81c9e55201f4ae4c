/**
 * Latency samples and the few statistics the bench prints.
 */

/** Latencies in milliseconds, kept in a preallocated array (samples past its capacity are counted, not kept). */
export class Samples {
  private readonly data: Float64Array
  count = 0
  constructor(capacity: number) {
    this.data = new Float64Array(capacity)
  }
  push(millis: number): void {
    if (this.count < this.data.length) this.data[this.count] = millis
    this.count++
  }
  values(): Float64Array {
    return this.data.subarray(0, Math.min(this.count, this.data.length))
  }
}

/** Nearest-rank percentiles (`p` in 0..1) of several sample sets taken together. */
export const percentiles = (sets: ReadonlyArray<Float64Array>, ps: ReadonlyArray<number>): Array<number> => {
  const all = new Float64Array(sets.reduce((n, set) => n + set.length, 0))
  let offset = 0
  for (const set of sets) {
    all.set(set, offset)
    offset += set.length
  }
  all.sort()
  return ps.map((p) => all.length === 0 ? NaN : all[Math.max(0, Math.ceil(p * all.length) - 1)]!)
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export const round = (value: number, digits: number): number => {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

export const mib = (bytes: number): number => round(bytes / (1024 * 1024), 1)

/** A target of the bench: judged against a limit measured in the same run. */
export interface Target {
  readonly name: string
  readonly target: string
  readonly value: string
  readonly pass: boolean
}
