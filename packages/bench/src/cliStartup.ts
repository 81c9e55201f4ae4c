/**
 * How fast the built `zego-rtmp` (packages/cli/dist/bin.js) starts: each command runs as a child process, the
 * commands interleaved round by round (after one warm-up round, not counted), and the medians of wall time and peak
 * RSS are reported against `node -e 0`, the floor any Node.js program pays.
 *
 * Wall time is measured here, from `spawn` to the child's exit. Peak RSS and CPU time (user + system) come from GNU
 * `/usr/bin/time -f "%M %U %S"` when it is installed, else from the child itself: a preloaded hook
 * (`node --require`) writes `process.resourceUsage()`'s `maxRSS` and CPU times to a file when the process exits.
 * CPU time says what a start costs when the machine is busy and wall times stretch. The children get no `ZEGO_*` variable, so that
 * `dispatch` goes to the emulator embedded in the CLI.
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The built executable. */
export const BIN = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url))

const TIME = "/usr/bin/time"

/** One command, run as `node <args>`. */
export interface Command {
  readonly name: string
  readonly args: ReadonlyArray<string>
  /** Whether a run did what the command is for (its stdout), so that a fast failure is not taken for a fast start. */
  readonly check: (stdout: string) => boolean
}

/** The figures of one command. */
export interface CommandFigures {
  readonly name: string
  readonly wallMillis: ReadonlyArray<number>
  readonly cpuMillis: ReadonlyArray<number>
  readonly peakRssMiB: ReadonlyArray<number>
  readonly medianWallMillis: number
  readonly medianCpuMillis: number
  readonly medianPeakRssMiB: number
}

/** What {@link run} measured. */
export interface Figures {
  readonly rounds: number
  readonly rssSource: string
  /** The 1-minute load average before and after: wall times are only comparable on a machine that was quiet. */
  readonly loadAverage: { readonly before: number; readonly after: number }
  readonly commands: ReadonlyArray<CommandFigures>
}

/** `node -e 0`, `zego-rtmp --version` and an embedded `zego-rtmp dispatch`. */
export const commands = (version: string): ReadonlyArray<Command> => [
  { name: "node -e 0", args: ["-e", "0"], check: () => true },
  { name: "zego-rtmp --version", args: [BIN, "--version"], check: (stdout) => stdout.trim() === version },
  {
    name: "zego-rtmp dispatch --type push --stream-id demo",
    args: [BIN, "dispatch", "--type", "push", "--stream-id", "demo"],
    check: (stdout) => stdout.includes("rtmp://")
  }
]

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** The parent's environment without `ZEGO_*` variables or `NODE_OPTIONS`, and without colours. */
const environment = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { NO_COLOR: "1" }
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("ZEGO_") && key !== "NODE_OPTIONS") env[key] = value
  }
  return env
}

const TIME_FORMAT = "%M %U %S"

/** The peak RSS (KiB) and CPU time (ms) of a `TIME_FORMAT` or hook line, if it is one. */
const parseUsage = (line: string): { readonly peakRssKiB: number; readonly cpuMillis: number } | undefined => {
  const match = /^(\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/.exec(line.trim())
  if (match === null) return undefined
  return { peakRssKiB: Number(match[1]), cpuMillis: (Number(match[2]) + Number(match[3])) * 1000 }
}

/** Whether GNU time is there and reports the peak RSS and CPU times with `-f "%M %U %S"`. */
const hasGnuTime = (): boolean => {
  if (!existsSync(TIME)) return false
  const probe = spawnSync(TIME, ["-f", TIME_FORMAT, process.execPath, "-e", "0"], { encoding: "utf8" })
  return probe.status === 0 && parseUsage(probe.stderr.trim().split("\n").pop() ?? "") !== undefined
}

interface Sample {
  readonly wallMillis: number
  readonly cpuMillis: number
  readonly peakRssKiB: number
}

/** Runs `node <args>` once; `measure` says how the peak RSS is taken. */
const runOnce = (
  command: Command,
  measure: { readonly gnuTime: boolean; readonly directory: string; readonly hook: string }
): Promise<Sample> =>
  new Promise((resolve, reject) => {
    const rssFile = path.join(measure.directory, "usage")
    rmSync(rssFile, { force: true })
    const [program, args] = measure.gnuTime
      ? [TIME, ["-f", TIME_FORMAT, "-o", rssFile, process.execPath, ...command.args]]
      : [process.execPath, ["--require", measure.hook, ...command.args]]
    const started = performance.now()
    let ended = 0
    const child = spawn(program, args, {
      env: { ...environment(), BENCH_MAXRSS_FILE: rssFile },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.once("exit", () => (ended = performance.now()))
    child.once("error", reject)
    child.once("close", (code) => {
      if (code !== 0 || !command.check(stdout)) {
        return reject(
          new Error(`${command.name}: exit status ${code}, stdout ${stdout.trim()}, stderr ${stderr.trim()}`)
        )
      }
      const usage = parseUsage(readFileSync(rssFile, "utf8").trim().split("\n").pop() ?? "")
      if (usage === undefined) return reject(new Error(`${command.name}: no resource usage in ${rssFile}`))
      resolve({ wallMillis: ended - started, ...usage })
    })
  })

/**
 * Runs every command `rounds` times, round by round, each round in a rotated order, after one warm-up round (the
 * files in the page cache, the same for all). Fails if a run fails or prints something else than it should.
 */
export const run = async (
  options: { readonly rounds: number; readonly version: string },
  log: (line: string) => void
): Promise<Figures> => {
  const directory = mkdtempSync(path.join(tmpdir(), "zego-bench-cli-"))
  try {
    const hook = path.join(directory, "usage.cjs")
    writeFileSync(
      hook,
      "process.on(\"exit\", () => { const u = process.resourceUsage(); require(\"node:fs\").writeFileSync(" +
        "process.env.BENCH_MAXRSS_FILE, `${u.maxRSS} ${u.userCPUTime / 1e6} ${u.systemCPUTime / 1e6}`) })\n"
    )
    const loadBefore = loadavg()[0]!
    const gnuTime = hasGnuTime()
    const measure = { gnuTime, directory, hook }
    const list = commands(options.version)
    const samples = list.map(() => [] as Array<Sample>)
    for (let round = -1; round < options.rounds; round++) {
      for (let i = 0; i < list.length; i++) {
        const index = (i + Math.max(round, 0)) % list.length
        const sample = await runOnce(list[index]!, measure)
        if (round >= 0) samples[index]!.push(sample)
      }
      if (round >= 0) log(`  round ${round + 1}/${options.rounds} done`)
    }
    return {
      rounds: options.rounds,
      rssSource: gnuTime
        ? `${TIME} -f "${TIME_FORMAT}" (the child's maximum resident set size, user and system CPU time)`
        : "process.resourceUsage() written by the child at exit (a preloaded hook; no GNU time here)",
      loadAverage: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 },
      commands: list.map((command, index) => {
        const wallMillis = samples[index]!.map((s) => Math.round(s.wallMillis))
        const cpuMillis = samples[index]!.map((s) => Math.round(s.cpuMillis))
        const peakRssMiB = samples[index]!.map((s) => Math.round(s.peakRssKiB / 102.4) / 10)
        return {
          name: command.name,
          wallMillis,
          cpuMillis,
          peakRssMiB,
          medianWallMillis: median(wallMillis),
          medianCpuMillis: median(cpuMillis),
          medianPeakRssMiB: median(peakRssMiB)
        }
      })
    }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}
