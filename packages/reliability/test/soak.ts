/**
 * How many cases a costly property tries: `quick` in the test command, ten times that in `pnpm soak`
 * (`ZEGO_SOAK=1`), which runs the same tests for longer.
 */
export const runs = (quick: number): number => process.env.ZEGO_SOAK === "1" ? quick * 10 : quick
