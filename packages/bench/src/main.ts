/**
 * `pnpm bench`: throughput and latency of `RtmpDispatch.dispatch` against a raw undici loop (undici's `dispatch`, and
 * its `request`), global `fetch` and ZEGOCLOUD's sample pattern; signing against `node:crypto`; memory with 10 000
 * dispatches in flight. Prints the figures and the targets, and writes them as JSON to `bench/results/<date>.json` and `bench/results/latest.json`.
 *
 * `pnpm bench` also measures the stream tracker against a plain `Map` (`tracker.ts`), times the built CLI's start
 * (`zego-rtmp --version`, an embedded `zego-rtmp dispatch`), and what the stores on Redis cost (`redisSection.ts`: the
 * shared budget, the callback nonces) against a redis-server of its own; and the HTTP surfaces of `Endpoints.router`
 * (`httpSection.ts`: the callback, the stream status, the ingest) against handlers doing the same raw work on the same
 * server and router.
 *
 * Environment (for focused runs and profiling): `BENCH_ONLY` (`throughput`, `signing`, `memory`, `http`, `tracker`,
 * `cli` or `redis`), `BENCH_ROUNDS`, `BENCH_SLICE_MS`, `BENCH_CLIENTS` (comma-separated names, throughput only),
 * `BENCH_SURFACES` (comma-separated, of `callback`, `status` and `ingest`: http only). A focused run prints its
 * figures but writes nothing under `bench/results/`.
 */
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { fileURLToPath } from "node:url"
import * as Clients from "./clients.js"
import * as CliStartup from "./cliStartup.js"
import * as DispatchCost from "./dispatchCost.js"
import * as HttpSection from "./httpSection.js"
import * as Memory from "./memory.js"
import * as RedisSection from "./redisSection.js"
import * as ServerProcess from "./serverProcess.js"
import * as Signing from "./signing.js"
import type { Target } from "./stats.js"
import * as Throughput from "./throughput.js"
import * as Tracker from "./tracker.js"

const WATCHDOG_MILLIS = 14 * 60_000
const RESULTS = new URL("../../../bench/results/", import.meta.url)

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return Number.isFinite(value) && value > 0 ? value : fallback
}
const only = process.env.BENCH_ONLY
const runs = (section: string) => only === undefined || only === section

const pad = (value: unknown, width: number) => String(value).padStart(width)
const padEnd = (value: unknown, width: number) => String(value).padEnd(width)
const log = (line = "") => console.log(line)

