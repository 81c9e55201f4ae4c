/**
 * The emulator's limits: options nested thousands of levels deep are a typed error, not a stack
 * overflow; what it keeps of each request is bounded, however long the query; an `on_publish` body past its cap
 * is refused with 413 without being buffered, and a request target past 8 KiB with 414.
 */
import { Emulator } from "@effect-zego/emulator"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Http from "node:http"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { figures, held, observe, save } from "./figures.js"

afterAll(() => save("emulator-limits"))

const app: Emulator.AppConfig = { appId: 424242, serverSecret: Redacted.make("0a1b2c3d4e5f60718293a4b5c6d7e8f9") }

/** A value nested `depth` levels deep: arrays, or objects when `key` is given. */
const deep = (depth: number, key?: string): unknown => {
  let value: unknown = key === undefined ? [] : {}
  for (let i = 0; i < depth; i++) value = key === undefined ? [value] : { [key]: value }
  return value
}

/** One HTTP request on loopback: its status and body. */
const request = (
  agent: Http.Agent,
  url: string,
  options: { readonly method?: string; readonly body?: string | Buffer; readonly chunked?: boolean } = {}
) =>
  Effect.async<{ readonly status: number; readonly body: string }, Error>((resume) => {
    const headers: Http.OutgoingHttpHeaders = options.body === undefined
      ? {}
      : {
        "content-type": "application/x-www-form-urlencoded",
        ...(options.chunked === true ? {} : { "content-length": Buffer.byteLength(options.body) })
      }
    const req = Http.request(url, { agent, method: options.method ?? "GET", headers }, (res) => {
      let body = ""
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk))
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body })))
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    if (options.body !== undefined && options.chunked === true) {
      // Several chunks, so that the body is not known in advance.
      const body = Buffer.from(options.body)
      for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024))
      req.end()
    } else {
      req.end(options.body)
    }
    return Effect.sync(() => req.destroy())
  })

/** The garbage collector, exposed at run time (vitest does not start Node with --expose-gc). */
const collectGarbage = (): () => void => {
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
}

const quiet = Effect.provide(Logger.minimumLogLevel(LogLevel.None))

/** The parts of `emulator-bounded-records` that passed: the case holds when both do. */
const bounded = new Set<string>()
const holdBounded = (part: "records" | "bodies") => {
  bounded.add(part)
  if (bounded.size === 2) held("emulator-bounded-records")
}

