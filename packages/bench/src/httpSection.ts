/**
 * The HTTP surfaces of `Endpoints.router` against the floor: `POST /zego/callback`, `GET /streams/:streamId` and
 * `POST /obs/ingest`, each served by three processes of its own (`httpServer.ts`: ours, the floor on the same
 * `@effect/platform` server and router, and the floor's work on bare `node:http`), and loaded from the bench's
 * process by undici keep-alive loops at concurrency 1 and 64, in interleaved rounds (the order of the variants
 * rotated from round to round; full collections forced between rounds, never inside a slice). The ingest's
 * dispatches go to the canned ZEGOCLOUD server, a process of its own too.
 *
 * Every answer is checked: a callback must be answered 200 `{"ok":true}` (applied, not a replay: each has a fresh
 * nonce), a status 200 with the stream's id, an ingest 200 with the node's URL. A ratio is the median over rounds of
 * ours ÷ the floor's req/s in the same round; p99 is over every sample of every round.
 */
import { Endpoints } from "@effect-zego/core"
import { type ChildProcess, fork } from "node:child_process"
import { randomBytes } from "node:crypto"
import { loadavg } from "node:os"
import { fileURLToPath } from "node:url"
import { Agent, request } from "undici"
import * as CallbackParts from "./callbackParts.js"
import type { Slice } from "./clients.js"
import { NODE_URL, runLoops } from "./clients.js"
import type { HttpParentMessage, HttpServerMessage, Variant } from "./httpShared.js"
import { callbackBodies, streamIdOf } from "./httpShared.js"
import * as ServerProcess from "./serverProcess.js"
import type { Target } from "./stats.js"
import { median, percentiles, round } from "./stats.js"

export type Surface = "callback" | "status" | "ingest"

const SURFACES: ReadonlyArray<Surface> = ["callback", "status", "ingest"]

/** The surfaces named in `list` (comma-separated), or all of them. */
export const surfacesFrom = (list: string | undefined): ReadonlyArray<Surface> =>
  list === undefined ? SURFACES : SURFACES.filter((surface) => list.split(",").includes(surface))

export interface Options {
  readonly rounds: number
  readonly sliceMillis: number
  readonly warmupMillis: number
  readonly concurrencies: ReadonlyArray<number>
  readonly surfaces: ReadonlyArray<Surface>
}

interface Server {
  readonly variant: Variant
  readonly baseUrl: string
  readonly stats: () => Promise<{ readonly cpuMicros: number; readonly requests: number }>
  readonly close: () => void
}

const children = new Set<ChildProcess>()
process.on("exit", () => {
  for (const child of children) child.kill()
})

