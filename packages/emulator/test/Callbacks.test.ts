/**
 * The stream callbacks the emulator sends (`stream_create`, `stream_close`) to a real receiver on loopback: their
 * bodies (strings everywhere but the bare, larger-than-2^53 `room_session_id`), signature, close types, stream_seq,
 * the app they go to, the retry schedule (TestClock) and the loss after six attempts, the bound on callbacks under
 * way, each callback fault, and the end of retries when the emulator's scope closes.
 */
import { Callback } from "@effect-zego/core"
import { Emulator, Fault } from "@effect-zego/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Http from "node:http"
import type * as Net from "node:net"
import { prodApp, rawCall, signedParams, testApp } from "./utils.js"

const secret = Redacted.make("callback-secret-0123456789")

/** A callback as the receiver got it. */
interface Received {
  readonly text: string
  readonly contentType: string | undefined
}

/**
 * A receiver on 127.0.0.1 recording every body; it answers `status(n)` to the n-th (1-based) request, or never
 * answers when that is `"hang"`. Closed (connections and all) with the scope.
 */
const receiver = (status: (n: number) => number | "hang" = () => 200) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly received: Array<Received>; readonly server: Http.Server }>(
      (resume) => {
        const received: Array<Received> = []
        const server = Http.createServer((request, response) => {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk)).on("end", () => {
            received.push({
              text: Buffer.concat(chunks).toString("utf8"),
              contentType: request.headers["content-type"]
            })
            const answer = status(received.length)
            if (answer === "hang") return
            response.statusCode = answer
            response.end()
          })
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as Net.AddressInfo
          resume(Effect.succeed({ url: `http://127.0.0.1:${port}/zego/callback`, received, server }))
        })
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

/** Polls `check` every 20 ms of real time (whatever the Clock) until it holds; fails the test after `millis`. */
const eventually = (check: Effect.Effect<boolean>, what: string, millis = 20_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + millis
    while (!(yield* check)) {
      if (Date.now() > deadline) return assert.fail(`not within ${millis} ms: ${what}`)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
    }
  })

const quiet = Effect.provide(Logger.minimumLogLevel(LogLevel.None))

/** An emulator whose prodApp sends its callbacks to `url`. */
const emulatorFor = (url: string, options: Partial<Emulator.Options> = {}) =>
  Emulator.make({
    apps: [{ ...prodApp, callbackUrl: url, callbackSecret: secret }, testApp],
    rateLimit: false,
    ...options
  })

/** The JSON body as an object (room_session_id loses digits here: read it from the text with {@link sessionId}). */
const parse = (received: Received | undefined): Record<string, unknown> => JSON.parse(received!.text)

/** The bare number after `"room_session_id":`, whole. */
const sessionId = (text: string): bigint => {
  const match = /"room_session_id":(\d+)[,}]/.exec(text)
  assert.isNotNull(match, `room_session_id is a bare number in ${text}`)
  return BigInt(match![1]!)
}

/** Every value a string, or an array of strings, but room_session_id. */
const assertStrings = (body: Record<string, unknown>) => {
  for (const [name, value] of Object.entries(body)) {
    if (name === "room_session_id") continue
    const ok = typeof value === "string" || (Array.isArray(value) && value.every((item) => typeof item === "string"))
    assert.isTrue(ok, `${name} is ${JSON.stringify(value)}`)
  }
}

const assertSigned = (body: Record<string, unknown>, key = secret) =>
  assert.strictEqual(body.signature, Callback.signature(key, String(body.timestamp), String(body.nonce)))

/** A signed call of `action` by prodApp; its envelope's code. */
let sequence = 0
const callCode = (emulator: Emulator.Service, action: string, params: Record<string, string | undefined>) =>
  Effect.flatMap(
    signedParams(prodApp, { Action: action, Type: undefined, Sequence: String(++sequence), ...params }),
    rawCall
  ).pipe(Effect.map((answer) => answer.body.Code), Effect.provideService(Emulator.Emulator, emulator))

