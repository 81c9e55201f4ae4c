/**
 * `pnpm bench`'s Redis section (`BENCH_ONLY=redis`), against a redis-server of its own on loopback: dispatch with
 * the shared budget (`RedisRateLimit`) against dispatch without a budget, the awaited Redis round trips of a
 * dispatch, client CPU per permit against raw ioredis, Redis's work per dispatch, and the callback path with its
 * stores on Redis against the same path in memory, beside its floor (the path in memory with one raw ioredis round trip
 * awaited per callback: what one unavoidable round trip costs at concurrency 1). Every target is a ratio to a
 * baseline measured in this run.
 */
import { RedisRateLimit } from "@effect-zego/redis"
import * as Callbacks from "./callbacks.js"
import * as Clients from "./clients.js"
import { runLoops } from "./clients.js"
import * as RedisBudget from "./redisBudget.js"
import * as RedisServer from "./redisServer.js"
import * as ServerProcess from "./serverProcess.js"
import type { Target } from "./stats.js"
import { percentiles, round } from "./stats.js"
import * as Throughput from "./throughput.js"

/** Each way, through the proxy that makes every Redis round trip show in a dispatch's latency. */
const DELAY_MILLIS = 20

const pad = (value: unknown, width: number) => String(value).padStart(width)
const padEnd = (value: unknown, width: number) => String(value).padEnd(width)

const TARGETS = {
  dispatch: { name: "dispatch with the Redis budget at concurrency 64", target: "≥ 0.6 × without a budget (req/s)" },
  roundTrips: { name: "awaited Redis round trips per dispatch", target: "≤ 1" },
  cpu: (c: number) => ({ name: `limiter client CPU per permit at concurrency ${c}`, target: "≤ 2 × raw ioredis" }),
  nonces: {
    name: "callback with the Redis nonce store at concurrency 1",
    target: "≥ 0.8 × in memory (callbacks/s)"
  },
  trackerToo: {
    name: "callback with Redis nonce and tracker stores at concurrency 1",
    target: "≥ 0.8 × in memory (callbacks/s)"
  }
} as const

const notMeasured = (targets: Array<Target>, why: string) => {
  for (
    const t of [
      TARGETS.dispatch,
      TARGETS.roundTrips,
      TARGETS.cpu(1),
      TARGETS.cpu(64),
      TARGETS.nonces,
      TARGETS.trackerToo
    ]
  ) targets.push({ ...t, value: `not measured (${why})`, pass: false })
}

const table = (cells: ReadonlyArray<Throughput.Cell>, baseline: string, log: (line?: string) => void) => {
  log(
    `  ${padEnd("conc", 5)}${padEnd("client", 24)}${pad("req/s", 8)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}` +
      `${pad("cpu µs/req", 12)}${pad(`÷ ${baseline}`, 12)}${pad("failed", 8)}`
  )
  return cells.map((cell) => {
    const base = cells.find((c) => c.client === baseline && c.concurrency === cell.concurrency)
    const ratio = base === undefined ? NaN : Throughput.pairedRatio(cell, base)
    log(
      `  ${padEnd(cell.concurrency, 5)}${padEnd(cell.client, 24)}${pad(cell.rps, 8)}${
        pad(cell.p50Millis.toFixed(3), 9)
      }` +
        `${pad(cell.p99Millis.toFixed(3), 9)}${pad(cell.clientCpuMicrosPerRequest, 12)}${pad(ratio.toFixed(2), 12)}` +
        `${pad(cell.failures, 8)}`
    )
    if (cell.firstFailure !== undefined) log(`    first failure: ${cell.firstFailure}`)
    return { ...cell, ratio }
  })
}

