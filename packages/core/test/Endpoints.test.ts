// The three endpoints as an app runs them, each request handed to the router as an HttpServerRequest, over the
// mock (which speaks every action), the real receiver and the real tracker; time under TestClock.
import { Callback, CallbackNonceStore, CallbackReceiver, Endpoints, StreamTracker } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import { switchableStore } from "./utils.js"

const SECRET = Redacted.make("callback-secret")
const NOW = Date.UTC(2026, 10, 30, 12, 0, 0)

const layer = (reply?: (request: ZegoMock.RecordedRequest) => ZegoMock.Reply) =>
  Layer.mergeAll(StreamTracker.layer(), CallbackReceiver.layer({ secret: SECRET })).pipe(
    Layer.provideMerge(ZegoMock.layerServices({
      appId: 12345,
      serverSecret: Redacted.make("server-secret"),
      ...(reply === undefined ? {} : { handler: reply })
    }))
  )

const router = Endpoints.router({
  authorize: (request) =>
    Effect.succeed(
      request.headers.authorization === "Bearer yes"
        ? Option.fromNullable(new URL(request.url, "http://app").searchParams.get("stream"))
        : Option.none()
    )
})

/** Sends one request through the router; its status, headers and JSON body. */
const send = (path: string, init?: RequestInit, remoteAddress?: string) =>
  Effect.gen(function*() {
    const web = HttpServerRequest.fromWeb(new Request(`http://app.test${path}`, init))
    const request = remoteAddress === undefined ? web : web.modify({ remoteAddress })
    const response = yield* router.pipe(Effect.provideService(HttpServerRequest.HttpServerRequest, request))
    const answer = HttpServerResponse.toWeb(response)
    return {
      status: answer.status,
      headers: answer.headers,
      json: (yield* Effect.promise(() => answer.json())) as Record<string, unknown>
    }
  })

