/**
 * What the shared budget on Redis costs a dispatch, each beside a baseline measured in the same run:
 * - the limiter alone (`withPermit` of nothing, a limit of 10⁶ a second so that nobody waits): client CPU per
 *   permit against raw ioredis running the same script twice per permit (to acquire, then to release);
 * - the awaited Redis round trips of a dispatch: its latency through a proxy that holds every chunk to and from
 *   Redis `delayMillis` each way, less the latency of a dispatch without a budget, over the round trip it adds;
 * - Redis's work per dispatch: scripts and other commands run (`INFO commandstats`), and the server's CPU time.
 */
import { RedisRateLimit } from "@effect-zego/redis"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import * as Net from "node:net"
// The store's own Lua, so that the raw baseline makes Redis do exactly what the store does.
import { ACQUIRE } from "../../redis/dist/internal/budgetScripts.js"
import type { RawBudget } from "./clients.js"
import type { RedisServer } from "./redisServer.js"
import { median, round } from "./stats.js"

/** So large that no permit waits: what is measured is the cost of asking, not the budget. */
export const LIMIT = 1_000_000
export const WINDOW_MILLIS = 1000

interface RedisWithBudget extends Redis {
  benchAcquire(key: string, limit: number, windowMillis: number, ended: number, member: string): Promise<unknown>
}

/**
 * The store's script by hand on a plain ioredis client (its defaults), on the key `key`: one run to ask for a call's
 * token, one to release it (the store folds a turn's releases into its next run; by hand, each is its own).
 */
export const rawBudget = (url: string, key: string): RawBudget & { readonly close: () => void } => {
  const redis = new Redis(url) as RedisWithBudget
  redis.defineCommand("benchAcquire", { numberOfKeys: 1, lua: ACQUIRE })
  return {
    acquire: async () => {
      const member = randomUUID()
      const answer = await redis.benchAcquire(key, LIMIT, WINDOW_MILLIS, 0, member)
      if (!Array.isArray(answer) || answer[0] !== 0) throw new Error(`the raw acquire was told to wait: ${answer}`)
      return member
    },
    release: (member) => redis.benchAcquire(key, LIMIT, WINDOW_MILLIS, 1, member),
    close: () => redis.disconnect()
  }
}

