/**
 * A server's `Date` header: the client corrects its clock from the `Date` of a 100000004 (signature expired) answer.
 * A bogus one (1900, "0", the year 2200, a plausible but wrong hour) must never break the calls that follow.
 * The server here checks each Timestamp against the real time as ZEGOCLOUD does (10 minutes of tolerance).
 */
import { RtmpDispatch } from "@effect-zego/core"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { figures, held, observe, save } from "./figures.js"
import { query, serve } from "./loopbackServer.js"

const SECRET = Redacted.make("8e7d6c5b4a3928170f1e2d3c4b5a6978")

afterAll(() => save("server-date"))

const envelope = (Code: number, Data?: unknown) =>
  JSON.stringify({ Code, Message: Code === 0 ? "ok" : `code ${Code}`, RequestId: `date-${Code}`, Data })

describe("server Date header", () => {
  it.live("no bogus Date, even one that looks plausible, breaks the calls after it", () =>
    Effect.gen(function*() {
      /** The Date the next answer carries with a 100000004, whatever the Timestamp; then the server is honest. */
      let hostileDate: string | undefined
      const timestamps: Array<number> = []
      const baseUrl = yield* serve((req, res) => {
        const timestamp = query(req).get("Timestamp") ?? ""
        const now = Date.now()
        timestamps.push(Number(timestamp))
        const reply = (code: number, date: string, data?: unknown) =>
          res.writeHead(200, { "content-type": "application/json", date }).end(envelope(code, data))
        if (hostileDate !== undefined) {
          const date = hostileDate
          hostileDate = undefined
          return reply(100000004, date)
        }
        if (!/^\d+$/.test(timestamp)) return reply(100000003, new Date(now).toUTCString())
        if (Math.abs(Number(timestamp) * 1000 - now) > 10 * 60 * 1000) {
          return reply(100000004, new Date(now).toUTCString())
        }
        reply(0, new Date(now).toUTCString(), ["rtmp://127.0.0.1:1935/live/s"])
      })
      const context = yield* Layer.build(NodeRtmpDispatch.layerOptions({
        appId: 7,
        serverSecret: SECRET,
        baseUrl,
        retry: Schedule.stop,
        rateLimit: false,
        timeout: "30 seconds"
      }))
      const dispatch = Context.get(context, RtmpDispatch.RtmpDispatch)
      const call = () => observe(dispatch.dispatch({ streamId: "s", type: "pull" }), 30_000)
      const hour = 60 * 60 * 1000
      const bogus = [
        "Mon, 01 Jan 1900 00:00:00 GMT",
        "0",
        "Wed, 01 Jan 2200 00:00:00 GMT",
        "yesterday",
        new Date(Date.now() - 30 * hour).toUTCString(),
        // Plausible (within the bound): adopted, refused again on re-signing, then dropped.
        new Date(Date.now() + 2 * hour).toUTCString(),
        new Date(Date.now() - 5 * hour).toUTCString()
      ]
      for (const date of bogus) {
        figures.faults++
        hostileDate = date
        yield* call()
        const next = yield* call()
        assert.strictEqual(next._tag, "Success", `the call after a Date of ${date}: ${JSON.stringify(next)}`)
        const again = yield* call()
        assert.strictEqual(again._tag, "Success", `the second call after a Date of ${date}`)
      }
      figures.requests += timestamps.length
      const nowSeconds = Date.now() / 1000
      for (const timestamp of timestamps) {
        // Every Timestamp sent was Unix seconds, and none was off by more than the bound plus the run's length.
        assert.isAbove(timestamp, nowSeconds - 25 * 3600)
        assert.isBelow(timestamp, nowSeconds + 25 * 3600)
      }
      held("bogus-date-header")
    }).pipe(Effect.scoped, Effect.provide(Logger.minimumLogLevel(LogLevel.Error))))
})
