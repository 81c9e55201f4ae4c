/**
 * How this `zego-rtmp` was started, so that a command it prints runs as written where the reader is: an installed
 * `zego-rtmp` is on the PATH, but in a clone of the repository it is `npx -y pnpm@10.34.9 -s zego-rtmp`, which the
 * repository's runner (scripts/zego-rtmp.mjs) sets in `ZEGO_RTMP_INVOCATION`.
 */

/** The command that starts this `zego-rtmp`: `ZEGO_RTMP_INVOCATION` when set, else `zego-rtmp`. */
export const invocation = (): string => {
  const set = process.env.ZEGO_RTMP_INVOCATION?.trim()
  return set === undefined || set === "" ? "zego-rtmp" : set
}

/** A `zego-rtmp` command line as the reader runs it: `command("emulator --media-node")`. */
export const command = (rest: string): string => `${invocation()} ${rest}`