/** POSTs nginx-rtmp's form to one of its hooks: the status. */
const hook = (url: string, fields: Record<string, string>) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ app: "live", addr: "127.0.0.1", ...fields }).toString()
    })
    await response.text()
    return response.status
  })

describe("stream_create and stream_close", () => {
  it.scopedLive("a publish sends a signed stream_create, strings but a bare room_session_id > 2^53; unpublish type 0", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url)
      yield* emulator.publish("cam-1")
      yield* eventually(Effect.sync(() => received.length === 1), "stream_create received")
      const create = parse(received[0])
      assert.strictEqual(received[0]!.contentType, "application/json")
      assert.deepInclude(create, {
        event: "stream_create",
        appid: String(prodApp.appId),
        stream_id: "cam-1",
        room_id: "",
        stream_attr: "{\"cid\":0}",
        recreate: "0",
        rtmp_url: ["rtmp://127.0.0.1:1935/live/cam-1"],
        hls_url: []
      })
      assertStrings(create)
      assertSigned(create)
      assert.isTrue(sessionId(received[0]!.text) > 2n ** 53n)
      assert.strictEqual(typeof create.room_session_id, "number")
      for (
        const field of [
          "timestamp",
          "nonce",
          "user_id",
          "user_name",
          "channel_id",
          "stream_sid",
          "stream_alias",
          "stream_seq",
          "create_time",
          "create_time_ms",
          "extra_info",
          "publish_id",
          "publish_name",
          "title",
          "hdl_url",
          "pic_url"
        ]
      ) assert.property(create, field)

      yield* emulator.unpublish("cam-1")
      yield* eventually(Effect.sync(() => received.length === 2), "stream_close received")
      const close = parse(received[1])
      assert.deepInclude(close, { event: "stream_close", type: "0", stream_id: "cam-1", third_define_data: "" })
      assertStrings(close)
      assertSigned(close)
      assert.strictEqual(close.stream_sid, create.stream_sid)
      assert.strictEqual(close.create_time_ms, create.create_time_ms)
      assert.property(close, "destroy_timemillis")
      assert.isAbove(Number(close.stream_seq), Number(create.stream_seq))
      assert.strictEqual(sessionId(received[1]!.text), sessionId(received[0]!.text))

      // Published again at once: recreate 1, and stream_seq still increasing.
      yield* emulator.publish("cam-1")
      yield* eventually(Effect.sync(() => received.length === 3), "second stream_create")
      assert.strictEqual(parse(received[2]).recreate, "1")
      assert.isAbove(Number(parse(received[2]).stream_seq), Number(close.stream_seq))

      // The receiver has each request before the emulator has its answer and records it delivered.
      const delivered = (records: ReadonlyArray<{ readonly status: string }>) =>
        records.length === 3 && records.every((record) => record.status === "delivered")
      yield* eventually(Effect.map(emulator.callbacks, delivered), "all three recorded as delivered")
      const records = yield* emulator.callbacks
      assert.deepStrictEqual(records.map((record) => [record.event, record.status, record.closeType]), [
        ["stream_create", "delivered", undefined],
        ["stream_close", "delivered", 0],
        ["stream_create", "delivered", undefined]
      ])
      assert.deepStrictEqual(records[0]!.attempts.map((attempt) => attempt.status), [200])
      assert.notInclude(JSON.stringify(records), Redacted.value(secret))
    }).pipe(quiet))

  it.scopedLive("a stream announced in a room carries it; DeleteStream sends stream_close type 100", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url, { rooms: ["room-1"] })
      const announce = { RoomId: "room-1", UserId: "host-7", UserName: "Host", StreamId: "cam-2" }
      assert.strictEqual(
        yield* callCode(emulator, "AddStream", { ...announce, StreamTitle: "Hello", ExtraInfo: "x=1" }),
        0
      )
      yield* emulator.publish("cam-2")
      yield* eventually(Effect.sync(() => received.length === 1), "stream_create received")
      assert.deepInclude(parse(received[0]), {
        room_id: "room-1",
        user_id: "host-7",
        user_name: "Host",
        title: "Hello",
        extra_info: "x=1",
        publish_id: "host-7"
      })
      assert.strictEqual(yield* callCode(emulator, "DeleteStream", announce), 0)
      yield* eventually(Effect.sync(() => received.length === 2), "stream_close received")
      const close = parse(received[1])
      assert.deepInclude(close, { event: "stream_close", type: "100", room_id: "room-1", stream_id: "cam-2" })
      assertSigned(close)
      assert.strictEqual(sessionId(received[1]!.text), sessionId(received[0]!.text))
      // A DeleteStream that fails (nothing announced) sends nothing.
      assert.strictEqual(yield* callCode(emulator, "DeleteStream", announce), 138)
      assert.strictEqual((yield* emulator.callbacks).length, 2)
    }).pipe(quiet))

  it.scopedLive("forbidden: a simulated publisher dropped at once, an nginx one at on_update: type 3", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url)
      yield* emulator.publish("cam-3")
      assert.strictEqual(yield* callCode(emulator, "ForbidRTCStream", { StreamId: "cam-3" }), 0)
      yield* eventually(Effect.sync(() => received.length === 2), "create and close received")
      assert.deepInclude(parse(received[1]), { event: "stream_close", type: "3", stream_id: "cam-3" })

      // nginx-rtmp: a dispatched publish allowed by on_publish, refused by on_update once forbidden; on_publish_done.
      assert.strictEqual(yield* callCode(emulator, "RTMPDispatchV2", { StreamId: "cam-4", Type: "push" }), 0)
      assert.strictEqual(yield* hook(emulator.onPublishUrl, { call: "publish", name: "cam-4" }), 200)
      assert.strictEqual(yield* hook(emulator.onUpdateUrl, { call: "update_publish", name: "cam-4" }), 200)
      assert.strictEqual(yield* callCode(emulator, "ForbidRTCStream", { StreamId: "cam-4" }), 0)
      assert.strictEqual(yield* hook(emulator.onUpdateUrl, { call: "update_publish", name: "cam-4" }), 403)
      assert.strictEqual(yield* hook(emulator.onPublishDoneUrl, { call: "publish_done", name: "cam-4" }), 200)
      yield* eventually(Effect.sync(() => received.length === 4), "create and close of cam-4 received")
      const bodies = received.map((body) => parse(body))
      assert.deepInclude(bodies.find((body) => body.stream_id === "cam-4" && body.event === "stream_close"), {
        type: "3"
      })

      // An ordinary end of an nginx publish: type 0.
      assert.strictEqual(yield* callCode(emulator, "RTMPDispatchV2", { StreamId: "cam-5", Type: "push" }), 0)
      assert.strictEqual(yield* hook(emulator.onPublishUrl, { call: "publish", name: "cam-5" }), 200)
      assert.strictEqual(yield* hook(emulator.onPublishDoneUrl, { call: "publish_done", name: "cam-5" }), 200)
      yield* eventually(Effect.sync(() => received.length === 6), "create and close of cam-5 received")
      assert.deepInclude(received.map((body) => parse(body)).at(-1), { event: "stream_close", type: "0" })
    }).pipe(quiet))

  it.scopedLive("the app: the test prefix's, else the dispatching app's, else the first app with a callback URL", () =>
    Effect.gen(function*() {
      const first = yield* receiver()
      const second = yield* receiver()
      const other = { appId: 100003, serverSecret: Redacted.make("other-server-secret") }
      const secondSecret = Redacted.make("second-callback-secret")
      const emulator = yield* Emulator.make({
        apps: [
          { ...prodApp, callbackUrl: first.url, callbackSecret: secret },
          { ...testApp, callbackUrl: second.url, callbackSecret: secondSecret },
          other
        ],
        rateLimit: false
      })
      yield* emulator.publish(`zegotest-${testApp.appId}-cam`)
      yield* eventually(Effect.sync(() => second.received.length === 1), "the test app's receiver")
      const body = parse(second.received[0])
      assert.strictEqual(body.appid, String(testApp.appId))
      assertSigned(body, secondSecret)

      // Dispatched by an app without a callback URL: no callback at all.
      const dispatched = yield* Effect.flatMap(
        signedParams(other, { StreamId: "cam-other" }),
        rawCall
      ).pipe(Effect.provideService(Emulator.Emulator, emulator))
      assert.strictEqual(dispatched.body.Code, 0)
      yield* emulator.publish("cam-other")
      // Nobody's: the first app with a URL.
      yield* emulator.publish("cam-anyone")
      yield* eventually(Effect.sync(() => first.received.length === 1), "the first app's receiver")
      assert.strictEqual(parse(first.received[0]).stream_id, "cam-anyone")
      assert.deepStrictEqual((yield* emulator.callbacks).map((record) => record.streamId), [
        `zegotest-${testApp.appId}-cam`,
        "cam-anyone"
      ])
    }).pipe(quiet))
})

