/**
 * Hostile callers of the callback endpoint, on a real Node HTTP server on loopback serving `Endpoints.router` (the
 * real receiver, the real tracker, the mock for the actions): a body past the cap, a body thousands of levels deep,
 * a storm of forgeries against a small nonce store, and one signed callback sent 200 times at once. Each must get a
 * clear status, apply nothing it should not, apply once what it should, leave the server answering, and never echo
 * the secret.
 */
import { Callback, CallbackNonceStore, CallbackReceiver, Endpoints, StreamTracker } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import { createServer } from "node:http"
import { figures, held, observe, save } from "./figures.js"

const SECRET_TEXT = "hostile-callback-secret"
const SECRET = Redacted.make(SECRET_TEXT)
const NONCE_CAPACITY = 16

afterAll(() => save("hostile-callbacks"))

const services = Layer.mergeAll(
  StreamTracker.layer(),
  Layer.unwrapEffect(Effect.map(
    CallbackNonceStore.memoryNonceStore({ capacity: NONCE_CAPACITY }),
    (nonces) => CallbackReceiver.layer({ secret: SECRET, nonces })
  ))
).pipe(Layer.provideMerge(ZegoMock.layerServices({ appId: 424242, serverSecret: Redacted.make("server-secret") })))

const router = Endpoints.router({ authorize: () => Effect.succeed(Option.none()) })

/** The router on a free port of 127.0.0.1, and its services. */
const stack = HttpServer.serve(router).pipe(
  Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })),
  Layer.provideMerge(services)
)

const baseUrl = Effect.map(HttpServer.HttpServer, (server) => {
  const address = server.address as HttpServer.TcpAddress
  return `http://127.0.0.1:${address.port}`
})

const post = (url: string, body: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/zego/callback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body
    })
    return { status: response.status, text: await response.text() }
  })

/** POSTs `bytes` spaces in 16 KiB chunks (`Transfer-Encoding: chunked`); the status, or what broke the exchange. */
const postChunked = (url: string, bytes: number) =>
  Effect.async<number | string>((resume) => {
    const request = Http.request(`${url}/zego/callback`, { method: "POST" }, (response) => {
      response.resume()
      resume(Effect.succeed(response.statusCode ?? 0))
    })
    request.on("error", (error) => resume(Effect.succeed(error.message)))
    const chunk = Buffer.alloc(16 * 1024, 32)
    const write = (left: number): void => {
      if (left <= 0) return void request.end()
      if (request.write(chunk)) write(left - chunk.length)
      else request.once("drain", () => write(left - chunk.length))
    }
    write(bytes)
  })

let nonces = 0
const signedCreate = (streamId: string, seq = 1) => {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = `nonce-${++nonces}`
  return JSON.stringify({
    event: "stream_create",
    appid: "424242",
    timestamp,
    nonce,
    signature: Callback.signature(SECRET, timestamp, nonce),
    stream_id: streamId,
    room_session_id: "858012925204410400",
    stream_seq: String(seq),
    create_time_ms: String(Date.now())
  })
}

const assertServerAnswers = (url: string, streamId: string) =>
  Effect.gen(function*() {
    const answer = yield* post(url, signedCreate(streamId))
    assert.strictEqual(answer.status, 200, answer.text)
    assert.strictEqual((yield* (yield* StreamTracker.StreamTracker).peek(streamId))?.state, "live")
  })