let nonceCounter = 0
/** A signed `stream_create` or `stream_close` body, every value a string but `room_session_id`. */
const callbackBody = (
  event: "stream_create" | "stream_close",
  streamId: string,
  seq: number,
  options: { readonly timestamp?: number; readonly nonce?: string; readonly signature?: string } = {}
) => {
  const timestamp = String(options.timestamp ?? Math.floor(NOW / 1000))
  const nonce = options.nonce ?? `n${++nonceCounter}`
  const fields: Record<string, string> = {
    event,
    appid: "12345",
    timestamp,
    nonce,
    signature: options.signature ?? Callback.signature(SECRET, timestamp, nonce),
    stream_id: streamId,
    room_id: "",
    stream_seq: String(seq),
    create_time: String(Math.floor(NOW / 1000)),
    create_time_ms: String(NOW),
    ...(event === "stream_close" ? { type: "0", destroy_timemillis: String(NOW + seq) } : {})
  }
  return JSON.stringify(fields).replace(/^\{/, "{\"room_session_id\":858012925204410400,")
}

/** A tracker that applies with `apply` and knows no stream. */
const trackerApplying = (apply: StreamTracker.StreamTracker["Type"]["apply"]) =>
  Layer.succeed(StreamTracker.StreamTracker, {
    apply,
    applyDelivery: (event) => apply(event),
    observe: () => Effect.void,
    get: () => Effect.succeed(undefined),
    peek: () => Effect.succeed(undefined),
    live: Effect.succeed([]),
    changes: Stream.empty,
    subscribe: Effect.succeed(Stream.empty)
  })

const post = (body: string) =>
  send("/zego/callback", { method: "POST", body, headers: { "content-type": "application/json" } })

describe("POST /zego/callback", () => {
  it.effect("applies a verified create, then answers a replay 2xx without applying it again", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const body = callbackBody("stream_create", "match-42", 1)
      const first = yield* post(body)
      assert.strictEqual(first.status, 200)
      const tracker = yield* StreamTracker.StreamTracker
      assert.strictEqual((yield* tracker.peek("match-42"))?.state, "live")
      const replay = yield* post(body)
      assert.strictEqual(replay.status, 200)
      assert.strictEqual(replay.json.replay, true)
    }).pipe(Effect.provide(layer())))

  it.effect("401 for a bad signature or a stale timestamp, 400 for a body that is not a callback", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const forged = yield* post(callbackBody("stream_create", "match-42", 1, { signature: "0".repeat(40) }))
      assert.strictEqual(forged.status, 401)
      assert.strictEqual(forged.json.error, "CallbackSignatureError")
      const stale = yield* post(callbackBody("stream_create", "match-42", 1, { timestamp: NOW / 1000 - 3600 }))
      assert.strictEqual(stale.status, 401)
      assert.strictEqual(stale.json.error, "CallbackExpiredError")
      const junk = yield* post("{\"event\":")
      assert.strictEqual(junk.status, 400)
      assert.strictEqual(junk.json.error, "CallbackDecodeError")
      // Nothing was applied, and nothing of the secret or the body is in an answer.
      assert.isUndefined(yield* (yield* StreamTracker.StreamTracker).peek("match-42"))
      for (const answer of [forged, stale, junk]) assert.notInclude(JSON.stringify(answer.json), "callback-secret")
    }).pipe(Effect.provide(layer())))

  it.effect("a close after the create: closed with its reason; an older create after it changes nothing", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      assert.strictEqual((yield* post(callbackBody("stream_close", "match-42", 2))).status, 200)
      assert.strictEqual((yield* post(callbackBody("stream_create", "match-42", 1))).status, 200)
      const status = yield* (yield* StreamTracker.StreamTracker).peek("match-42")
      assert.strictEqual(status?.state, "closed")
      assert.strictEqual(status?.state === "closed" ? status.reason : undefined, "normal")
    }).pipe(Effect.provide(layer())))

  it.effect("an event the tracker cannot apply is answered 500 and its nonce given back for ZEGOCLOUD's retry", () => {
    let fail = true
    const failing = trackerApplying(() => (fail ? Effect.die("store down") : Effect.void))
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const body = callbackBody("stream_create", "match-42", 1)
      assert.strictEqual((yield* post(body)).status, 500)
      fail = false
      const retry = yield* post(body)
      assert.strictEqual(retry.status, 200)
      assert.isUndefined(retry.json.replay)
    }).pipe(Effect.provide(Layer.merge(failing, CallbackReceiver.layer({ secret: SECRET }))), Effect.provide(layer()))
  })
})

describe("the tracker's store down", () => {
  /** The endpoints over a tracker whose store the test switches off (`down.value`), as a Redis store fails. */
  const withStore = () => {
    const { down, store } = switchableStore()
    const layerDown = Layer.mergeAll(StreamTracker.layer({ store }), CallbackReceiver.layer({ secret: SECRET })).pipe(
      Layer.provideMerge(ZegoMock.layerServices({ appId: 12345, serverSecret: Redacted.make("server-secret") }))
    )
    return { down, layer: layerDown }
  }

  it.effect("a callback is answered 503 with Retry-After and its nonce given back; the retry is applied once it is back", () => {
    const { down, layer: layerDown } = withStore()
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const body = callbackBody("stream_create", "match-42", 1)
      down.value = true
      const refused = yield* post(body)
      assert.strictEqual(refused.status, 503)
      assert.strictEqual(refused.json.error, "TrackerUnavailableError")
      assert.strictEqual(refused.headers.get("retry-after"), "1")
      down.value = false
      const retry = yield* post(body)
      assert.strictEqual(retry.status, 200)
      assert.isUndefined(retry.json.replay)
      assert.strictEqual((yield* (yield* StreamTracker.StreamTracker).peek("match-42"))?.state, "live")
    }).pipe(Effect.provide(layerDown))
  })

  it.effect("a read answers the last known status with stale: true, or 503 when this instance knows none; nothing is asked", () => {
    const { down, layer: layerDown } = withStore()
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      assert.strictEqual((yield* post(callbackBody("stream_create", "match-42", 1))).status, 200)
      down.value = true
      yield* TestClock.adjust("1 minute")
      const known = yield* send("/streams/match-42")
      assert.strictEqual(known.status, 200)
      assert.strictEqual(known.json.state, "live")
      assert.strictEqual(known.json.stale, true)
      const unknown = yield* send("/streams/other")
      assert.strictEqual(unknown.status, 503)
      assert.strictEqual(unknown.json.error, "TrackerUnavailableError")
      assert.strictEqual(unknown.headers.get("retry-after"), "1")
      assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 0)
      down.value = false
      const back = yield* send("/streams/match-42")
      assert.strictEqual(back.status, 200)
      assert.isUndefined(back.json.stale)
    }).pipe(Effect.provide(layerDown))
  })
})