describe("delivery", () => {
  it.scoped("a receiver answering 500: retried 2, 4, 8, 16, 32 s later (TestClock), then lost", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver(() => 500)
      const emulator = yield* emulatorFor(url)
      yield* emulator.publish("cam-retry")
      const waits = [2000, 4000, 8000, 16000, 32000]
      for (const [i, wait] of waits.entries()) {
        yield* eventually(Effect.sync(() => received.length === i + 1), `attempt ${i + 1}`)
        // The delivery is asleep until exactly `wait` after its attempt.
        const now = yield* Clock.currentTimeMillis
        yield* eventually(
          Effect.map(TestClock.sleeps(), (sleeps) => Chunk.toReadonlyArray(sleeps).includes(now + wait)),
          `the retry after ${wait} ms is scheduled`
        )
        yield* TestClock.adjust(wait)
      }
      yield* eventually(Effect.sync(() => received.length === 6), "the sixth attempt")
      yield* eventually(
        Effect.map(emulator.callbacks, (records) => records[0]?.status === "lost"),
        "lost after the sixth attempt"
      )
      const [record] = yield* emulator.callbacks
      assert.deepStrictEqual(record!.attempts.map((attempt) => attempt.status), [500, 500, 500, 500, 500, 500])
      assert.deepStrictEqual(
        record!.attempts.slice(1).map((attempt, i) => attempt.at - record!.attempts[i]!.at),
        waits
      )
      // Every attempt carries the same body.
      assert.strictEqual(new Set(received.map((body) => body.text)).size, 1)
    }).pipe(quiet))

  it.scopedLive("callbackRetryScale scales the schedule in real time: 500 then 200 delivers on the third", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver((n) => (n < 3 ? 500 : 200))
      const emulator = yield* emulatorFor(url, { callbackRetryScale: 0.01 })
      yield* emulator.publish("cam-scaled")
      yield* eventually(
        Effect.map(emulator.callbacks, (records) => records[0]?.status === "delivered"),
        "delivered"
      )
      const [record] = yield* emulator.callbacks
      assert.deepStrictEqual(record!.attempts.map((attempt) => attempt.status), [500, 500, 200])
      const [a, b, c] = record!.attempts
      // Lower bounds only: a slow machine may wait longer, never shorter.
      assert.isAtLeast(b!.at - a!.at, 20)
      assert.isAtLeast(c!.at - b!.at, 40)
      assert.strictEqual(received.length, 3)
    }).pipe(quiet))

  it.scopedLive("no answer within callbackTimeout, or nobody listening: an attempt with an error, retried", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver((n) => (n === 1 ? "hang" : 200))
      // 2 s: the first attempt hangs until then; the second is answered at once, which even a machine a hundred
      // times slower does within the limit.
      const emulator = yield* emulatorFor(url, { callbackRetryScale: 0.01, callbackTimeout: "2 seconds" })
      yield* emulator.publish("cam-slow")
      yield* eventually(Effect.map(emulator.callbacks, (records) => records[0]?.status === "delivered"), "delivered")
      const [record] = yield* emulator.callbacks
      assert.deepStrictEqual(record!.attempts.map((attempt) => [attempt.status, attempt.error]), [
        [undefined, "timed out"],
        [200, undefined]
      ])
      assert.strictEqual(received.length, 2)
    }).pipe(quiet))

  it.scoped("past callbackMaxInFlight a callback is dropped and recorded so", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver(() => 500)
      const emulator = yield* emulatorFor(url, { callbackMaxInFlight: 1 })
      yield* emulator.publish("cam-a")
      yield* eventually(Effect.sync(() => received.length === 1), "the first attempt")
      yield* emulator.publish("cam-b")
      const records = yield* emulator.callbacks
      assert.deepStrictEqual(records.map((record) => [record.streamId, record.status]), [
        ["cam-a", "pending"],
        ["cam-b", "dropped"]
      ])
    }).pipe(quiet))

  it.scoped("closing the emulator's scope interrupts the deliveries: no retry left asleep", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver(() => 500)
      const scope = yield* Scope.make()
      const emulator = yield* Scope.extend(emulatorFor(url), scope)
      yield* emulator.publish("cam-stop")
      yield* eventually(Effect.sync(() => received.length === 1), "the first attempt")
      const now = yield* Clock.currentTimeMillis
      yield* eventually(
        Effect.map(TestClock.sleeps(), (sleeps) => Chunk.toReadonlyArray(sleeps).includes(now + 2000)),
        "the first retry asleep"
      )
      // The scope waits for the interrupted deliveries: once closed, no fiber is left to wake.
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust("2 minutes")
      // A negative check needs some real time: a retry woken by the adjust would arrive within it.
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 300)))
      assert.strictEqual(received.length, 1)
      const [record] = yield* emulator.callbacks
      assert.strictEqual(record!.status, "pending")
      assert.strictEqual(record!.attempts.length, 1)
    }).pipe(quiet))

  it.scopedLive("closing the scope aborts an attempt the receiver never answers", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver(() => "hang")
      const scope = yield* Scope.make()
      const emulator = yield* Scope.extend(emulatorFor(url, { callbackTimeout: "1 hour" }), scope)
      yield* emulator.publish("cam-hang")
      yield* eventually(Effect.sync(() => received.length === 1), "the attempt arrived")
      yield* Scope.close(scope, Exit.void)
      const [record] = yield* emulator.callbacks
      assert.strictEqual(record!.attempts.length, 0)
    }).pipe(quiet))

  it.scopedLive("the logs name the callbacks, never the secret", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(String(message)))))
      )
      yield* emulator.publish("cam-log")
      yield* eventually(Effect.sync(() => lines.some((line) => line.includes("callback stream_create"))), "logged")
      assert.strictEqual(received.length, 1)
      assert.isFalse(lines.some((line) => line.includes(Redacted.value(secret))))
    }))
})