export const run = async (
  secret: string,
  targets: Array<Target>,
  options: { readonly rounds: number; readonly sliceMillis: number },
  log: (line?: string) => void
) => {
  const redis = await RedisServer.start()
  if (redis === undefined) {
    log("Redis: skipped, redis-server could not be started (scripts/system-tools.sh installs it)")
    notMeasured(targets, "no redis-server")
    return undefined
  }
  const server = await ServerProcess.start({ mode: "canned", serverSecret: secret })
  const clients: Array<Clients.Client> = []
  const closers: Array<() => unknown> = []
  const keyPrefix = (name: string) => `bench-${name}-${Date.now()}:`
  try {
    // --- dispatch with and without the budget -------------------------------------------------------------------
    log(
      `Redis: redis-server ${redis.url} (own process, no persistence); dispatch against the canned server; limit` +
        ` ${RedisBudget.LIMIT} per ${RedisBudget.WINDOW_MILLIS} ms, so that no call waits: what is measured is the cost` +
        ` of asking; ${options.rounds} interleaved rounds of ${options.sliceMillis} ms`
    )
    const raw = RedisBudget.rawBudget(redis.url, keyPrefix("raw") + Clients.APP_ID)
    closers.push(raw.close)
    const rateLimit = { limit: RedisBudget.LIMIT, window: `${RedisBudget.WINDOW_MILLIS} millis` } as const
    const ours = await Clients.ours("ours, no budget", { baseUrl: server.baseUrl, secret, rateLimit: false })
    const withRedis = await Clients.ours("ours, Redis budget", {
      baseUrl: server.baseUrl,
      secret,
      rateLimit,
      store: RedisRateLimit.layer({ url: redis.url, keyPrefix: keyPrefix("ours") })
    })
    const rawUndici = Clients.rawUndici(server.baseUrl, secret)
    const rawWithRedis = Clients.rawUndiciWithRedis(server.baseUrl, secret, raw)
    clients.push(ours, withRedis, rawUndici, rawWithRedis)
    const both = [1, 64]
    const dispatchCells = await Throughput.run(
      server,
      [ours, withRedis, rawUndici, rawWithRedis].map((client) => ({ client, concurrencies: both })),
      { rounds: options.rounds, sliceMillis: options.sliceMillis, warmupMillis: 500, concurrencies: both },
      () => {}
    )
    const dispatchRows = table(dispatchCells, ours.name, log)
    log("  (undici+ioredis: the raw undici loop with the store's script run by hand through ioredis, to acquire and")
    log("   then to release, the release not awaited; ÷: median over rounds of the paired req/s ratio)")
    const at = (name: string, c: number) => dispatchCells.find((cell) => cell.client === name && cell.concurrency === c)
    const dispatchRatio = Throughput.pairedRatio(at(withRedis.name, 64)!, at(ours.name, 64)!)
    targets.push({ ...TARGETS.dispatch, value: `${dispatchRatio.toFixed(2)}×`, pass: dispatchRatio >= 0.6 })

    // --- Redis's work per dispatch ------------------------------------------------------------------------------
    const work = {
      ours: await RedisBudget.redisWork(redis, () => withRedis.run(64, options.sliceMillis).then((s) => s.count)),
      raw: await RedisBudget.redisWork(redis, () => rawWithRedis.run(64, options.sliceMillis).then((s) => s.count))
    }
    const describe = (w: typeof work.ours) =>
      `${w.scriptsPerOperation} scripts (${w.scriptMicrosPerOperation} µs in them), ${w.otherCommandsPerOperation}` +
      ` other commands (theirs included), ${w.cpuMicrosPerOperation} µs of Redis CPU`
    log(`  Redis per dispatch at concurrency 64: ours ${describe(work.ours)}`)
    log(`    undici+ioredis ${describe(work.raw)}`)

    // --- awaited round trips ------------------------------------------------------------------------------------
    const proxy = await RedisBudget.delayProxy(redis.port, DELAY_MILLIS)
    closers.push(proxy.close)
    const slow = await Clients.ours("ours, Redis budget, slow", {
      baseUrl: server.baseUrl,
      secret,
      rateLimit,
      store: RedisRateLimit.layer({ url: proxy.url, keyPrefix: keyPrefix("slow") })
    })
    clients.push(slow)
    const slowCells = await Throughput.run(
      server,
      [ours, slow].map((client) => ({ client, concurrencies: [1] })),
      { rounds: 3, sliceMillis: options.sliceMillis, warmupMillis: 300, concurrencies: [1] },
      () => {}
    )
    const [plain, delayed] = [ours.name, slow.name].map((n) => slowCells.find((cell) => cell.client === n)!)
    const roundTrips = round((delayed!.p50Millis - plain!.p50Millis) / (2 * DELAY_MILLIS), 2)
    log(
      `  awaited round trips per dispatch: Redis behind a proxy holding each chunk ${DELAY_MILLIS} ms each way, one` +
        ` dispatch at a time: p50 ${delayed!.p50Millis.toFixed(1)} ms against ${plain!.p50Millis.toFixed(1)} ms` +
        ` without a budget: ${roundTrips} round trips of ${2 * DELAY_MILLIS} ms`
    )
    targets.push({
      ...TARGETS.roundTrips,
      value: `${roundTrips.toFixed(2)} (+${(delayed!.p50Millis - plain!.p50Millis).toFixed(1)} ms at ` +
        `${2 * DELAY_MILLIS} ms a round trip)`,
      pass: Math.round(roundTrips) <= 1
    })

    // --- client CPU per permit ----------------------------------------------------------------------------------
    const cpu = await RedisBudget.cpuPerPermit(redis, {
      rounds: options.rounds,
      sliceMillis: Math.round(options.sliceMillis * 0.6),
      concurrencies: both
    })
    log(
      "  limiter alone (withPermit of nothing) against raw ioredis running the store's script to acquire and release:"
    )
    for (const figures of cpu) {
      log(
        `    concurrency ${pad(figures.concurrency, 2)}: ours ${figures.oursMicrosPerPermit} µs per permit` +
          ` (${figures.oursPermitsPerSecond}/s), raw ioredis ${figures.rawMicrosPerPermit} µs` +
          ` (${figures.rawPermitsPerSecond}/s): ${figures.ratio.toFixed(2)}×`
      )
      targets.push({
        ...TARGETS.cpu(figures.concurrency),
        value: `${figures.ratio.toFixed(2)}× (${figures.oursMicrosPerPermit} against ${figures.rawMicrosPerPermit} µs)`,
        pass: figures.ratio <= 2
      })
    }

    // --- callbacks ----------------------------------------------------------------------------------------------
    log(
      "  callbacks: POST /zego/callback on loopback (server and client in this process), one at a time, each" +
        " applied to the tracker and its nonce settled"
    )
    const memory = await Callbacks.callbackClient("callback, in memory", {})
    const redisNonces = await Callbacks.callbackClient("callback, Redis nonces", {
      nonces: Callbacks.redisNonces(redis.url)
    })
    const redisBoth = await Callbacks.callbackClient("callback, Redis both", {
      nonces: Callbacks.redisNonces(redis.url),
      tracker: Callbacks.redisTracker(redis.url)
    })
    // The floor: the path in memory, each callback first awaiting one raw ioredis round trip on the same Redis.
    const roundTrip = Callbacks.rawRoundTrip(redis.url)
    closers.push(roundTrip.close)
    const floor = await Callbacks.callbackClient("callback, memory + 1 RTT", { before: roundTrip.once })
    const slowBoth = await Callbacks.callbackClient("callback, Redis both, slow", {
      nonces: Callbacks.redisNonces(proxy.url),
      tracker: Callbacks.redisTracker(proxy.url)
    })
    clients.push(memory, redisNonces, redisBoth, floor, slowBoth)
    // One raw round trip alone, one at a time: its latency and the process's CPU for it.
    await runLoops(roundTrip.once, 1, 300)
    const rttCpuBefore = process.cpuUsage()
    const rtt = await runLoops(roundTrip.once, 1, options.sliceMillis)
    const rttCpu = process.cpuUsage(rttCpuBefore)
    const [rttP50, rttP99] = percentiles([rtt.latencies], [0.5, 0.99])
    const rawRoundTrip = {
      perSecond: round(rtt.count / rtt.elapsedMillis * 1000, 0),
      p50Millis: round(rttP50!, 3),
      p99Millis: round(rttP99!, 3),
      cpuMicros: round((rttCpu.user + rttCpu.system) / rtt.count, 1)
    }
    log(
      `  raw ioredis round trip (SET key value PX 10000 NX), one at a time: p50 ${rawRoundTrip.p50Millis.toFixed(3)}` +
        ` ms, p99 ${rawRoundTrip.p99Millis.toFixed(3)} ms, ${rawRoundTrip.perSecond}/s,` +
        ` ${rawRoundTrip.cpuMicros} µs of this process's CPU each`
    )
    const callbackCells = await Throughput.run(
      undefined,
      [memory, floor, redisNonces, redisBoth].map((client) => ({ client, concurrencies: [1] })),
      { rounds: options.rounds, sliceMillis: options.sliceMillis, warmupMillis: 500, concurrencies: [1] },
      () => {}
    )
    const callbackRows = table(callbackCells, memory.name, log)
    log("  (Redis both: the Redis nonce store and the tracker on RedisTrackerStore; memory + 1 RTT, the floor: in")
    log("   memory, each callback first awaiting one raw ioredis SET on the same Redis)")
    const noncesRatio = callbackRows.find((row) => row.client === redisNonces.name)!.ratio
    const bothRatio = callbackRows.find((row) => row.client === redisBoth.name)!.ratio
    const floorRatio = callbackRows.find((row) => row.client === floor.name)!.ratio
    const bothToFloor = Throughput.pairedRatio(
      callbackCells.find((cell) => cell.client === redisBoth.name)!,
      callbackCells.find((cell) => cell.client === floor.name)!
    )
    log(
      `  the floor (one awaited raw round trip per callback): ${floorRatio.toFixed(2)} × in memory; Redis both` +
        ` ${bothRatio.toFixed(2)} × in memory, ${bothToFloor.toFixed(2)} × the floor`
    )
    const callbackWork = await RedisBudget.redisWork(
      redis,
      () => redisBoth.run(1, options.sliceMillis).then((s) => s.count)
    )
    log(
      `  Redis per callback with both stores: ${callbackWork.scriptsPerOperation} scripts` +
        ` (${callbackWork.scriptMicrosPerOperation} µs in them), ${callbackWork.otherCommandsPerOperation} other` +
        ` commands (the scripts' included), ${callbackWork.cpuMicrosPerOperation} µs of Redis CPU`
    )
    const slowCallbackCells = await Throughput.run(
      undefined,
      [memory, slowBoth].map((client) => ({ client, concurrencies: [1] })),
      { rounds: 3, sliceMillis: options.sliceMillis, warmupMillis: 300, concurrencies: [1] },
      () => {}
    )
    const [fast, slowCallback] = [memory.name, slowBoth.name].map((n) =>
      slowCallbackCells.find((cell) => cell.client === n)!
    )
    const callbackRoundTrips = round((slowCallback!.p50Millis - fast!.p50Millis) / (2 * DELAY_MILLIS), 2)
    log(
      `  awaited Redis round trips per callback with both stores (the same proxy): p50` +
        ` ${slowCallback!.p50Millis.toFixed(1)} ms against ${fast!.p50Millis.toFixed(1)} ms in memory:` +
        ` ${callbackRoundTrips} round trips of ${2 * DELAY_MILLIS} ms`
    )
    targets.push({ ...TARGETS.nonces, value: `${noncesRatio.toFixed(2)}×`, pass: noncesRatio >= 0.8 })
    targets.push({
      ...TARGETS.trackerToo,
      value: `${bothRatio.toFixed(2)}× (${callbackRoundTrips.toFixed(2)} awaited Redis round trips; the floor, in` +
        ` memory + 1 raw round trip: ${floorRatio.toFixed(2)}×)`,
      pass: bothRatio >= 0.8
    })

    return {
      delayMillis: DELAY_MILLIS,
      dispatch: dispatchRows,
      redisWork: work,
      callbackRedisWork: callbackWork,
      roundTrips: {
        perDispatch: roundTrips,
        perCallback: callbackRoundTrips,
        cells: [...slowCells, ...slowCallbackCells]
      },
      cpu,
      callbacks: callbackRows,
      callbackFloor: { ratio: floorRatio, bothToFloor, rawRoundTrip }
    }
  } finally {
    for (const client of clients) await client.close()
    for (const close of closers) close()
    server.close()
    redis.close()
  }
}
