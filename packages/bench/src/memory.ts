/**
 * Memory: heap and RSS with 10 000 dispatches in flight against a server (its own process) that holds its
 * answers, over several rounds, `global.gc()` before each measurement.
 *
 * The dispatches go through the node layer as shipped (`NodeRtmpDispatch.layerOptions`: undici's default `Agent`,
 * keep-alive, no limit on connections per origin), so 10 000 dispatches in flight are 10 000 sockets, opened in the
 * first round and reused after; each process needs that many file descriptors. A bounded pool would queue the
 * requests inside undici instead, and the server could not hold them all. The time limit of an attempt is raised
 * to 60 s: the server holds the answers for as long as the client takes to start every dispatch.
 */
import { RtmpDispatch } from "@effect-zego/core"
import { NodeRtmpDispatch } from "@effect-zego/node"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { execFileSync } from "node:child_process"
import { setTimeout as sleep } from "node:timers/promises"
import { Agent, request } from "undici"
import { APP_ID, STREAM_ID } from "./clients.js"
import * as ServerProcess from "./serverProcess.js"
import { mib } from "./stats.js"

export const DISPATCHER = "NodeRtmpDispatch.layerOptions (undici Agent defaults: keep-alive, unlimited connections)"

/** The soft limit on open files of this process (and of the server it forks), or `undefined` when unknown. */
export const openFilesLimit = (): number | undefined => {
  try {
    const limit = Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim())
    return Number.isFinite(limit) ? limit : undefined
  } catch {
    return undefined
  }
}

export interface MemoryRound {
  readonly inFlightHeapMiB: number
  readonly inFlightRssMiB: number
  readonly afterHeapMiB: number
  readonly afterRssMiB: number
  readonly succeeded: number
  readonly millis: number
  /** (heap in flight − heap after) ÷ dispatches in flight, in KiB. */
  readonly kibPerDispatch: number
}

export interface MemoryFigures {
  readonly inFlight: number
  readonly delayMillis: number
  readonly dispatcher: string
  readonly rounds: ReadonlyArray<MemoryRound>
  /** Round `last` against round 2 (round 1 warms up): growth in MiB, and whether it stays within tolerance. */
  readonly heapGrowthInFlightMiB: number
  readonly heapGrowthAfterMiB: number
  /** The same for RSS (reported, not judged: the allocator keeps freed pages for a while). */
  readonly rssGrowthInFlightMiB: number
  readonly rssGrowthAfterMiB: number
  readonly toleranceMiB: number
  readonly flat: boolean
  /** The last round's heap per dispatch in flight, in KiB. */
  readonly kibPerDispatch: number
  /** For scale: the same 10 000 requests in flight from a raw undici loop (own `Agent`), one round, same server. */
  readonly rawUndici: {
    readonly inFlightHeapMiB: number
    readonly afterHeapMiB: number
    readonly kibPerDispatch: number
  }
}

const kib = (bytes: number, count: number) => Math.round(bytes / count / 1024 * 100) / 100

const measure = () => {
  globalThis.gc?.()
  globalThis.gc?.()
  return process.memoryUsage()
}

/** Waits (bounded) until the server holds `count` requests more than `before`. */
const allHeld = async (server: ServerProcess.ServerProcess, before: number, count: number): Promise<void> => {
  const waitUntil = performance.now() + 50_000
  while ((await server.stats()).received - before < count) {
    if (performance.now() > waitUntil) throw new Error("the held requests never all reached the server")
    await sleep(20)
  }
}

/** The same measure for a bare undici `request` loop (the server does not check what it holds here). */
const rawUndiciRound = async (server: ServerProcess.ServerProcess, count: number) => {
  const agent = new Agent()
  try {
    const before = (await server.stats()).received
    const done = Promise.all(
      Array.from(
        { length: count },
        () =>
          request(`${server.baseUrl}/?Action=RTMPDispatchV2`, { dispatcher: agent }).then(async (response) => {
            await response.body.text()
          })
      )
    )
    await allHeld(server, before, count)
    const inFlight = measure()
    server.release()
    await done
    const after = measure()
    return {
      inFlightHeapMiB: mib(inFlight.heapUsed),
      afterHeapMiB: mib(after.heapUsed),
      kibPerDispatch: kib(inFlight.heapUsed - after.heapUsed, count)
    }
  } finally {
    await agent.close()
  }
}