const throughputSection = async (secret: string, targets: Array<Target>) => {
  const options: Throughput.ThroughputOptions = {
    rounds: env("BENCH_ROUNDS", 5),
    sliceMillis: env("BENCH_SLICE_MS", 1200),
    warmupMillis: 750,
    concurrencies: [1, 16, 64]
  }
  log(
    `Throughput and latency: ${options.rounds} interleaved rounds, ${options.sliceMillis} ms per client and` +
      ` concurrency, canned node:http server in its own process on 127.0.0.1`
  )
  const server = await ServerProcess.start({ mode: "canned", serverSecret: secret })
  const clients: Array<Clients.Client> = []
  try {
    const all: Array<Throughput.Participant> = [
      { client: Clients.rawDispatch(server.baseUrl, secret), concurrencies: options.concurrencies },
      {
        client: await Clients.ours("ours", { baseUrl: server.baseUrl, secret, rateLimit: false }),
        concurrencies: options.concurrencies
      },
      { client: Clients.rawUndici(server.baseUrl, secret, "undici.request"), concurrencies: options.concurrencies },
      { client: Clients.globalFetch(server.baseUrl, secret), concurrencies: options.concurrencies },
      { client: Clients.samplePattern(server.baseUrl, secret), concurrencies: options.concurrencies },
      {
        client: await Clients.ours("ours+limiter", {
          baseUrl: server.baseUrl,
          secret,
          rateLimit: { limit: 1_000_000, window: "1 second" }
        }),
        concurrencies: [64]
      }
    ]
    clients.push(...all.map((p) => p.client))
    const wanted = process.env.BENCH_CLIENTS?.split(",")
    const participants = all.filter((p) => wanted === undefined || wanted.includes(p.client.name))
    const cells = await Throughput.run(server, participants, options, log)
    const stats = await server.stats()
    const find = (client: string, concurrency: number) =>
      cells.find((cell) => cell.client === client && cell.concurrency === concurrency)
    log()
    log(
      `${padEnd("conc", 5)}${padEnd("client", 18)}${pad("req/s", 8)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}` +
        `${pad("cpu µs/req", 12)}${pad("server cpu", 12)}${pad("conns", 8)}${pad("÷ undici", 10)}` +
        `${pad("cpu ÷", 8)}${pad("failed", 8)}`
    )
    const rows = cells.map((cell) => {
      const raw = find("raw undici", cell.concurrency)
      const ratio = raw === undefined ? NaN : Throughput.pairedRatio(cell, raw)
      const cpuRatio = raw === undefined ? NaN : Throughput.pairedCpuRatio(cell, raw)
      log(
        `${padEnd(cell.concurrency, 5)}${padEnd(cell.client, 18)}${pad(cell.rps, 8)}${
          pad(cell.p50Millis.toFixed(3), 9)
        }` +
          `${pad(cell.p99Millis.toFixed(3), 9)}${pad(cell.clientCpuMicrosPerRequest, 12)}` +
          `${pad(`${Math.round(cell.serverCpuShare * 100)}%`, 12)}${pad(cell.connections, 8)}${
            pad(ratio.toFixed(2), 10)
          }` +
          `${pad(cpuRatio.toFixed(2), 8)}${pad(cell.failures, 8)}`
      )
      return { ...cell, ratioToRawUndici: ratio, cpuRatioToRawUndici: cpuRatio }
    })
    log("  (raw undici: undici's dispatch with a plain handler, the limit; undici.request: the limit of earlier")
    log("   benches; ÷ undici: median over rounds of the paired req/s ratio; cpu µs/req: client process CPU per")
    log("   request; cpu ÷: raw undici's cpu µs/req over the row's, paired (req/s if the client's CPU alone bounded")
    log("   them); server cpu: share of one core the server process used; conns: connections the server accepted;")
    log("   the limiter row uses a limit of 1 000 000 per second, so that it measures the limiter's own cost, not")
    log("   the 40/s quota)")
    log(`  server: ${stats.received} requests checked, ${stats.invalid} invalid`)
    for (const cell of cells) {
      if (cell.firstFailure !== undefined) log(`  ${cell.client} @${cell.concurrency}: ${cell.firstFailure}`)
    }
    const ours64 = find("ours", 64)
    const raw64 = find("raw undici", 64)
    const ours1 = find("ours", 1)
    const raw1 = find("raw undici", 1)
    const sample64 = find("zego sample", 64)
    const limited64 = find("ours+limiter", 64)
    const throughputTarget = (concurrency: number, ours: Throughput.Cell, raw: Throughput.Cell) => {
      const ratio = Throughput.pairedRatio(ours, raw)
      const overhead = ours.p99Millis - raw.p99Millis
      targets.push({
        name: `throughput at concurrency ${concurrency}`,
        target: "ours ≥ 0.9 × raw undici (dispatch) req/s",
        value: `${ratio.toFixed(2)}× (client CPU ${Throughput.pairedCpuRatio(ours, raw).toFixed(2)}×; p99 ${
          overhead >= 0 ? "+" : ""
        }${overhead.toFixed(3)} ms)`,
        pass: ratio >= 0.9
      })
    }
    if (ours64 && raw64) throughputTarget(64, ours64, raw64)
    if (ours1 && raw1) {
      throughputTarget(1, ours1, raw1)
      const overhead = ours1.p99Millis - raw1.p99Millis
      targets.push({
        name: "p99 latency at concurrency 1",
        target: "ours ≤ raw undici + 1 ms",
        value: `${overhead >= 0 ? "+" : ""}${overhead.toFixed(3)} ms`,
        pass: overhead <= 1
      })
    }
    if (ours64 && sample64) {
      const ratio = Throughput.pairedRatio(ours64, sample64)
      targets.push({
        name: "against the ZEGOCLOUD sample pattern at concurrency 64",
        target: "ours ≥ 2 × its req/s",
        value: `${ratio.toFixed(2)}×`,
        pass: ratio >= 2
      })
    }
    if (limited64 && ours64) {
      const ratio = Throughput.pairedRatio(limited64, ours64)
      targets.push({
        name: "the limiter on (limit 1 000 000/s) at concurrency 64",
        target: "costs ≤ 10 % (≥ 0.9 × ours req/s)",
        value: `${ratio.toFixed(2)}×`,
        pass: ratio >= 0.9
      })
    }
    const cost = await DispatchCost.run({ secret, concurrency: 64, calls: 100_000, rounds: 3 })
    log(
      `  without the network (an exchange answered from setImmediate, concurrency 64, client CPU per call, medians of` +
        ` 3 rounds): raw work ${cost.rawMicros} µs, the same in one Effect.async ${cost.effectAsyncMicros} µs, ours` +
        ` ${cost.oursMicros} µs`
    )
    return { options, serverRequests: stats.received, serverInvalid: stats.invalid, cells: rows, withoutNetwork: cost }
  } finally {
    for (const client of clients) await client.close()
    server.close()
  }
}

