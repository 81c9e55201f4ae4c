/**
 * A redis-server of the bench's own on 127.0.0.1 (no persistence, a free port), killed when the bench ends, and
 * what the bench reads from it: `INFO commandstats` (commands run and Redis's time in them) and its CPU time.
 */
import { Redis } from "ioredis"
import { type ChildProcess, spawn } from "node:child_process"
import * as Net from "node:net"

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Zeroes the command statistics (`CONFIG RESETSTAT`). */
  readonly resetStats: () => Promise<void>
  /**
   * Scripts run since the last reset (`EVALSHA` and `EVAL`) and the µs Redis spent in them, and the other commands
   * (those the scripts run count here too: Redis counts them alike).
   */
  readonly commandStats: () => Promise<
    { readonly scripts: number; readonly scriptMicros: number; readonly other: number }
  >
  /** The server's CPU time so far (`used_cpu_sys` + `used_cpu_user`), in µs. */
  readonly cpuMicros: () => Promise<number>
  readonly close: () => void
}

const children = new Set<ChildProcess>()
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL")
})

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** Starts one; `undefined` when redis-server is not installed (the bench then says what it could not measure). */
export const start = async (): Promise<RedisServer | undefined> => {
  const port = await freePort()
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
    { stdio: ["ignore", "pipe", "pipe"] }
  )
  children.add(child)
  const ready = await new Promise<boolean>((resolve) => {
    let output = ""
    const timer = setTimeout(() => resolve(false), 10_000)
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer)
        resolve(true)
      }
    })
    child.once("error", () => {
      clearTimeout(timer)
      resolve(false)
    })
  })
  const close = () => {
    children.delete(child)
    if (child.exitCode === null) child.kill("SIGKILL")
  }
  if (!ready) {
    close()
    return undefined
  }
  const url = `redis://127.0.0.1:${port}`
  const admin = new Redis(url, { lazyConnect: true })
  await admin.connect()
  const info = async (section: string) => {
    const fields = new Map<string, string>()
    for (const line of (await admin.info(section)).split("\r\n")) {
      const colon = line.indexOf(":")
      if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1))
    }
    return fields
  }
  return {
    url,
    port,
    resetStats: async () => {
      await admin.config("RESETSTAT")
    },
    commandStats: async () => {
      let scripts = 0
      let scriptMicros = 0
      let other = 0
      for (const [name, value] of await info("commandstats")) {
        // The bench's own INFO and CONFIG calls are not the clients'.
        if (name === "cmdstat_info" || name.startsWith("cmdstat_config")) continue
        const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0)
        if (name === "cmdstat_evalsha" || name === "cmdstat_eval") {
          scripts += calls
          scriptMicros += Number(/usec=(\d+)/.exec(value)?.[1] ?? 0)
        } else {
          other += calls
        }
      }
      return { scripts, scriptMicros, other }
    },
    cpuMicros: async () => {
      const cpu = await info("cpu")
      return Math.round((Number(cpu.get("used_cpu_sys")) + Number(cpu.get("used_cpu_user"))) * 1e6)
    },
    close: () => {
      admin.disconnect()
      close()
    }
  }
}