describe("callback faults", () => {
  it.scopedLive("drop: never sent, recorded as dropped; the next one goes", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url, {
        callbackFaults: [{ callback: Fault.callbackDrop, event: "stream_create", next: 1 }]
      })
      yield* emulator.publish("cam-d")
      yield* emulator.unpublish("cam-d")
      yield* eventually(Effect.sync(() => received.length === 1), "the close received")
      // The receiver counts a callback before it answers: the emulator records it delivered once the answer is in.
      yield* eventually(
        Effect.map(emulator.callbacks, (records) => records.at(-1)?.status === "delivered"),
        "the close recorded delivered"
      )
      assert.strictEqual(parse(received[0]).event, "stream_close")
      assert.deepStrictEqual((yield* emulator.callbacks).map((record) => [record.status, record.fault]), [
        ["dropped", "drop"],
        ["delivered", undefined]
      ])
    }).pipe(quiet))

  it.scopedLive("duplicate: the same body twice", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url, { callbackFaults: [{ callback: Fault.callbackDuplicate }] })
      yield* emulator.publish("cam-dup")
      yield* eventually(Effect.sync(() => received.length === 2), "two copies")
      assert.strictEqual(received[0]!.text, received[1]!.text)
      yield* eventually(
        Effect.map(emulator.callbacks, (records) => records.every((record) => record.status === "delivered")),
        "both delivered"
      )
      assert.deepStrictEqual((yield* emulator.callbacks).map((record) => record.fault), ["duplicate", "duplicate"])
    }).pipe(quiet))

  it.scoped("delay: sent that much later by the Clock", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url, {
        callbackFaults: [{ callback: Fault.callbackDelay("10 seconds"), streamId: "^cam-late$" }]
      })
      yield* emulator.publish("cam-late")
      yield* eventually(
        Effect.map(TestClock.sleeps(), (sleeps) => Chunk.toReadonlyArray(sleeps).includes(10_000)),
        "held for 10 s"
      )
      assert.strictEqual(received.length, 0)
      yield* TestClock.adjust("10 seconds")
      yield* eventually(Effect.sync(() => received.length === 1), "sent after the delay")
      const [record] = yield* emulator.callbacks
      assert.strictEqual(record!.fault, "delay")
      yield* eventually(Effect.map(emulator.callbacks, (records) => records[0]?.status === "delivered"), "delivered")
      assert.strictEqual((yield* emulator.callbacks)[0]!.attempts[0]!.at, 10_000)
    }).pipe(quiet))

  it.scopedLive("reorder: held back, sent after the next callback", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url, {
        callbackFaults: [{ callback: Fault.callbackReorder, event: "stream_create", next: 1 }]
      })
      yield* emulator.publish("cam-r")
      assert.strictEqual((yield* emulator.callbacks)[0]!.status, "held")
      yield* emulator.unpublish("cam-r")
      yield* eventually(Effect.sync(() => received.length === 2), "both received")
      const [first, second] = received.map((body) => parse(body))
      assert.strictEqual(first!.event, "stream_close")
      assert.strictEqual(second!.event, "stream_create")
      assert.isBelow(Number(second!.stream_seq), Number(first!.stream_seq), "stream_seq tells the true order")
    }).pipe(quiet))

  it.scopedLive("form-encode: a form, arrays as rtmp_url[], signed the same (addFault, then clearFaults)", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url)
      yield* emulator.addFault({ callback: Fault.callbackFormEncode, event: "stream_create" })
      yield* emulator.publish("cam-f")
      yield* eventually(Effect.sync(() => received.length === 1), "the form received")
      assert.strictEqual(received[0]!.contentType, "application/x-www-form-urlencoded")
      const form = new URLSearchParams(received[0]!.text)
      assert.strictEqual(form.get("event"), "stream_create")
      assert.deepStrictEqual(form.getAll("rtmp_url[]"), ["rtmp://127.0.0.1:1935/live/cam-f"])
      assert.isTrue(BigInt(form.get("room_session_id")!) > 2n ** 53n)
      assertSigned(Object.fromEntries(form))
      yield* emulator.clearFaults
      yield* emulator.unpublish("cam-f")
      yield* eventually(Effect.sync(() => received.length === 2), "the close received")
      assert.strictEqual(received[1]!.contentType, "application/json")
    }).pipe(quiet))

  it.scopedLive("bad-signature: a signature that does not match the secret", () =>
    Effect.gen(function*() {
      const { received, url } = yield* receiver()
      const emulator = yield* emulatorFor(url)
      yield* emulator.addFault({ callback: Fault.callbackBadSignature, next: 1 })
      yield* emulator.publish("cam-s")
      yield* emulator.unpublish("cam-s")
      yield* eventually(Effect.sync(() => received.length === 2), "both received")
      const [bad, good] = received.map((body) => parse(body))
      assert.notStrictEqual(bad!.signature, Callback.signature(secret, String(bad!.timestamp), String(bad!.nonce)))
      assert.match(String(bad!.signature), /^[0-9a-f]{40}$/)
      assertSigned(good!)
      assert.strictEqual((yield* emulator.callbacks)[0]!.fault, "bad-signature")
    }).pipe(quiet))

  it.effect("an invalid callback rule given to addFault is a defect", () =>
    Effect.gen(function*() {
      const { url } = yield* receiver()
      const emulator = yield* emulatorFor(url)
      const exit = yield* Effect.exit(
        emulator.addFault({ callback: Fault.callbackDrop, next: 0 } as Fault.CallbackFaultRule)
      )
      assert.isTrue(Exit.isFailure(exit))
    }).pipe(Effect.scoped, quiet))
})
