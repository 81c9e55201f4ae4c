/**
 * Throughput and latency: every client at every concurrency, in interleaved rounds (each round runs every client
 * once for a fixed slice, the order rotated from round to round), against one canned server process (or, without
 * one, against servers of the clients' own, whose CPU is then the client's).
 */
import type { Client, Slice } from "./clients.js"
import type { ServerProcess } from "./serverProcess.js"
import { median, percentiles, round } from "./stats.js"

export interface ThroughputOptions {
  readonly rounds: number
  readonly sliceMillis: number
  readonly warmupMillis: number
  readonly concurrencies: ReadonlyArray<number>
}

export interface RoundFigures {
  readonly rps: number
  readonly count: number
  readonly failures: number
  readonly elapsedMillis: number
  readonly clientCpuMicros: number
  readonly serverCpuMicros: number
  /** Connections the server accepted during the slice. */
  readonly connections: number
}

/** The figures of one client at one concurrency over all rounds. */
export interface Cell {
  readonly client: string
  readonly concurrency: number
  readonly rps: number
  readonly p50Millis: number
  readonly p99Millis: number
  /** Client CPU time per request (user + system). */
  readonly clientCpuMicrosPerRequest: number
  /** The share of one core the server process used. */
  readonly serverCpuShare: number
  /** Connections the server accepted, all rounds together. */
  readonly connections: number
  readonly failures: number
  readonly firstFailure: string | undefined
  readonly rounds: ReadonlyArray<RoundFigures>
}

export interface Participant {
  readonly client: Client
  /** The concurrencies this client runs at. */
  readonly concurrencies: ReadonlyArray<number>
}

const gc = (): void => globalThis.gc?.()

const noServer = { cpuMicros: 0, connections: 0 }

const runSlice = async (
  server: ServerProcess | undefined,
  client: Client,
  concurrency: number,
  millis: number
): Promise<{ slice: Slice; figures: RoundFigures }> => {
  const serverBefore = server === undefined ? noServer : await server.stats()
  const cpuBefore = process.cpuUsage()
  const slice = await client.run(concurrency, millis)
  const cpu = process.cpuUsage(cpuBefore)
  const serverAfter = server === undefined ? noServer : await server.stats()
  return {
    slice,
    figures: {
      rps: round(slice.count / slice.elapsedMillis * 1000, 0),
      count: slice.count,
      failures: slice.failures,
      elapsedMillis: round(slice.elapsedMillis, 1),
      clientCpuMicros: cpu.user + cpu.system,
      serverCpuMicros: serverAfter.cpuMicros - serverBefore.cpuMicros,
      connections: serverAfter.connections - serverBefore.connections
    }
  }
}

export const run = async (
  server: ServerProcess | undefined,
  participants: ReadonlyArray<Participant>,
  options: ThroughputOptions,
  progress: (line: string) => void
): Promise<Array<Cell>> => {
  // Warmed at its highest concurrency, so that every connection a timed slice uses is open before it starts.
  for (const { client, concurrencies } of participants) {
    await client.run(Math.max(...concurrencies), options.warmupMillis)
  }
  // Full collections are forced between rounds only. Forced before every slice, they made ours measure up to twice
  // as slow per request (one run: 2 800 against 1 450 µs), the heap's sizing starting over for each slice.
  const results = new Map<string, { slices: Array<Slice>; figures: Array<RoundFigures> }>()
  const key = (client: Client, concurrency: number) => `${client.name}@${concurrency}`
  for (let r = 0; r < options.rounds; r++) {
    gc()
    for (const concurrency of options.concurrencies) {
      const here = participants.filter((p) => p.concurrencies.includes(concurrency))
      const order = here.map((_, i) => here[(i + r) % here.length]!)
      for (const { client } of order) {
        const { figures, slice } = await runSlice(server, client, concurrency, options.sliceMillis)
        const cell = results.get(key(client, concurrency)) ?? { slices: [], figures: [] }
        cell.slices.push(slice)
        cell.figures.push(figures)
        results.set(key(client, concurrency), cell)
      }
    }
    progress(`  round ${r + 1}/${options.rounds} done`)
  }
  const cells: Array<Cell> = []
  for (const concurrency of options.concurrencies) {
    for (const { client, concurrencies } of participants) {
      if (!concurrencies.includes(concurrency)) continue
      const { figures, slices } = results.get(key(client, concurrency))!
      const count = figures.reduce((n, f) => n + f.count, 0)
      const elapsed = figures.reduce((n, f) => n + f.elapsedMillis, 0)
      const [p50, p99] = percentiles(slices.map((s) => s.latencies), [0.5, 0.99])
      cells.push({
        client: client.name,
        concurrency,
        rps: round(count / elapsed * 1000, 0),
        p50Millis: round(p50!, 3),
        p99Millis: round(p99!, 3),
        clientCpuMicrosPerRequest: round(figures.reduce((n, f) => n + f.clientCpuMicros, 0) / count, 1),
        serverCpuShare: round(figures.reduce((n, f) => n + f.serverCpuMicros, 0) / (elapsed * 1000), 2),
        connections: figures.reduce((n, f) => n + f.connections, 0),
        failures: figures.reduce((n, f) => n + f.failures, 0),
        firstFailure: slices.find((s) => s.firstFailure !== undefined)?.firstFailure,
        rounds: figures
      })
    }
  }
  return cells
}

/** The median over rounds of `a`'s requests per second divided by `b`'s (rounds are paired: same round, same load). */
export const pairedRatio = (a: Cell, b: Cell): number =>
  round(median(a.rounds.map((figures, i) => figures.rps / b.rounds[i]!.rps)), 3)

/**
 * The median over rounds of `b`'s client CPU per request divided by `a`'s: `a`'s requests per second if the client's
 * CPU were all that bounds them, against `b`'s. The server's share of the machine and waiting for a core drop out.
 */
export const pairedCpuRatio = (a: Cell, b: Cell): number =>
  round(
    median(a.rounds.map((figures, i) => {
      const other = b.rounds[i]!
      return (other.clientCpuMicros / other.count) / (figures.clientCpuMicros / figures.count)
    })),
    3
  )
