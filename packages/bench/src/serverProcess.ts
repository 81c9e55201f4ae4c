/**
 * Starts `server.js` in a child process and talks to it over IPC. Every child started here is killed when the
 * bench ends, normally or not.
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { ParentMessage, ServerMessage } from "./server.js"

export interface ServerStats {
  readonly received: number
  readonly invalid: number
  readonly held: number
  readonly connections: number
  readonly cpuMicros: number
}

export interface ServerProcess {
  readonly baseUrl: string
  readonly stats: () => Promise<ServerStats>
  readonly release: () => void
  readonly close: () => void
}

const children = new Set<ChildProcess>()
process.on("exit", () => {
  for (const child of children) child.kill()
})

const withTimeout = <A>(promise: Promise<A>, millis: number, what: string): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${millis} ms`)), millis)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Forks the server (`canned`, or `hold` with a delay) with the secret it checks signatures against. */
export const start = async (
  options: { readonly mode: "canned" | "hold"; readonly delayMillis?: number; readonly serverSecret: string }
): Promise<ServerProcess> => {
  const child = fork(fileURLToPath(new URL("./server.js", import.meta.url)), [
    options.mode,
    String(options.delayMillis ?? 0)
  ], {
    execArgv: [],
    env: { ...process.env, BENCH_SERVER_SECRET: options.serverSecret },
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  children.add(child)
  const close = () => {
    children.delete(child)
    if (child.exitCode === null) child.kill()
  }
  const pending = new Map<number, (stats: ServerStats) => void>()
  let nextId = 0
  const listening = new Promise<number>((resolve, reject) => {
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the bench server exited with ${code}`)))
    child.on("message", (message: ServerMessage) => {
      if (message.type === "listening") return resolve(message.port)
      pending.get(message.id)?.(message)
      pending.delete(message.id)
    })
  })
  try {
    const port = await withTimeout(listening, 10_000, "starting the bench server")
    const post = (message: ParentMessage) => child.send(message)
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      stats: () => {
        const id = nextId++
        const answer = new Promise<ServerStats>((resolve) => pending.set(id, resolve))
        post({ type: "stats", id })
        // Generous: with 10 000 dispatches being started, the bench's own event loop may answer late.
        return withTimeout(answer, 30_000, "bench server stats")
      },
      release: () => post({ type: "release" }),
      close
    }
  } catch (error) {
    close()
    throw error
  }
}
