/** The most timestamps (ms) in any window of `windowMillis`. */
export const maxInWindow = (times: ReadonlyArray<number>, windowMillis: number): number => {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMillis) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}