/** The in-memory nonce store without `settleApplied`: the receiver claims each nonce beside the apply. */
const claimingNonces = Effect.map(CallbackNonceStore.memoryNonceStore(), ({ claim, commit, release }) => ({
  claim,
  commit,
  release
}))

describe("POST /zego/callback while a delivery is being applied", () => {
  /** A tracker whose every apply waits for the outcome the test gives it next: a failure (a store that died) or success. */
  const scripted = () => {
    const applied: Array<string> = []
    const outcomes = Effect.runSync(Queue.unbounded<Effect.Effect<void>>())
    const started = Effect.runSync(Queue.unbounded<void>())
    const tracker = trackerApplying((event) =>
      Queue.offer(started, undefined).pipe(
        Effect.zipRight(Effect.flatten(Queue.take(outcomes))),
        Effect.zipRight(Effect.sync(() => applied.push(event.nonce)))
      )
    )
    return { applied, outcomes, started, tracker }
  }

  it.effect("with a claim beside the apply: a duplicate gets 503, not a 2xx; the first then fails, and ZEGOCLOUD's retry is applied", () => {
    const { applied, outcomes, started, tracker } = scripted()
    const receiver = Layer.unwrapEffect(
      Effect.map(claimingNonces, (nonces) => CallbackReceiver.layer({ secret: SECRET, nonces }))
    )
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const body = callbackBody("stream_create", "match-42", 1)
      const first = yield* Effect.fork(post(body))
      yield* Queue.take(started)
      const duplicate = yield* post(body)
      assert.strictEqual(duplicate.status, 503)
      assert.strictEqual(duplicate.json.error, "CallbackUnavailableError")
      // The first delivery's apply fails: 500, and its nonce is given back.
      yield* Queue.offer(outcomes, Effect.die("store down"))
      assert.strictEqual((yield* Fiber.join(first)).status, 500)
      // ZEGOCLOUD retries: applied this time, and only then is a copy acknowledged as a replay.
      yield* Queue.offer(outcomes, Effect.void)
      const retry = yield* post(body)
      assert.strictEqual(retry.status, 200)
      assert.isUndefined(retry.json.replay)
      assert.strictEqual(applied.length, 1)
      const replay = yield* post(body)
      assert.strictEqual(replay.status, 200)
      assert.strictEqual(replay.json.replay, true)
      assert.strictEqual(applied.length, 1)
    }).pipe(Effect.provide(Layer.merge(tracker, receiver)), Effect.provide(layer()))
  })

  it.effect("with the nonce settled after the apply: a duplicate applies too, and only an applied delivery gets a 2xx", () => {
    const { applied, outcomes, started, tracker } = scripted()
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const body = callbackBody("stream_create", "match-42", 1)
      const first = yield* Effect.fork(post(body))
      yield* Queue.take(started)
      const duplicate = yield* Effect.fork(post(body))
      yield* Queue.take(started)
      // The first delivery's apply fails: 500, and nothing of it is kept. The duplicate's is applied: the first 2xx.
      yield* Queue.offer(outcomes, Effect.die("store down"))
      assert.strictEqual((yield* Fiber.join(first)).status, 500)
      assert.deepStrictEqual(applied, [])
      yield* Queue.offer(outcomes, Effect.void)
      const answer = yield* Fiber.join(duplicate)
      assert.strictEqual(answer.status, 200)
      assert.isUndefined(answer.json.replay)
      assert.strictEqual(applied.length, 1)
      // A later copy is applied again (idempotent) and acknowledged as a replay.
      yield* Queue.offer(outcomes, Effect.void)
      const replay = yield* post(body)
      assert.strictEqual(replay.status, 200)
      assert.strictEqual(replay.json.replay, true)
    }).pipe(Effect.provide(Layer.merge(tracker, CallbackReceiver.layer({ secret: SECRET }))), Effect.provide(layer()))
  })
})