/** A store's limiter with the bench's limit and window, open until `close`. */
export const ourLimiter = async (url: string, keyPrefix: string) => {
  const scope = Effect.runSync(Scope.make())
  const limiter = await Effect.runPromise(
    Effect.flatMap(
      Scope.extend(RedisRateLimit.make({ url, keyPrefix }), scope),
      (store) => store.limiter({ key: "cpu", limit: LIMIT, windowMillis: WINDOW_MILLIS })
    )
  )
  return { limiter, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** Permits taken by `concurrency` loops for `millis`, and the client CPU they cost. */
interface PermitSlice {
  readonly permits: number
  readonly cpuMicros: number
}

const timed = async (run: () => Promise<number>): Promise<PermitSlice> => {
  const before = process.cpuUsage()
  const permits = await run()
  const cpu = process.cpuUsage(before)
  return { permits, cpuMicros: cpu.user + cpu.system }
}

const ourPermits = (limiter: Awaited<ReturnType<typeof ourLimiter>>["limiter"], c: number, millis: number) =>
  timed(() =>
    Effect.runPromise(Effect.suspend(() => {
      let permits = 0
      const deadline = performance.now() + millis
      const one = limiter.withPermit(Effect.sync(() => permits++))
      const loop = Effect.whileLoop({ while: () => performance.now() < deadline, body: () => one, step: () => {} })
      return Effect.map(
        Effect.all(Array.from({ length: c }, () => loop), { concurrency: "unbounded", discard: true }),
        () => permits
      )
    }))
  )

const rawPermits = (raw: RawBudget, c: number, millis: number) =>
  timed(async () => {
    let permits = 0
    const deadline = performance.now() + millis
    const loop = async () => {
      while (performance.now() < deadline) {
        const member = await raw.acquire()
        permits++
        await raw.release(member)
      }
    }
    await Promise.all(Array.from({ length: c }, loop))
    return permits
  })

export interface CpuFigures {
  readonly concurrency: number
  /** Client CPU per permit, all rounds together. */
  readonly oursMicrosPerPermit: number
  readonly rawMicrosPerPermit: number
  readonly oursPermitsPerSecond: number
  readonly rawPermitsPerSecond: number
  /** Median over rounds of ours ÷ raw (CPU per permit). */
  readonly ratio: number
}

/**
 * Our limiter against raw ioredis at one concurrency, in interleaved rounds. Each concurrency has a store and keys of
 * its own: a limit of 10⁶ a second keeps every call of the last window in the limiter's in-process bucket, and what
 * concurrency 64 leaves there is not the cost of a call at concurrency 1.
 */
const cpuAt = async (
  redis: RedisServer,
  c: number,
  options: { readonly rounds: number; readonly sliceMillis: number }
): Promise<CpuFigures> => {
  const ours = await ourLimiter(redis.url, `bench-cpu-ours-${c}:`)
  const raw = rawBudget(redis.url, `bench-cpu-raw-${c}:cpu`)
  try {
    // Long enough for the JIT to settle on both (ours runs more code through Effect, so it takes longer to warm).
    await ourPermits(ours.limiter, c, 1000)
    await rawPermits(raw, c, 1000)
    const pairs: Array<{ ours: PermitSlice; raw: PermitSlice }> = []
    for (let r = 0; r < options.rounds; r++) {
      globalThis.gc?.()
      if (r % 2 === 0) {
        const ourSlice = await ourPermits(ours.limiter, c, options.sliceMillis)
        pairs.push({ ours: ourSlice, raw: await rawPermits(raw, c, options.sliceMillis) })
      } else {
        const rawSlice = await rawPermits(raw, c, options.sliceMillis)
        pairs.push({ ours: await ourPermits(ours.limiter, c, options.sliceMillis), raw: rawSlice })
      }
    }
    const perPermit = (s: PermitSlice) => s.cpuMicros / s.permits
    const total = (list: ReadonlyArray<PermitSlice>) => ({
      micros: list.reduce((n, s) => n + s.cpuMicros, 0),
      permits: list.reduce((n, s) => n + s.permits, 0)
    })
    const o = total(pairs.map((p) => p.ours))
    const w = total(pairs.map((p) => p.raw))
    const seconds = pairs.length * options.sliceMillis / 1000
    return {
      concurrency: c,
      oursMicrosPerPermit: round(o.micros / o.permits, 1),
      rawMicrosPerPermit: round(w.micros / w.permits, 1),
      oursPermitsPerSecond: round(o.permits / seconds, 0),
      rawPermitsPerSecond: round(w.permits / seconds, 0),
      ratio: round(median(pairs.map((p) => perPermit(p.ours) / perPermit(p.raw))), 3)
    }
  } finally {
    raw.close()
    await ours.close()
  }
}

/** Our limiter against raw ioredis at each concurrency in turn. */
export const cpuPerPermit = async (
  redis: RedisServer,
  options: { readonly rounds: number; readonly sliceMillis: number; readonly concurrencies: ReadonlyArray<number> }
): Promise<Array<CpuFigures>> => {
  const figures: Array<CpuFigures> = []
  for (const c of options.concurrencies) figures.push(await cpuAt(redis, c, options))
  return figures
}

/**
 * A TCP proxy to `port` on loopback that holds every chunk `delayMillis` each way, in order: every round trip to
 * Redis through it takes at least `2 × delayMillis`, so a client's awaited round trips show in its latency.
 */
export const delayProxy = (port: number, delayMillis: number) =>
  new Promise<{ readonly url: string; readonly close: () => void }>((resolve) => {
    const sockets = new Set<Net.Socket>()
    const relay = (from: Net.Socket, to: Net.Socket) => {
      sockets.add(from)
      from.setNoDelay(true)
      from.on("data", (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMillis))
      // A half-close is passed on as one, so that what is still on its way back is delivered.
      from.on("end", () => setTimeout(() => to.end(), delayMillis))
      from.on("close", () => setTimeout(() => to.destroy(), 2 * delayMillis))
      from.on("error", () => {})
    }
    const server = Net.createServer({ allowHalfOpen: true }, (client) => {
      const upstream = Net.connect({ port, host: "127.0.0.1", allowHalfOpen: true })
      relay(client, upstream)
      relay(upstream, client)
    })
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `redis://127.0.0.1:${(server.address() as Net.AddressInfo).port}`,
        close: () => {
          for (const socket of sockets) socket.destroy()
          server.close()
        }
      }))
  })

/** Redis's work per operation while `run` does `count` of them. */
export const redisWork = async (redis: RedisServer, run: () => Promise<number>) => {
  await redis.resetStats()
  const cpuBefore = await redis.cpuMicros()
  const count = await run()
  const stats = await redis.commandStats()
  const cpu = (await redis.cpuMicros()) - cpuBefore
  return {
    count,
    scriptsPerOperation: round(stats.scripts / count, 2),
    /** Redis's own time in the scripts (`INFO commandstats`). */
    scriptMicrosPerOperation: round(stats.scriptMicros / count, 1),
    /** Commands other than scripts, the scripts' own included. */
    otherCommandsPerOperation: round(stats.other / count, 2),
    /** The server's CPU time, its network work included. */
    cpuMicrosPerOperation: round(cpu / count, 1)
  }
}