export const run = async (options: {
  readonly secret: string
  readonly rounds: number
  readonly inFlight: number
  readonly delayMillis: number
  readonly progress: (line: string) => void
}): Promise<MemoryFigures> => {
  const server = await ServerProcess.start({
    mode: "hold",
    delayMillis: options.delayMillis,
    serverSecret: options.secret
  })
  const runtime = ManagedRuntime.make(NodeRtmpDispatch.layerOptions({
    appId: APP_ID,
    serverSecret: Redacted.make(options.secret),
    baseUrl: server.baseUrl,
    rateLimit: false,
    timeout: "60 seconds"
  }))
  let disposed: Promise<void> | undefined
  const dispose = () => disposed ??= runtime.dispose()
  try {
    const service = await runtime.runPromise(RtmpDispatch.RtmpDispatch)
    const request = { streamId: STREAM_ID, type: "pull" } as const
    const rounds: Array<MemoryRound> = []
    for (let r = 0; r < options.rounds; r++) {
      const started = performance.now()
      const before = (await server.stats()).received
      // Only the count is kept: the heap "after" must not hold the results.
      const done = runtime.runPromise(
        Effect.all(Array.from({ length: options.inFlight }, () => Effect.either(service.dispatch(request))), {
          concurrency: "unbounded"
        }).pipe(Effect.map((results) => results.filter(Either.isRight).length))
      )
      await allHeld(server, before, options.inFlight)
      const inFlight = measure()
      server.release()
      const succeeded = await done
      const after = measure()
      rounds.push({
        inFlightHeapMiB: mib(inFlight.heapUsed),
        inFlightRssMiB: mib(inFlight.rss),
        afterHeapMiB: mib(after.heapUsed),
        afterRssMiB: mib(after.rss),
        succeeded,
        millis: Math.round(performance.now() - started),
        kibPerDispatch: kib(inFlight.heapUsed - after.heapUsed, options.inFlight)
      })
      const last = rounds[rounds.length - 1]!
      options.progress(
        `  round ${
          r + 1
        }/${options.rounds}: in flight heap ${last.inFlightHeapMiB} MiB, rss ${last.inFlightRssMiB} MiB;` +
          ` after heap ${last.afterHeapMiB} MiB, rss ${last.afterRssMiB} MiB; ${last.kibPerDispatch} KiB per dispatch;` +
          ` ${succeeded} ok in ${last.millis} ms`
      )
    }
    // Ours closes its 10 000 sockets first: the server could not hold twice as many file descriptors.
    await dispose()
    const rawUndici = await rawUndiciRound(server, options.inFlight)
    options.progress(
      `  for scale, raw undici with ${options.inFlight} in flight: heap ${rawUndici.inFlightHeapMiB} MiB, after` +
        ` ${rawUndici.afterHeapMiB} MiB`
    )
    const second = rounds[1] ?? rounds[0]!
    const last = rounds[rounds.length - 1]!
    const heapGrowthInFlightMiB = Math.round((last.inFlightHeapMiB - second.inFlightHeapMiB) * 10) / 10
    const heapGrowthAfterMiB = Math.round((last.afterHeapMiB - second.afterHeapMiB) * 10) / 10
    const rssGrowthInFlightMiB = Math.round((last.inFlightRssMiB - second.inFlightRssMiB) * 10) / 10
    const rssGrowthAfterMiB = Math.round((last.afterRssMiB - second.afterRssMiB) * 10) / 10
    const toleranceMiB = Math.max(2, Math.round(second.inFlightHeapMiB * 0.05 * 10) / 10)
    return {
      inFlight: options.inFlight,
      delayMillis: options.delayMillis,
      dispatcher: DISPATCHER,
      rounds,
      heapGrowthInFlightMiB,
      heapGrowthAfterMiB,
      rssGrowthInFlightMiB,
      rssGrowthAfterMiB,
      toleranceMiB,
      kibPerDispatch: last.kibPerDispatch,
      rawUndici,
      flat: heapGrowthInFlightMiB <= toleranceMiB && heapGrowthAfterMiB <= toleranceMiB &&
        rounds.every((round) => round.succeeded === options.inFlight)
    }
  } finally {
    await dispose()
    server.close()
  }
}
