/**
 * The child processes the emulator runs itself (ffmpeg for relays and previews): started so that they end with it.
 * Where util-linux's `setpriv` is available, a child is started through `setpriv --pdeathsig TERM` (which executes
 * the program in place, so the PID is the program's): it gets SIGTERM if this process dies without stopping it.
 */
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess, StdioOptions } from "node:child_process"

let guarded: boolean | undefined

/** Whether util-linux's `setpriv --pdeathsig` is available, so that a child ends if this process dies. */
const orphanGuard = (): boolean =>
  guarded ??= spawnSync("setpriv", ["--pdeathsig", "TERM", "--", "true"], { stdio: "ignore", timeout: 5000 })
    .status === 0

/** Starts `program args…`, through `setpriv --pdeathsig TERM` where available. Throws as `spawn` does. */
export const spawnGuarded = (
  program: string,
  args: ReadonlyArray<string>,
  stdio: StdioOptions
): ChildProcess =>
  orphanGuard()
    ? spawn("setpriv", ["--pdeathsig", "TERM", "--", program, ...args], { stdio })
    : spawn(program, [...args], { stdio })

/** Whether a child has exited (or was killed by a signal). */
export const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

/** Stops a child: SIGTERM now, SIGKILL after 3 seconds if it is still there (ffmpeg may ignore a SIGTERM). */
export const stop = (child: ChildProcess): void => {
  if (exited(child)) return
  child.kill("SIGTERM")
  setTimeout(() => exited(child) || child.kill("SIGKILL"), 3000).unref()
}