const signingSection = (secret: string, targets: Array<Target>) => {
  const figures = Signing.run({ appId: Clients.APP_ID, secret, rounds: 5, sliceMillis: 400 })
  log("Signing: Signature.sign against node:crypto createHash(\"md5\") of the same string, same inputs")
  log(`  ours ${figures.oursPerSecond}/s, node:crypto ${figures.nodeCryptoPerSecond}/s, ratio ${figures.ratio}`)
  log(`  (both agreed on ${figures.crossChecked} random inputs first: ASCII, multi-byte UTF-8, 0 to 300 characters)`)
  if (figures.loneSurrogates.differ > 0) {
    log(
      `  note: they differ on ${figures.loneSurrogates.differ} of ${figures.loneSurrogates.of} secrets holding a lone` +
        " surrogate (node:crypto and TextEncoder encode it as U+FFFD); a real secret is hex"
    )
  }
  targets.push({
    name: "signing",
    target: "Signature.sign ≥ 0.8 × node:crypto md5",
    value: `${figures.ratio.toFixed(2)}×`,
    pass: figures.ratio >= 0.8
  })
  return figures
}

const memorySection = async (secret: string, targets: Array<Target>) => {
  const inFlight = 10_000
  const delayMillis = 400
  log(
    `Memory: ${inFlight} dispatches in flight, the server (own process) holding its answers until measured, then` +
      ` answering ≥ ${delayMillis} ms after arrival; global.gc() before each measurement; ${Memory.DISPATCHER}`
  )
  const limit = Memory.openFilesLimit()
  if (limit !== undefined && limit < inFlight + 500) {
    log(`  skipped: ${inFlight} sockets need \`ulimit -n\` ≥ ${inFlight + 500} (it is ${limit})`)
    targets.push({ name: "memory over rounds", target: "heap flat", value: "not measured", pass: false })
    targets.push({ name: "heap per dispatch in flight", target: "≤ 12 KiB", value: "not measured", pass: false })
    return undefined
  }
  const figures = await Memory.run({ secret, rounds: 5, inFlight, delayMillis, progress: log })
  log(
    `  heap growth, last round against round 2: in flight ${figures.heapGrowthInFlightMiB} MiB, after` +
      ` ${figures.heapGrowthAfterMiB} MiB (tolerance ${figures.toleranceMiB} MiB): ${figures.flat ? "flat" : "GROWS"}`
  )
  log(
    `  RSS, last round against round 2: in flight ${figures.rssGrowthInFlightMiB} MiB, after` +
      ` ${figures.rssGrowthAfterMiB} MiB (not judged: freed pages stay with the allocator for a while)`
  )
  log(
    `  heap per dispatch in flight (in flight − after, last round, ÷ ${inFlight}): ours ${figures.kibPerDispatch} KiB,` +
      ` raw undici ${figures.rawUndici.kibPerDispatch} KiB`
  )
  targets.push({
    name: "memory over rounds",
    target: `heap flat (last − round 2 ≤ ${figures.toleranceMiB} MiB)`,
    value: `${figures.heapGrowthInFlightMiB} / ${figures.heapGrowthAfterMiB} MiB`,
    pass: figures.flat
  })
  targets.push({
    name: "heap per dispatch in flight",
    target: "≤ 12 KiB",
    value: `${figures.kibPerDispatch} KiB (raw undici ${figures.rawUndici.kibPerDispatch})`,
    pass: figures.kibPerDispatch <= 12
  })
  return figures
}