const startServer = async (
  variant: Variant,
  dispatchUrl: string,
  secrets: { readonly callback: string; readonly server: string }
): Promise<Server> => {
  const child = fork(fileURLToPath(new URL("./httpServer.js", import.meta.url)), [variant, dispatchUrl], {
    execArgv: [],
    env: { ...process.env, BENCH_CALLBACK_SECRET: secrets.callback, BENCH_SERVER_SECRET: secrets.server },
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  children.add(child)
  const close = () => {
    children.delete(child)
    if (child.exitCode === null) child.kill()
  }
  const pending = new Map<number, (message: { cpuMicros: number; requests: number }) => void>()
  let nextId = 0
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${variant} server did not start within 20 s`)), 20_000)
    child.once("exit", (code) => reject(new Error(`the ${variant} server exited with ${code}`)))
    child.on("message", (message: HttpServerMessage) => {
      if (message.type === "listening") {
        clearTimeout(timer)
        return resolve(message.port)
      }
      pending.get(message.id)?.(message)
      pending.delete(message.id)
    })
  }).catch((error) => {
    close()
    throw error
  })
  return {
    variant,
    baseUrl: `http://127.0.0.1:${port}`,
    stats: () =>
      new Promise((resolve) => {
        const id = nextId++
        pending.set(id, resolve)
        child.send({ type: "stats", id } satisfies HttpParentMessage)
      }),
    close
  }
}

/** A client of one surface of one server: one request per call, its answer checked. */
const client = (surface: Surface, server: Server, secret: string) => {
  const agent = new Agent({ connections: 128 })
  const next = callbackBodies(secret)
  let n = 0
  const fail = (status: number, text: string) => {
    throw new Error(`${server.variant} ${surface}: HTTP ${status} ${text.slice(0, 200)}`)
  }
  const one = async () => {
    switch (surface) {
      case "callback": {
        const response = await request(server.baseUrl + Endpoints.defaultPaths.callback, {
          method: "POST",
          dispatcher: agent,
          headers: { "content-type": "application/json" },
          body: next()
        })
        const text = await response.body.text()
        if (response.statusCode !== 200 || text !== "{\"ok\":true}") fail(response.statusCode, text)
        return
      }
      case "status": {
        const streamId = streamIdOf(n++)
        const response = await request(`${server.baseUrl}/streams/${streamId}`, { dispatcher: agent })
        const text = await response.body.text()
        if (response.statusCode !== 200 || (JSON.parse(text) as { streamId?: unknown }).streamId !== streamId) {
          fail(response.statusCode, text)
        }
        return
      }
      case "ingest": {
        const response = await request(server.baseUrl + Endpoints.defaultPaths.ingest, {
          method: "POST",
          dispatcher: agent
        })
        const text = await response.body.text()
        if (response.statusCode !== 200 || (JSON.parse(text) as { url?: unknown }).url !== NODE_URL) {
          fail(response.statusCode, text)
        }
        return
      }
    }
  }
  return {
    run: (concurrency: number, millis: number) => runLoops(one, concurrency, millis),
    close: () => agent.close()
  }
}

interface RoundFigures {
  readonly rps: number
  readonly serverCpuMicrosPerRequest: number
}

/** One surface, one variant, one concurrency, over every round. */
export interface Cell {
  readonly surface: Surface
  readonly variant: Variant
  readonly concurrency: number
  readonly rps: number
  readonly p50Millis: number
  readonly p99Millis: number
  /** The server process's CPU time per request. */
  readonly serverCpuMicrosPerRequest: number
  readonly failures: number
  readonly firstFailure: string | undefined
  readonly rounds: ReadonlyArray<RoundFigures>
}

const VARIANTS: ReadonlyArray<Variant> = ["ours", "floor", "raw"]

const pairedRatio = (a: Cell, b: Cell) => round(median(a.rounds.map((r, i) => r.rps / b.rounds[i]!.rps)), 3)

export const run = async (
  secret: string,
  targets: Array<Target>,
  options: Options,
  log: (line?: string) => void
) => {
  const callbackSecret = randomBytes(16).toString("hex")
  log(
    `HTTP surfaces (Endpoints.router): ours, the floor (the same raw work on the same NodeHttpServer and router) and` +
      ` raw (bare node:http), each its own process; ${options.rounds} interleaved rounds, ${options.sliceMillis} ms` +
      ` per variant and concurrency`
  )
  const loadBefore = loadavg()[0]!
  const canned = await ServerProcess.start({ mode: "canned", serverSecret: secret })
  const servers: Array<Server> = []
  const clients: Array<{ close: () => Promise<void> }> = []
  try {
    for (const variant of VARIANTS) {
      servers.push(await startServer(variant, canned.baseUrl, { callback: callbackSecret, server: secret }))
    }
    const cells: Array<Cell> = []
    for (const surface of options.surfaces) {
      const loaders = servers.map((server) => ({ server, client: client(surface, server, callbackSecret) }))
      clients.push(...loaders.map((l) => l.client))
      for (const { client } of loaders) await client.run(16, options.warmupMillis)
      const results = new Map<string, { slices: Array<Slice>; figures: Array<RoundFigures> }>()
      for (let r = 0; r < options.rounds; r++) {
        globalThis.gc?.()
        for (const concurrency of options.concurrencies) {
          const order = loaders.map((_, i) => loaders[(i + r) % loaders.length]!)
          for (const { client, server } of order) {
            const before = await server.stats()
            const slice = await client.run(concurrency, options.sliceMillis)
            const after = await server.stats()
            const key = `${server.variant}@${concurrency}`
            const cell = results.get(key) ?? { slices: [], figures: [] }
            cell.slices.push(slice)
            cell.figures.push({
              rps: slice.count / slice.elapsedMillis * 1000,
              serverCpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) /
                Math.max(1, after.requests - before.requests)
            })
            results.set(key, cell)
          }
        }
      }
      for (const concurrency of options.concurrencies) {
        for (const variant of VARIANTS) {
          const { figures, slices } = results.get(`${variant}@${concurrency}`)!
          const count = slices.reduce((n, s) => n + s.count, 0)
          const elapsed = slices.reduce((n, s) => n + s.elapsedMillis, 0)
          const [p50, p99] = percentiles(slices.map((s) => s.latencies), [0.5, 0.99])
          cells.push({
            surface,
            variant,
            concurrency,
            rps: round(count / elapsed * 1000, 0),
            p50Millis: round(p50!, 3),
            p99Millis: round(p99!, 3),
            serverCpuMicrosPerRequest: round(median(figures.map((f) => f.serverCpuMicrosPerRequest)), 1),
            failures: slices.reduce((n, s) => n + s.failures, 0),
            firstFailure: slices.find((s) => s.firstFailure !== undefined)?.firstFailure,
            rounds: figures
          })
        }
      }
      log(`  ${surface} done`)
    }
    const loadAfter = loadavg()[0]!
    const find = (surface: Surface, variant: Variant, concurrency: number) =>
      cells.find((c) => c.surface === surface && c.variant === variant && c.concurrency === concurrency)
    const pad = (value: unknown, width: number) => String(value).padStart(width)
    const padEnd = (value: unknown, width: number) => String(value).padEnd(width)
    log()
    log(
      `${padEnd("surface", 10)}${padEnd("conc", 5)}${padEnd("variant", 8)}${pad("req/s", 8)}${pad("p50 ms", 9)}` +
        `${pad("p99 ms", 9)}${pad("server µs/req", 15)}${pad("cpu ÷ floor", 13)}${pad("÷ floor", 9)}${
          pad("÷ raw", 8)
        }` +
        `${pad("failed", 8)}`
    )
    const rows = cells.map((cell) => {
      const floor = find(cell.surface, "floor", cell.concurrency)!
      const raw = find(cell.surface, "raw", cell.concurrency)!
      const toFloor = pairedRatio(cell, floor)
      const toRaw = pairedRatio(cell, raw)
      const cpuToFloor = round(cell.serverCpuMicrosPerRequest / floor.serverCpuMicrosPerRequest, 2)
      log(
        `${padEnd(cell.surface, 10)}${padEnd(cell.concurrency, 5)}${padEnd(cell.variant, 8)}${pad(cell.rps, 8)}` +
          `${pad(cell.p50Millis.toFixed(3), 9)}${pad(cell.p99Millis.toFixed(3), 9)}` +
          `${pad(cell.serverCpuMicrosPerRequest, 15)}${pad(cpuToFloor.toFixed(2), 13)}${pad(toFloor.toFixed(2), 9)}` +
          `${pad(toRaw.toFixed(2), 8)}` +
          `${pad(cell.failures, 8)}`
      )
      return { ...cell, ratioToFloor: toFloor, ratioToRaw: toRaw, cpuToFloor }
    })
    log("  (÷ floor, ÷ raw: median over rounds of the paired req/s ratio; server µs/req: the server process's CPU")
    log("   time per request, median over rounds; cpu ÷ floor: that time against the floor's, the steadier figure on a")
    log("   loaded machine)")
    log(`  1-minute load average: ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`)
    for (const cell of cells) {
      if (cell.firstFailure !== undefined) {
        log(`  ${cell.surface} ${cell.variant} @${cell.concurrency}: ${cell.firstFailure}`)
      }
    }
    const parts = options.surfaces.includes("callback")
      ? await CallbackParts.run({ rounds: options.rounds, callbacks: 20_000 })
      : undefined
    if (parts !== undefined) {
      log(
        `  a callback's parts, in this process, µs each (median of ${options.rounds} rounds): the floor's raw work` +
          ` ${parts.floorMicros}, receive ${parts.receiveMicros}, with commit ${parts.receiveCommitMicros}, with the` +
          ` tracker's apply too ${parts.receiveApplyCommitMicros}`
      )
    }
    const names: Record<Surface, string> = {
      callback: "POST /zego/callback",
      status: "GET /streams/:streamId",
      ingest: "POST /obs/ingest"
    }
    for (const surface of options.surfaces) {
      for (const concurrency of options.concurrencies) {
        const ours = find(surface, "ours", concurrency)!
        const floor = find(surface, "floor", concurrency)!
        const ratio = pairedRatio(ours, floor)
        targets.push({
          name: `${names[surface]} at concurrency ${concurrency}`,
          target: "ours ≥ 0.9 × the floor's req/s",
          value: `${ratio.toFixed(2)}×`,
          pass: ratio >= 0.9
        })
        if (surface === "callback" && concurrency === 1) {
          const overhead = ours.p99Millis - floor.p99Millis
          targets.push({
            name: `${names[surface]} p99 at concurrency 1`,
            target: "ours ≤ the floor's + 1 ms",
            value: `${overhead >= 0 ? "+" : ""}${overhead.toFixed(3)} ms`,
            pass: overhead <= 1
          })
        }
      }
    }
    return { options, loadAverage: { before: loadBefore, after: loadAfter }, cells: rows, callbackParts: parts }
  } finally {
    for (const c of clients) await c.close()
    for (const server of servers) server.close()
    canned.close()
  }
}