describe("POST /zego/callback: a replay's apply", () => {
  /**
   * The real tracker and nonce store (with `settleApplied`, or claiming beside the apply with each claim waiting until
   * its delivery's apply has ended: the worst case of running both at once). Counts the store's writes and the
   * applies, each run to its end.
   */
  const harness = (nonceSettling: "after the apply" | "beside the apply") => {
    const memory = StreamTracker.memoryStore(100)
    const writes: Array<boolean> = []
    const store: StreamTracker.Store = {
      ...memory,
      compareAndSet: (streamId, version, next, change) =>
        Effect.tap(memory.compareAndSet(streamId, version, next, change), (written) => {
          if (written) writes.push(change)
        })
    }
    const applied = Effect.runSync(Queue.unbounded<void>())
    let applies = 0
    const tracker = Layer.scoped(
      StreamTracker.StreamTracker,
      Effect.map(StreamTracker.make({ store }), (real) => ({
        ...real,
        applyDelivery: (event: Callback.Event, delivery: CallbackNonceStore.Delivery | undefined) =>
          real.applyDelivery(event, delivery).pipe(
            Effect.tap(() => Effect.sync(() => applies++)),
            Effect.ensuring(Queue.offer(applied, undefined))
          )
      }))
    )
    const nonces = nonceSettling === "after the apply"
      ? CallbackNonceStore.memoryNonceStore()
      : Effect.map(claimingNonces, (nonces) => ({
        ...nonces,
        claim: (nonce: string, expiresAt: number) =>
          Effect.zipRight(Queue.take(applied), nonces.claim(nonce, expiresAt))
      }))
    const receiver = Layer.unwrapEffect(
      Effect.map(nonces, (nonces) => CallbackReceiver.layer({ secret: SECRET, nonces }))
    )
    const layers = Layer.merge(tracker, receiver).pipe(
      Layer.provideMerge(ZegoMock.layerServices({ appId: 12345, serverSecret: Redacted.make("server-secret") }))
    )
    return { writes, applies: () => applies, layers }
  }

  const event = FastCheck.record({
    kind: FastCheck.constantFrom("stream_create" as const, "stream_close" as const),
    seq: FastCheck.integer({ min: 1, max: 5 })
  })

  for (const nonceSettling of ["after the apply", "beside the apply"] as const) {
    it.effect(`with the nonce settled ${nonceSettling}: a replay, of the last event or of an older one after newer ones, is applied again and changes nothing`, () =>
      Effect.promise(() =>
        FastCheck.assert(
          FastCheck.asyncProperty(
            FastCheck.array(event, { minLength: 1, maxLength: 8 }),
            FastCheck.func(FastCheck.integer()),
            (events, order) => {
              const { applies, layers, writes } = harness(nonceSettling)
              return Effect.gen(function*() {
                yield* TestClock.setTime(NOW)
                const bodies = events.map(({ kind, seq }) => callbackBody(kind, "match-42", seq))
                for (const body of bodies) {
                  const answer = yield* post(body)
                  assert.strictEqual(answer.status, 200)
                  assert.isUndefined(answer.json.replay)
                }
                const tracker = yield* StreamTracker.StreamTracker
                const before = yield* tracker.peek("match-42")
                const written = writes.length
                const applied = applies()
                const replays = [...bodies].sort((a, b) => order(a) - order(b))
                for (const body of replays) {
                  const answer = yield* post(body)
                  assert.strictEqual(answer.status, 200)
                  assert.strictEqual(answer.json.replay, true)
                }
                // Each replay's apply ran to its end, and not one of them wrote (so none published a change).
                assert.strictEqual(applies() - applied, replays.length)
                assert.strictEqual(writes.length, written)
                assert.deepStrictEqual(yield* tracker.peek("match-42"), before)
              }).pipe(Effect.provide(layers), Effect.provide(TestContext.TestContext), Effect.runPromise)
            }
          ),
          { numRuns: 60 }
        )
      ))
  }
})