const cliSection = async (targets: Array<Target>) => {
  const rounds = 5
  log(`CLI startup: the built bin (packages/cli/dist/bin.js) as a child process, ${rounds} interleaved rounds, medians`)
  if (!existsSync(CliStartup.BIN)) {
    log("  skipped: packages/cli/dist/bin.js is not built (pnpm build)")
    return undefined
  }
  const cliPackage = new URL("../../cli/package.json", import.meta.url)
  const { version } = JSON.parse(readFileSync(cliPackage, "utf8")) as { version: string }
  const figures = await CliStartup.run({ rounds, version }, log)
  log(`  peak RSS and CPU: ${figures.rssSource}`)
  log(`  1-minute load average: ${figures.loadAverage.before} before, ${figures.loadAverage.after} after`)
  log(`  ${padEnd("command", 50)}${pad("wall ms", 9)}${pad("cpu ms", 8)}${pad("peak RSS MiB", 14)}`)
  for (const command of figures.commands) {
    log(
      `  ${padEnd(command.name, 50)}${pad(command.medianWallMillis, 9)}${pad(command.medianCpuMillis, 8)}` +
        `${pad(command.medianPeakRssMiB, 14)}`
    )
  }
  const [, versionRun, dispatchRun] = figures.commands
  if (versionRun) {
    targets.push({
      name: "zego-rtmp --version: wall (median)",
      target: "≤ 0.2 s",
      value: `${(versionRun.medianWallMillis / 1000).toFixed(2)} s`,
      pass: versionRun.medianWallMillis <= 200
    })
  }
  if (dispatchRun) {
    targets.push({
      name: "zego-rtmp dispatch, embedded emulator: wall (median)",
      target: "≤ 0.4 s",
      value: `${(dispatchRun.medianWallMillis / 1000).toFixed(2)} s`,
      pass: dispatchRun.medianWallMillis <= 400
    })
    targets.push({
      name: "zego-rtmp dispatch, embedded emulator: peak RSS (median)",
      target: "≤ 100 MiB",
      value: `${dispatchRun.medianPeakRssMiB} MiB`,
      pass: dispatchRun.medianPeakRssMiB <= 100
    })
  }
  return figures
}

