/**
 * Hostile readers of `GET /streams/:streamId`, on a real Node HTTP server on loopback serving `Endpoints.router` (the
 * real tracker over the node layer, against the emulator over real HTTP): readers of random ids who hang up, more
 * readers than the tracker takes at once, and a server whose answer lies far in the future. A re-check must stop
 * with its last reader, pending ones must stay within the cap, and one bad time must not pin a stream as live.
 */
import { Callback, CallbackReceiver, Endpoints, StreamTracker } from "@effect-zego/core"
import { Emulator, Fault } from "@effect-zego/emulator"
import { NodeZego } from "@effect-zego/node"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { createServer, type Server } from "node:http"
import { figures, held, observe, save } from "./figures.js"

afterAll(() => save("hostile-reads"))

const app = Emulator.demoApp
const CALLBACK_SECRET = Redacted.make("hostile-reads-callback-secret")

/** Describes of `ghost-…` ids wait 30 s: longer than the client's 5 s time limit, so each holds its budget token. */
const ghostsHang = { fault: Fault.delay("30 seconds"), action: "DescribeRTCStreamState", streamId: "^ghost-" } as const

/** The Node servers `stack` made, to count the connections they still hold. */
const servers: Array<Server> = []

/** How many connections the servers still hold: 0 once they have seen every reader hang up. */
const openConnections = Effect.forEach(servers, (server) =>
  Effect.async<number>((resume) => {
    server.getConnections((error, count) => resume(Effect.succeed(error ? 0 : count)))
  })).pipe(Effect.map((counts) => counts.reduce((a, b) => a + b, 0)))

/** The router on a free port of 127.0.0.1, over the tracker and the node layer against the emulator at `zegoUrl`. */
const stack = (zegoUrl: string, tracker?: StreamTracker.Options) =>
  HttpServer.serve(Endpoints.router({ authorize: () => Effect.succeed(Option.none()) })).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => {
      const server = createServer()
      servers.push(server)
      return server
    }, { host: "127.0.0.1", port: 0 })),
    Layer.provideMerge(
      Layer.mergeAll(StreamTracker.layer(tracker), CallbackReceiver.layer({ secret: CALLBACK_SECRET }))
    ),
    Layer.provideMerge(NodeZego.layerOptions({ ...app, baseUrl: zegoUrl }))
  )

const baseUrl = Effect.map(HttpServer.HttpServer, (server) => {
  const address = server.address as HttpServer.TcpAddress
  return `http://127.0.0.1:${address.port}`
})

interface Answer {
  readonly status: number
  readonly retryAfter: string | null
  readonly json: Record<string, unknown>
}

/** GETs `path`, hanging up when `hangUp` aborts or the fiber is interrupted (then `undefined`). */
const read = (url: string, path: string, hangUp?: AbortSignal) =>
  Effect.promise(async (interrupted): Promise<Answer | undefined> => {
    try {
      const signal = hangUp === undefined ? interrupted : AbortSignal.any([interrupted, hangUp])
      const response = await fetch(`${url}${path}`, { signal })
      const json = (await response.json()) as Record<string, unknown>
      return { status: response.status, retryAfter: response.headers.get("retry-after"), json }
    } catch {
      return undefined
    }
  })

/** How many `DescribeRTCStreamState` calls of ids starting with `prefix` the emulator has received. */
const describesOf = (emulator: Emulator.Service, prefix: string) =>
  Effect.map(
    emulator.requests,
    (requests) =>
      requests.filter((r) => r.action === "DescribeRTCStreamState" && r.streamId?.startsWith(prefix) === true).length
  )

/** Waits until `check` holds, polling; false if it does not within `limitMillis`. */
const eventually = (check: Effect.Effect<boolean>, limitMillis: number) =>
  Effect.filterOrFail(check, (ok) => ok).pipe(
    Effect.retry(Schedule.spaced("50 millis")),
    Effect.timeoutOption(limitMillis),
    Effect.map(Option.isSome)
  )

/** A count once it has stayed put for 2 s; none if it has not within `limitMillis`. */
const settledCount = (count: Effect.Effect<number>, limitMillis: number) =>
  Effect.gen(function*() {
    let last = yield* count
    while (true) {
      yield* Effect.sleep("2 seconds")
      const now = yield* count
      if (now === last) return now
      last = now
    }
  }).pipe(Effect.timeoutOption(limitMillis))

/** A signed `stream_close` of `streamId`, its times now. */
const signedClose = (streamId: string) => {
  const now = Date.now()
  const timestamp = String(Math.floor(now / 1000))
  const nonce = `close-${streamId}-${now}`
  return JSON.stringify({
    event: "stream_close",
    appid: String(app.appId),
    timestamp,
    nonce,
    signature: Callback.signature(CALLBACK_SECRET, timestamp, nonce),
    stream_id: streamId,
    room_session_id: "858012925204410400",
    stream_seq: "2",
    type: "0",
    create_time_ms: String(now - 60_000),
    destroy_timemillis: String(now - 1000)
  })
}