describe("POST /zego/callback: the body", () => {
  /** A body of `bytes` spaces with no declared length, as a stream; counts what the server pulled of it. */
  const streamed = (bytes: number) => {
    const pulled = { bytes: 0 }
    const chunk = new Uint8Array(64 * 1024).fill(32)
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled.bytes >= bytes) return controller.close()
        pulled.bytes += chunk.byteLength
        controller.enqueue(chunk)
      }
    })
    return { pulled, init: { method: "POST", body, duplex: "half" } as RequestInit }
  }

  it.effect("a body with no declared length past the cap is a 413, and is read no further than a bound", () =>
    Effect.gen(function*() {
      const cap = CallbackReceiver.DEFAULT_MAX_BODY_BYTES
      // Read and dropped to its end: the connection can serve another request.
      const short = streamed(cap * 4)
      const drained = yield* send("/zego/callback", short.init)
      assert.strictEqual(drained.status, 413)
      assert.strictEqual(drained.json.error, "CallbackDecodeError")
      assert.isNull(drained.headers.get("connection"))
      assert.strictEqual(short.pulled.bytes, cap * 4)
      // Too long to drain: reading stops, and the answer says the connection is done.
      const long = streamed(16 * 1024 * 1024)
      const cut = yield* send("/zego/callback", long.init)
      assert.strictEqual(cut.status, 413)
      assert.strictEqual(cut.headers.get("connection"), "close")
      assert.isBelow(long.pulled.bytes, cap + 2 * 1024 * 1024)
    }).pipe(Effect.provide(layer())))

  it.effect("a body that cannot be read (none at all) is a 400", () =>
    Effect.gen(function*() {
      const answer = yield* send("/zego/callback", { method: "POST" })
      assert.strictEqual(answer.status, 400)
      assert.strictEqual(answer.json.error, "CallbackDecodeError")
    }).pipe(Effect.provide(layer())))
})