const trackerSection = async (targets: Array<Target>) => {
  const options = {
    rounds: env("BENCH_ROUNDS", 9),
    memoryRounds: 3,
    events: 100_000,
    streams: 10_000,
    memoryStreams: 100_000
  }
  log(
    `Tracker: ${options.events} stream events (and their duplicates) over ${options.streams} streams applied by` +
      " StreamTracker.apply (the default store, Effect.forEach in one fiber) against a plain Map fold of the same" +
      " rule, CPU time," +
      ` ${options.rounds} interleaved rounds; heap per stream with ${options.memoryStreams} streams against a plain` +
      " Map of the same statuses"
  )
  const figures = await Tracker.run(options, log)
  log(
    `  medians: fold ${figures.floorNanosPerEvent} ns/event, tracker ${figures.trackerNanosPerEvent} ns/event;` +
      ` heap per stream: Map ${figures.floorBytesPerStream} B, tracker ${figures.trackerBytesPerStream} B`
  )
  log(
    `  the fold's own step run one Effect.sync per event, as the tracker's are: ${figures.foldAsEffectsNanosPerEvent}` +
      ` ns/event, ${figures.foldAsEffectsRatio.toFixed(2)}× the fold (what bounds one effect per event)`
  )
  log(`  1-minute load average: ${figures.loadAverage.before} before, ${figures.loadAverage.after} after`)
  targets.push({
    name: "tracker: events applied (default store)",
    target: "≥ 0.5 × a plain Map fold of the rule",
    value: `${figures.speedRatio.toFixed(2)}×`,
    pass: figures.speedRatio >= 0.5
  })
  targets.push({
    name: "tracker: heap per tracked stream",
    target: "≤ 1.2 × a plain Map of the statuses",
    value: `${figures.memoryRatio.toFixed(2)}× (${figures.trackerBytesPerStream} B)`,
    pass: figures.memoryRatio <= 1.2
  })
  return figures
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n"

/** Writes the figures to `bench/results/<date>.json` (ISO 8601 basic format, UTC) and `bench/results/latest.json`. */
const writeResults = (started: Date, text: string) => {
  mkdirSync(RESULTS, { recursive: true })
  const stamp = started.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")
  writeFileSync(new URL(`${stamp}.json`, RESULTS), text)
  writeFileSync(new URL("latest.json", RESULTS), text)
  log()
  log(`Wrote bench/results/${stamp}.json and bench/results/latest.json (${fileURLToPath(RESULTS)})`)
}

const main = async () => {
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${WATCHDOG_MILLIS / 1000} s, giving up`)
    process.exit(2)
  }, WATCHDOG_MILLIS)
  watchdog.unref()
  if (globalThis.gc === undefined) log("(run with --expose-gc for stable figures)")
  const started = new Date()
  const secret = randomBytes(16).toString("hex")
  const targets: Array<Target> = []
  log(`effect-zego bench, Node.js ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}`)
  log()
  const signing = runs("signing") ? signingSection(secret, targets) : undefined
  if (signing) log()
  const throughput = runs("throughput") ? await throughputSection(secret, targets) : undefined
  if (throughput) log()
  const memory = runs("memory") ? await memorySection(secret, targets) : undefined
  if (runs("memory")) log()
  const http = runs("http")
    ? await HttpSection.run(secret, targets, {
      rounds: env("BENCH_ROUNDS", 5),
      sliceMillis: env("BENCH_SLICE_MS", 1200),
      warmupMillis: 1500,
      concurrencies: [1, 64],
      surfaces: HttpSection.surfacesFrom(process.env.BENCH_SURFACES)
    }, log)
    : undefined
  if (http) log()
  const tracker = runs("tracker") ? await trackerSection(targets) : undefined
  if (tracker) log()
  const cli = runs("cli") ? await cliSection(targets) : undefined
  if (cli && runs("redis")) log()
  const redis = runs("redis")
    ? await RedisSection.run(
      secret,
      targets,
      { rounds: env("BENCH_ROUNDS", 5), sliceMillis: env("BENCH_SLICE_MS", 1000) },
      log
    )
    : undefined
  log()
  log("Targets")
  for (const target of targets) {
    log(`  ${target.pass ? "PASS" : "MISS"}  ${padEnd(target.name, 56)} ${padEnd(target.target, 40)} ${target.value}`)
  }
  const failures = (throughput?.cells.reduce((n, cell) => n + cell.failures, 0) ?? 0) +
    (http?.cells.reduce((n, cell) => n + cell.failures, 0) ?? 0)
  const result = {
    date: started.toISOString(),
    durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    only: only ?? null,
    targets,
    signing,
    throughput,
    memory,
    http,
    tracker,
    cli,
    redis
  }
  const partial = ["BENCH_ONLY", "BENCH_ROUNDS", "BENCH_SLICE_MS", "BENCH_CLIENTS", "BENCH_SURFACES"].some((name) =>
    process.env[name]
  )
  if (partial) {
    log()
    log("Focused run (BENCH_* set): nothing written under bench/results/")
  } else {
    writeResults(started, json(result))
  }
  if (failures > 0) {
    console.error(`bench: ${failures} requests failed their check; the figures are not comparable`)
    process.exitCode = 1
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
}).finally(() => {
  // Anything left (sockets, timers) must not keep the bench alive.
  setTimeout(() => process.exit(), 1000).unref()
})