describe("hostile readers of GET /streams/:streamId", () => {
  it.live("200 readers of random ids hang up: their describes stop, none is sent after, and a real read is answered", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ apps: [app], faults: [ghostsHang] })
      yield* Effect.gen(function*() {
        const url = yield* baseUrl
        const hangUp = new AbortController()
        yield* Effect.forkScoped(Effect.forEach(
          Array.from({ length: 200 }, (_, i) => `ghost-${i}-${Math.random().toString(36).slice(2)}`),
          (streamId) => read(url, `/streams/${streamId}`, hangUp.signal),
          { concurrency: "unbounded", discard: true }
        ))
        // The budget's 40 tokens are taken by the first describes; the other readers wait in line behind them.
        assert.isTrue(yield* eventually(Effect.map(describesOf(emulator, "ghost-"), (n) => n >= 40), 30_000))
        hangUp.abort()
        // Until the server has seen every reader go, their re-checks rightly go on (at 40 a second): wait for that
        // first, however slow a busy machine makes it.
        assert.isTrue(yield* eventually(Effect.map(openConnections, (n) => n === 0), 30_000), "readers still connected")
        // Then the count stays put for 2 s, longer than a freed token takes to return.
        const settled = yield* settledCount(describesOf(emulator, "ghost-"), 30_000)
        assert.isTrue(Option.isSome(settled), "describes went on being sent after the readers left")
        const sent = Option.getOrElse(settled, () => 0)
        // A legitimate read gets a token once the abandoned calls have given theirs back (a window after they
        // ended), not after the readers who left: before, it waited behind all of them (tens of seconds).
        const legit = yield* observe(read(url, "/streams/legit"), 15_000)
        assert.strictEqual(legit._tag, "Success", "cause" in legit ? legit.cause : "")
        if (legit._tag === "Success") {
          assert.strictEqual(legit.value?.status, 200)
          assert.strictEqual(legit.value?.json.state, "absent")
        }
        yield* Effect.sleep("3 seconds")
        assert.strictEqual(yield* describesOf(emulator, "ghost-"), sent, "no describe is sent for a reader gone")
        figures.faults += sent
        figures.requests += 201
        held("tracker-recheck-cancel")
      }).pipe(Effect.provide(stack(emulator.baseUrl)))
    }).pipe(Effect.scoped))

  it.live("20 readers of unknown ids against a cap of 5: 5 re-checks, 15 answered 503 at once, the cap freed after", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ apps: [app], faults: [ghostsHang] })
      yield* Effect.gen(function*() {
        const url = yield* baseUrl
        const hangUp = new AbortController()
        const answered: Array<Answer> = []
        yield* Effect.forkScoped(Effect.forEach(
          Array.from({ length: 20 }, (_, i) => `ghost-${i}`),
          (streamId) =>
            Effect.tap(read(url, `/streams/${streamId}`, hangUp.signal), (answer) => {
              if (answer !== undefined) answered.push(answer)
            }),
          { concurrency: "unbounded", discard: true }
        ))
        assert.isTrue(
          yield* eventually(Effect.sync(() => answered.length >= 15), 15_000),
          `${answered.length} answered`
        )
        for (const answer of answered) {
          assert.strictEqual(answer.status, 503)
          assert.strictEqual(answer.retryAfter, "1")
          assert.strictEqual(answer.json.error, "TrackerBusyError")
        }
        assert.strictEqual(yield* describesOf(emulator, "ghost-"), 5)
        hangUp.abort()
        // The readers gone, their re-checks are too: a new unknown id is re-checked (41004: absent).
        yield* Effect.sleep("1500 millis")
        const after = yield* observe(read(url, "/streams/after-cap"), 15_000)
        assert.strictEqual(after._tag === "Success" ? after.value?.json.state : after._tag, "absent")
        figures.faults += 5
        figures.requests += 21
        held("tracker-recheck-cap")
      }).pipe(Effect.provide(stack(emulator.baseUrl, { maxPendingRechecks: 5 })))
    }).pipe(Effect.scoped))

  it.live("a describe answering a time far ahead (year 33658, a server on UTC+8) does not pin a stream as live", () =>
    Effect.gen(function*() {
      const answering = (createTime: number) =>
        Fault.malformed(JSON.stringify({
          Code: 0,
          Message: "success",
          RequestId: "future-1",
          Data: { create_time: String(createTime), close_time: "0" }
        }))
      const inEightHours = Math.floor(Date.now() / 1000) + 8 * 3600
      const emulator = yield* Emulator.make({
        apps: [app],
        faults: [
          { fault: answering(999_999_999_999), action: "DescribeRTCStreamState", streamId: "^future-year$" },
          { fault: answering(inEightHours), action: "DescribeRTCStreamState", streamId: "^future-utc8$" }
        ]
      })
      yield* Effect.gen(function*() {
        const url = yield* baseUrl
        for (const streamId of ["future-year", "future-utc8"]) {
          figures.faults++
          // The answer is not believed: nothing is known of the stream.
          const first = yield* read(url, `/streams/${streamId}`)
          assert.strictEqual(first?.status, 404)
          assert.strictEqual(first?.json.state, "unknown")
          const close = yield* Effect.promise(() =>
            fetch(`${url}/zego/callback`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: signedClose(streamId)
            })
          )
          assert.strictEqual(close.status, 200)
          const after = yield* read(url, `/streams/${streamId}`)
          assert.strictEqual(after?.json.state, "closed", streamId)
          assert.strictEqual(after?.json.source, "callback")
        }
        figures.requests += 6
        held("tracker-future-time")
      }).pipe(Effect.provide(stack(emulator.baseUrl)))
    }).pipe(Effect.scoped))
})