describe("POST /obs/ingest", () => {
  it.effect("refuses what authorize refuses, and sends nothing", () =>
    Effect.gen(function*() {
      const answer = yield* send("/obs/ingest?stream=match-42", { method: "POST" })
      assert.strictEqual(answer.status, 403)
      assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 0)
    }).pipe(Effect.provide(layer())))

  it.effect("a router built without authorize (from JavaScript) serves nothing: 403, and sends nothing", () =>
    Effect.gen(function*() {
      const bare = Endpoints.router({} as unknown as Endpoints.Options)
      const response = yield* bare.pipe(
        Effect.provideService(
          HttpServerRequest.HttpServerRequest,
          HttpServerRequest.fromWeb(new Request("http://app.test/obs/ingest?stream=s", { method: "POST" }))
        )
      )
      assert.strictEqual(response.status, 403)
      assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 0)
    }).pipe(Effect.provide(layer())))

  it.effect("dispatches a push for the authorized stream: server, streamKey, url, useBy = now + 2 h", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const answer = yield* send(
        "/obs/ingest?stream=match-42",
        { method: "POST", headers: { authorization: "Bearer yes" } },
        "::ffff:203.0.113.7"
      )
      assert.strictEqual(answer.status, 200)
      assert.deepStrictEqual(answer.json, {
        server: "rtmp://127.0.0.1:1935/live/",
        streamKey: "match-42",
        url: "rtmp://127.0.0.1:1935/live/match-42",
        useBy: new Date(NOW + 2 * 3600_000).toISOString()
      })
      const [request] = yield* (yield* ZegoMock.ZegoMock).requests
      assert.strictEqual(request?.action, "RTMPDispatchV2")
      assert.strictEqual(request?.params.Type, "push")
      assert.strictEqual(request?.params.ClientIP, "203.0.113.7")
    }).pipe(Effect.provide(layer())))

  it.effect("a real IPv6 peer is left out of the dispatch (the server takes IPv4 only)", () =>
    Effect.gen(function*() {
      const answer = yield* send(
        "/obs/ingest?stream=match-42",
        { method: "POST", headers: { authorization: "Bearer yes" } },
        "2001:db8::1"
      )
      assert.strictEqual(answer.status, 200)
      const [request] = yield* (yield* ZegoMock.ZegoMock).requests
      assert.isUndefined(request?.params.ClientIP)
    }).pipe(Effect.provide(layer())))

  it.effect("still rate limited after the retries: 503 with Retry-After", () =>
    Effect.gen(function*() {
      const answer = yield* send("/obs/ingest?stream=match-42", {
        method: "POST",
        headers: { authorization: "Bearer yes" }
      }).pipe(Effect.fork, Effect.tap(() => TestClock.adjust("1 minute")), Effect.flatMap((fiber) => fiber.await))
      assert.strictEqual(answer._tag, "Success")
      if (answer._tag !== "Success") return
      assert.strictEqual(answer.value.status, 503)
      assert.strictEqual(answer.value.json.error, "RateLimitedError")
      assert.strictEqual(answer.value.headers.get("retry-after"), "1")
    }).pipe(Effect.provide(layer(() => ZegoMock.code(1010)))))

  it.effect("an invalid stream id from authorize is a 400 and sends nothing", () =>
    Effect.gen(function*() {
      const answer = yield* send("/obs/ingest?stream=not%20valid", {
        method: "POST",
        headers: { authorization: "Bearer yes" }
      })
      assert.strictEqual(answer.status, 400)
      assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 0)
    }).pipe(Effect.provide(layer())))
})