describe("hostile callers of POST /zego/callback", () => {
  it.live("a body past the cap is refused whole (413), and the server goes on answering", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      figures.badInputs++
      const result = yield* observe(post(url, " ".repeat(CallbackReceiver.DEFAULT_MAX_BODY_BYTES * 16)), 30_000)
      assert.strictEqual(result._tag, "Success", "cause" in result ? result.cause : "")
      if (result._tag !== "Success") return
      assert.strictEqual(result.value.status, 413)
      // Sent in chunks with no declared length, and more than the server reads and drops past the cap (1 MiB): it
      // stops reading and the connection is dropped (it cannot answer a caller that is still sending), or 413 if the
      // answer wins the race.
      figures.badInputs++
      const chunked = yield* observe(postChunked(url, CallbackReceiver.DEFAULT_MAX_BODY_BYTES * 64), 30_000)
      assert.strictEqual(chunked._tag, "Success", "cause" in chunked ? chunked.cause : "")
      if (chunked._tag === "Success") assert.match(String(chunked.value), /^413$|ECONNRESET|EPIPE|socket hang up/)
      yield* assertServerAnswers(url, "after-large")
      held("callback-body-cap")
    }).pipe(Effect.provide(stack)))

  it.live("a chunked body past the cap is answered 413, not reset, and the server goes on answering", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const cap = CallbackReceiver.DEFAULT_MAX_BODY_BYTES
      // Just past the cap, and four times it: no length declared, so the cap is found while reading.
      const sizes = [cap + 16 * 1024, cap * 4]
      figures.badInputs += sizes.length
      for (const size of sizes) {
        const result = yield* observe(postChunked(url, size), 30_000)
        assert.strictEqual(result._tag, "Success", "cause" in result ? result.cause : "")
        if (result._tag === "Success") assert.strictEqual(result.value, 413, `a chunked body of ${size} bytes`)
      }
      yield* assertServerAnswers(url, "after-chunked")
      held("chunked-callback-413")
    }).pipe(Effect.provide(stack)))

  it.live("a body 3 000 levels deep is a 400 with a short, flat message", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      figures.badInputs++
      const deep = "{\"a\":".repeat(3000) + "1" + "}".repeat(3000)
      const result = yield* observe(post(url, deep), 30_000)
      assert.strictEqual(result._tag, "Success")
      if (result._tag !== "Success") return
      assert.strictEqual(result.value.status, 400)
      assert.isBelow(result.value.text.length, 600)
      assert.notInclude(result.value.text, "\n")
      yield* assertServerAnswers(url, "after-deep")
      held("callback-deep-json")
    }).pipe(Effect.provide(stack)))

  it.live("forgeries, many more than the nonce store holds, take none of it: 401 each, and a real one still applies", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const forged = Array.from({ length: NONCE_CAPACITY * 8 }, (_, i) => {
        const timestamp = String(Math.floor(Date.now() / 1000))
        return JSON.stringify({
          event: "stream_create",
          appid: "424242",
          timestamp,
          nonce: `forged-${i}`,
          signature: Callback.signature(Redacted.make("a guess"), timestamp, `forged-${i}`),
          stream_id: "forged",
          room_session_id: "1",
          stream_seq: "1",
          create_time_ms: String(Date.now())
        })
      })
      figures.badInputs += forged.length
      const answers = yield* Effect.forEach(forged, (body) => post(url, body), { concurrency: 16 })
      assert.deepStrictEqual([...new Set(answers.map((answer) => answer.status))], [401])
      for (const answer of answers) assert.notInclude(answer.text, SECRET_TEXT)
      assert.isUndefined(yield* (yield* StreamTracker.StreamTracker).peek("forged"))
      yield* assertServerAnswers(url, "after-forgeries")
      held("callback-forgery-storm")
    }).pipe(Effect.provide(stack)))

  it.live("one signed callback sent 200 times at once: 2xx or 503 each, a retry of a 503 is 2xx, applied once", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const tracker = yield* StreamTracker.StreamTracker
      const changes = yield* tracker.subscribe
      const collected = yield* Effect.fork(Stream.runCollect(Stream.take(changes, 2)))
      const body = signedCreate("storm")
      figures.requests += 201
      const answers = yield* Effect.forEach(Array.from({ length: 200 }), () => post(url, body), { concurrency: 200 })
      // Each copy is applied (changing nothing after the first) and answered 2xx, or 503 when a store could not take
      // it then; none is refused otherwise.
      const statuses = new Set(answers.map((answer) => answer.status))
      assert.isTrue(statuses.has(200))
      for (const status of statuses) assert.include([200, 503], status)
      // Once applied, a retry is a replay: 2xx.
      const retry = yield* post(url, body)
      assert.strictEqual(retry.status, 200)
      assert.include(retry.text, "replay")
      // A second, different stream's change ends the collection: had the storm published twice, it would show.
      yield* assertServerAnswers(url, "after-storm")
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(collected)).map((change) => change.streamId)
      assert.deepStrictEqual(seen, ["storm", "after-storm"])
      held("callback-replay-storm")
    }).pipe(Effect.scoped, Effect.provide(stack)))
})