describe("emulator limits", () => {
  it.live("options nested thousands of levels deep: InvalidOptionsError with a short detail, no stack overflow", () =>
    Effect.gen(function*() {
      const secret = app.serverSecret
      const hostile: ReadonlyArray<unknown> = [
        { apps: [{ appId: 1, serverSecret: secret, isTest: deep(3000) }] },
        { apps: deep(3000) },
        { apps: [app], nodes: { push: deep(3000, "host"), pull: [] } },
        { apps: [app], faults: [{ fault: deep(3000, "_tag") }] },
        { apps: [app], rateLimit: { limit: deep(5000), window: 1000 } }
      ]
      for (const options of hostile) {
        figures.badInputs++
        const result = yield* observe(Effect.scoped(Emulator.make(options as Emulator.Options)), 30_000)
        assert.strictEqual(result._tag, "Failure", "cause" in result ? result.cause.slice(0, 500) : result._tag)
        if (result._tag !== "Failure") continue
        assert.strictEqual(result.error._tag, "InvalidOptionsError")
        assert.isBelow(result.error.message.length, 2000, result.error.message.slice(0, 2000))
      }
      held("deep-json-emulator-options")
    }).pipe(quiet))

  it.scopedLive(
    "what a request leaves behind is bounded, whatever its query; a target past 8 KiB gets 414",
    () =>
      Effect.gen(function*() {
        const gc = collectGarbage()
        const emulator = yield* Emulator.make({ apps: [app], rateLimit: false })
        const agent = yield* Effect.acquireRelease(
          Effect.sync(() => new Http.Agent({ keepAlive: true, maxSockets: 8 })),
          (agent) => Effect.sync(() => agent.destroy())
        )
        // Under the 8 KiB target limit: every recorded parameter about 1 900 characters long.
        const long = (c: string) => c.repeat(1900)
        const query = (i: number) =>
          `/?Action=${long("A")}&AppId=${long("9")}&StreamId=${long("s")}${i}&SignatureNonce=${long("n")}${i}` +
          `&Signature=x&SignatureVersion=2.0&Timestamp=1`
        // The case: 15 KB queries (Node itself accepts request heads up to 16 KiB).
        const huge = (i: number) => `/?StreamId=${"h".repeat(15_000)}${i}`
        const send = (n: number, target: (i: number) => string) =>
          Effect.forEach(
            Array.from({ length: n }, (_, i) => i),
            (i) => request(agent, `${emulator.baseUrl}${target(i)}`),
            { concurrency: 8 }
          )

        yield* send(200, query) // warm up: the server's and the agent's own allocations
        gc()
        const before = process.memoryUsage().heapUsed
        // Enough requests that a query kept whole (8 KB each) would show far above the bound over the heap's noise.
        const n = 1500
        const answers = yield* send(n, query)
        const refused = yield* send(250, huge)
        gc()
        const perRequest = (process.memoryUsage().heapUsed - before) / (n + 250)
        figures.requests += n + 250

        // A record keeps a few hundred characters (about 1 KB of heap with its share of the server's own: 75 MiB
        // measured at the cap of 100 000); the bound leaves room for a noisy heap. Before, each kept its query (8 KB).
        assert.isBelow(perRequest, 2048, `${Math.round(perRequest)} bytes retained per request`)
        const records = yield* emulator.requests
        assert.strictEqual(records.length, n + 450)
        for (const record of records) {
          for (const field of [record.appId, record.action, record.streamId, record.nonce]) {
            assert.isAtMost(field?.length ?? 0, 256)
          }
        }
        assert.isTrue(answers.every((answer) => answer.status === 200), "a query under 8 KiB is answered")
        assert.deepStrictEqual([...new Set(refused.map((answer) => answer.status))], [414])
        holdBounded("records")
      }).pipe(quiet),
    { timeout: 120_000 }
  )

  it.scopedLive(
    "an on_publish body past 64 KiB gets 413, declared or chunked; a small one is still checked",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ apps: [app], rateLimit: false })
        const agent = yield* Effect.acquireRelease(
          Effect.sync(() => new Http.Agent({ keepAlive: true, maxSockets: 1 })),
          (agent) => Effect.sync(() => agent.destroy())
        )
        const form = (name: string) => `call=publish&app=live&name=${name}&addr=127.0.0.1`
        const post = (body: string, chunked = false) =>
          request(agent, emulator.onPublishUrl, { method: "POST", body, chunked })

        const declared = yield* post(form("x".repeat(70 * 1024)))
        const chunked = yield* post(form("y".repeat(1024 * 1024)), true)
        const small = yield* post(form("never-dispatched"))
        const longName = yield* post(form("z".repeat(10_000)))
        figures.requests += 4

        assert.strictEqual(declared.status, 413, declared.body.slice(0, 200))
        assert.strictEqual(chunked.status, 413, chunked.body.slice(0, 200))
        assert.strictEqual(small.status, 403, "the connection is still usable, and a small form is checked")
        assert.strictEqual(longName.status, 403)
        assert.isBelow(longName.body.length, 1000, "the reason quotes a bounded name")
        const checks = yield* emulator.publishChecks
        assert.deepStrictEqual(checks.map((check) => check.status), [413, 413, 403, 403])
        for (const check of checks) assert.isAtMost(check.name?.length ?? 0, 300)
        holdBounded("bodies")
      }).pipe(quiet),
    { timeout: 60_000 }
  )
})