describe("GET /streams/:streamId", () => {
  it.effect("an unknown stream is asked of DescribeRTCStreamState; a known fresh one is not", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const answer = yield* send("/streams/match-42")
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(answer.json.state, "live")
      assert.strictEqual(answer.json.source, "describe")
      yield* send("/streams/match-42")
      const actions = (yield* (yield* ZegoMock.ZegoMock).requests).map((request) => request.action)
      assert.deepStrictEqual(actions, ["DescribeRTCStreamState"])
    }).pipe(Effect.provide(layer())))

  it.effect("41004: absent; an invalid id: 400 and nothing sent", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* send("/streams/match-42")).json.state, "absent")
      assert.strictEqual((yield* send("/streams/a%20b")).status, 400)
      assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 1)
    }).pipe(Effect.provide(layer(() => ZegoMock.code(41004)))))

  /** A GET of `path` through `app`: its status and headers. */
  const get = <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>, path: string) =>
    app.pipe(
      Effect.provideService(
        HttpServerRequest.HttpServerRequest,
        HttpServerRequest.fromWeb(new Request(`http://app.test${path}`, { headers: { authorization: "Bearer yes" } }))
      ),
      Effect.map(HttpServerResponse.toWeb)
    )

  it.effect("authorizeRead guards reads: refused is a 403 and asks nothing; allowed is answered as before", () =>
    Effect.gen(function*() {
      const guarded = Endpoints.router({
        authorize: () => Effect.succeed(Option.none()),
        authorizeRead: (request, streamId) =>
          Effect.succeed(request.headers.authorization === "Bearer yes" && streamId === "mine")
      })
      assert.strictEqual((yield* get(guarded, "/streams/theirs")).status, 403)
      assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 0)
      const mine = yield* get(guarded, "/streams/mine")
      assert.strictEqual(mine.status, 200)
      assert.strictEqual(((yield* Effect.promise(() => mine.json())) as Record<string, unknown>).state, "live")
    }).pipe(Effect.provide(layer())))

  it.effect("too many re-checks pending: 503 with Retry-After, and nothing more is asked", () =>
    Effect.gen(function*() {
      const open = Endpoints.router({ authorize: () => Effect.succeed(Option.none()) })
      const waiting = yield* Effect.fork(get(open, "/streams/first"))
      yield* TestClock.adjust(0)
      // Forked and polled, so that a read that waits fails the test rather than hang it.
      const second = yield* Effect.fork(get(open, "/streams/second"))
      yield* TestClock.adjust(0)
      const answered = yield* Fiber.poll(second)
      assert.isTrue(answered._tag === "Some" && answered.value._tag === "Success")
      const busy = yield* Fiber.join(second)
      assert.strictEqual(busy.status, 503)
      assert.strictEqual(busy.headers.get("retry-after"), "1")
      assert.strictEqual(
        ((yield* Effect.promise(() => busy.json())) as Record<string, unknown>).error,
        "TrackerBusyError"
      )
      assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 1)
      yield* Fiber.interrupt(waiting)
    }).pipe(Effect.provide(
      Layer.mergeAll(StreamTracker.layer({ maxPendingRechecks: 1 }), CallbackReceiver.layer({ secret: SECRET })).pipe(
        Layer.provideMerge(ZegoMock.layerServices({
          appId: 12345,
          serverSecret: Redacted.make("server-secret"),
          handler: () => ZegoMock.delay("1 minute", ZegoMock.success())
        }))
      )
    )))
})

describe("ipv4Of", () => {
  it.prop("an IPv4 address, bare or IPv4-mapped, is kept; IPv6 and junk are left out", [FastCheck.ipV4()], ([ip]) => {
    assert.strictEqual(Endpoints.ipv4Of(ip), ip)
    assert.strictEqual(Endpoints.ipv4Of(`::ffff:${ip}`), ip)
    assert.strictEqual(Endpoints.ipv4Of(`::FFFF:${ip}`), ip)
  })
  it.prop("IPv6 is left out", [FastCheck.ipV6()], ([ip]) => {
    const mapped = /^::ffff:\d/i.test(ip)
    if (!mapped) assert.isUndefined(Endpoints.ipv4Of(ip))
  })
})

describe("paths", () => {
  it.effect("an app's own paths replace the defaults", () =>
    Effect.gen(function*() {
      const custom = Endpoints.router({
        authorize: () => Effect.succeed(Option.none()),
        paths: { callback: "/hooks/zego", streams: "/live/:streamId" }
      })
      const status = (path: string) =>
        custom.pipe(
          Effect.provideService(
            HttpServerRequest.HttpServerRequest,
            HttpServerRequest.fromWeb(new Request(`http://app.test${path}`, { method: "POST", body: "{" }))
          ),
          Effect.map((response) => response.status),
          Effect.catchTag("RouteNotFound", () => Effect.succeed(404))
        )
      assert.strictEqual(yield* status("/hooks/zego"), 400)
      assert.strictEqual(yield* status("/zego/callback"), 404)
      assert.strictEqual(yield* status("/obs/ingest"), 403)
    }).pipe(Effect.provide(layer())))
})
