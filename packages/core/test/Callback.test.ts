import { Callback, CallbackError, CallbackNonceStore, CallbackReceiver, Untrusted } from "@effect-zego/core"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import { recordSpans, runs } from "./utils.js"

type Raw = Record<string, string | ReadonlyArray<string>>

const SECRET_TEXT = "secret"
const secret = Redacted.make(SECRET_TEXT)
/** The callbacks' `timestamp`; the TestClock is set to it by {@link at}. */
const T = 1_700_000_000

const signed = (fields: Raw, key: Redacted.Redacted<string> = secret): Raw => ({
  ...fields,
  signature: Callback.signature(key, fields.timestamp as string, fields.nonce as string)
})

const createFields = (over: Raw = {}): Raw =>
  signed({
    event: "stream_create",
    appid: "1234567",
    timestamp: String(T),
    nonce: "123412",
    room_id: "room-1",
    room_session_id: "858012925204410400",
    user_id: "u1",
    user_name: "Ann & Bob = \"friends\"",
    channel_id: "0",
    stream_id: "s1",
    stream_sid: "sid-1",
    stream_alias: "",
    stream_attr: "{\"cid\":3}",
    stream_seq: "7",
    create_time: String(T),
    create_time_ms: String(T * 1000 + 5),
    extra_info: "",
    recreate: "0",
    title: "a title",
    rtmp_url: ["rtmp://a/s1", "rtmp://b/s1"],
    hls_url: ["https://h/s1.m3u8"],
    ...over
  })

const closeFields = (over: Raw = {}): Raw =>
  signed({
    event: "stream_close",
    appid: "1234567",
    timestamp: String(T),
    nonce: "99887766",
    room_id: "room-1",
    room_session_id: "858012925204410400",
    user_id: "u1",
    user_name: "Ann",
    channel_id: "0",
    stream_id: "s1",
    stream_sid: "sid-1",
    stream_alias: "",
    stream_seq: "8",
    third_define_data: "",
    create_time_ms: String(T * 1000 - 60_000),
    destroy_timemillis: String(T * 1000),
    type: "1",
    ...over
  })

const json = (fields: Raw): string => JSON.stringify(fields)
const urlEncodedJson = (fields: Raw): string => encodeURIComponent(json(fields))
const form = (fields: Raw): string => {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === "string") params.append(key, value)
    else for (const item of value) params.append(`${key}[]`, item)
  }
  return params.toString()
}

/** Runs `self` with the TestClock at the callbacks' timestamp. */
const at = <A, E, R>(self: Effect.Effect<A, E, R>, seconds = T) =>
  Effect.zipRight(TestClock.setTime(seconds * 1000), self)

const receiver = (options: Partial<CallbackReceiver.ReceiverOptions> = {}) =>
  Effect.orDie(CallbackReceiver.makeReceiver({ secret, ...options }))

/** The typed failure of `self`; fails the test on success or on a defect. */
const failure = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(self), (exit): E => {
    if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
    const error = Cause.failureOption(exit.cause)
    if (Option.isNone(error) || Cause.isDie(exit.cause)) return assert.fail(`not a typed failure: ${exit.cause}`)
    return error.value
  })

/** Receives `body` with a fresh receiver at the callbacks' time. */
const receive = (body: string | Uint8Array, contentType?: string) =>
  at(Effect.flatMap(receiver(), (r) => r.receive({ body, contentType })))

const decodeFailure = (body: string | Uint8Array, contentType?: string) =>
  Effect.map(failure(receive(body, contentType)), (error) => {
    assert.strictEqual(error._tag, "CallbackDecodeError", error.message)
    // Short, one line, and never the body.
    assert.isBelow(error.message.length, 200)
    assert.isFalse(Untrusted.hasUnsafeCharacters(error.message))
    return error
  })

describe("Callback", () => {
  describe("signature", () => {
    it("matches ZEGOCLOUD's official vector", () => {
      assert.strictEqual(
        Callback.signature(Redacted.make("secret"), "1470820198", "123412"),
        "5bd59fd62953a8059fb7eaba95720f66d19e4517"
      )
    })

    it.effect("accepts the official vector's callback at its own time", () =>
      Effect.gen(function*() {
        const r = yield* receiver()
        const event = yield* r.receive({
          body: json({
            event: "room_create",
            appid: "1",
            timestamp: "1470820198",
            nonce: "123412",
            signature: "5bd59fd62953a8059fb7eaba95720f66d19e4517"
          })
        })
        assert.strictEqual(event._tag, "UnknownEvent")
      }).pipe((self) => at(self, 1470820198)))

    const inputs = FastCheck.record({
      secret: FastCheck.stringMatching(/^[a-z]{8,32}$/),
      nonce: FastCheck.stringMatching(/^[0-9]{6,19}$/),
      timestamp: FastCheck.integer({ min: T - 300, max: T + 300 }).map(String)
    })
    const concatenation = (i: { secret: string; nonce: string; timestamp: string }) =>
      [i.secret, i.nonce, i.timestamp].sort().join("")

    it.effect.prop(
      "any change to the secret, the nonce or the timestamp fails verification",
      [inputs, inputs],
      ([a, b]) =>
        Effect.gen(function*() {
          const nonces = yield* CallbackNonceStore.memoryNonceStore()
          const fields = {
            nonce: a.nonce,
            timestamp: a.timestamp,
            signature: Callback.signature(Redacted.make(a.secret), a.timestamp, a.nonce)
          }
          const ok = yield* CallbackReceiver.verify(fields, { secret: Redacted.make(a.secret), nonces })
          assert.strictEqual(ok.nonce, a.nonce)
          for (const key of ["secret", "nonce", "timestamp"] as const) {
            const changed = { ...a, [key]: b[key] }
            // Another input with the same sorted concatenation is the scheme's collision, not a verification bug.
            if (concatenation(changed) === concatenation(a)) continue
            const error = yield* failure(
              CallbackReceiver.verify(
                { ...fields, nonce: changed.nonce, timestamp: changed.timestamp },
                { secret: Redacted.make(changed.secret), nonces }
              )
            )
            assert.deepStrictEqual(error, new CallbackError.CallbackSignatureError({ reason: "mismatch" }))
          }
        }).pipe(at),
      { fastCheck: { numRuns: runs(50) } }
    )

    it.effect("a missing signature, nonce or timestamp, or a timestamp that is not digits, is 'missing'", () =>
      Effect.gen(function*() {
        const nonces = yield* CallbackNonceStore.memoryNonceStore()
        const base = createFields()
        for (
          const fields of [
            { ...base, signature: undefined },
            { ...base, nonce: undefined },
            { ...base, timestamp: undefined },
            signed({ ...base, timestamp: "1.7e9" }),
            signed({ ...base, timestamp: "9".repeat(1000) }),
            { ...base, nonce: ["1", "2"] }
          ]
        ) {
          const cleaned = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Raw
          const error = yield* failure(CallbackReceiver.verify(cleaned, { secret, nonces }))
          assert.deepStrictEqual(error, new CallbackError.CallbackSignatureError({ reason: "missing" }))
        }
      }).pipe(at))

    it.effect("a wrong signature takes nothing from the nonce store", () =>
      Effect.gen(function*() {
        const takes: Array<string> = []
        const memory = yield* CallbackNonceStore.memoryNonceStore({ capacity: 1 })
        const nonces: CallbackNonceStore.NonceStore = {
          ...memory,
          claim: (nonce, expiresAt) =>
            Effect.zipRight(Effect.sync(() => takes.push(nonce)), memory.claim(nonce, expiresAt))
        }
        const r = yield* receiver({ nonces })
        const forged = { ...createFields(), signature: "0".repeat(40) }
        const error = yield* failure(r.receive({ body: json(forged) }))
        assert.strictEqual(error._tag, "CallbackSignatureError")
        assert.deepStrictEqual(takes, [])
        const event = yield* r.receive({ body: json(createFields()) })
        assert.strictEqual(event._tag, "StreamCreated")
        assert.deepStrictEqual(takes, ["123412"])
      }).pipe(at))
  })

  describe("freshness and replay", () => {
    it.effect("a replay of a committed event within the window is refused as a replay", () =>
      Effect.gen(function*() {
        const r = yield* receiver()
        const body = json(createFields())
        const event = yield* r.receive({ body })
        yield* r.commit(event)
        const replay = yield* failure(r.receive({ body }))
        assert.strictEqual(replay._tag, "CallbackReplayError")
        yield* TestClock.adjust("4 minutes")
        assert.strictEqual((yield* failure(r.receive({ body })))._tag, "CallbackReplayError")
        // Settled already: a later release changes nothing.
        yield* r.release(event)
        assert.strictEqual((yield* failure(r.receive({ body })))._tag, "CallbackReplayError")
      }).pipe(at))

    it.effect("a delivery while the first is still being applied is unavailable (503), never a replay (2xx)", () =>
      Effect.gen(function*() {
        const r = yield* receiver()
        const body = json(createFields())
        const event = yield* r.receive({ body })
        const during = yield* failure(r.receive({ body }))
        assert.strictEqual(during._tag, "CallbackUnavailableError")
        assert.include(during.message, "still being applied")
        // The first could not be applied: given back, the retry is received (and may be applied).
        yield* r.release(event)
        const retry = yield* r.receive({ body })
        assert.deepStrictEqual(retry, event)
        yield* r.commit(retry)
        assert.strictEqual((yield* failure(r.receive({ body })))._tag, "CallbackReplayError")
      }).pipe(at))

    it.effect("an event neither committed nor released lapses after the pending timeout: the retry is received", () =>
      Effect.gen(function*() {
        const r = yield* receiver()
        const body = json(createFields())
        yield* r.receive({ body })
        yield* TestClock.adjust(Duration.toMillis(CallbackNonceStore.DEFAULT_PENDING_TIMEOUT) - 1)
        assert.strictEqual((yield* failure(r.receive({ body })))._tag, "CallbackUnavailableError")
        yield* TestClock.adjust(2)
        assert.strictEqual((yield* r.receive({ body }))._tag, "StreamCreated")
      }).pipe(at))

    it.effect.prop(
      "a timestamp further than the window from the clock, either way, is expired",
      [FastCheck.integer({ min: 301, max: 100_000 }), FastCheck.boolean()],
      ([offset, future]) =>
        Effect.gen(function*() {
          const r = yield* receiver()
          yield* TestClock.setTime((future ? T - offset : T + offset) * 1000)
          const error = yield* failure(r.receive({ body: json(createFields()) }))
          assert.strictEqual(error._tag, "CallbackExpiredError")
          if (error._tag === "CallbackExpiredError") {
            assert.strictEqual(error.timestamp, T)
            assert.strictEqual(error.windowSeconds, 300)
          }
        })
    )

    it.effect.prop(
      "a timestamp within the window is accepted",
      [FastCheck.integer({ min: -300, max: 300 })],
      ([offset]) =>
        Effect.gen(function*() {
          const r = yield* receiver()
          yield* TestClock.setTime((T + offset) * 1000)
          assert.strictEqual((yield* r.receive({ body: json(createFields()) }))._tag, "StreamCreated")
        })
    )

    it.effect("the window is configurable, and refused when not positive or longer than an hour", () =>
      Effect.gen(function*() {
        const r = yield* receiver({ window: "10 seconds" })
        yield* TestClock.setTime((T + 11) * 1000)
        const error = yield* failure(r.receive({ body: json(createFields()) }))
        assert.strictEqual(error._tag, "CallbackExpiredError")
        for (const window of ["0 millis", "2 hours", "-1 seconds"] as const) {
          const invalid = yield* failure(CallbackReceiver.makeReceiver({ secret, window }))
          assert.strictEqual(invalid._tag, "InvalidRequestError")
        }
        const standalone = yield* failure(
          CallbackReceiver.verify(createFields(), {
            secret,
            window: "2 hours",
            nonces: yield* CallbackNonceStore.memoryNonceStore()
          })
        )
        assert.strictEqual(standalone._tag, "InvalidRequestError")
      }))

    it.effect("options that are not what they claim are InvalidRequestError", () =>
      Effect.gen(function*() {
        for (
          const options of [
            { secret: "secret" },
            { secret: Redacted.make("") },
            { secret, maxBodyBytes: 0 },
            { secret, nonces: {} },
            // A settleApplied that is not a function would be called on every callback.
            {
              secret,
              nonces: {
                claim: () => Effect.void,
                commit: () => Effect.void,
                release: () => Effect.void,
                settleApplied: 1
              }
            },
            null
          ]
        ) {
          const error = yield* failure(
            CallbackReceiver.makeReceiver(options as unknown as CallbackReceiver.ReceiverOptions)
          )
          assert.strictEqual(error._tag, "InvalidRequestError")
        }
        assert.strictEqual(
          (yield* failure(CallbackNonceStore.memoryNonceStore({ capacity: 0 })))._tag,
          "InvalidRequestError"
        )
      }))
  })

  describe("decoding", () => {
    it.effect("decodes stream_create with every number whole", () =>
      Effect.gen(function*() {
        const event = yield* receive(json(createFields()))
        assert.deepStrictEqual(event, {
          _tag: "StreamCreated",
          event: "stream_create",
          appId: 1234567,
          timestamp: T,
          nonce: "123412",
          streamId: "s1",
          roomId: "room-1",
          roomSessionId: 858012925204410400n,
          streamSeq: 7n,
          userId: "u1",
          userName: "Ann & Bob = \"friends\"",
          channelId: "0",
          streamSid: "sid-1",
          streamAlias: "",
          createdAt: new Date(T * 1000 + 5),
          recreate: false,
          extraInfo: "",
          title: "a title",
          codec: 3,
          rtmpUrls: ["rtmp://a/s1", "rtmp://b/s1"],
          hlsUrls: ["https://h/s1.m3u8"],
          hdlUrls: [],
          picUrls: []
        })
      }))

    it.effect.prop(
      "any room_session_id and stream_seq of 2^53 and more, sent as JSON numbers, are kept exactly",
      [FastCheck.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), FastCheck.bigInt({ min: 0n, max: 2n ** 64n - 1n })],
      ([session, seq]) =>
        Effect.gen(function*() {
          const { room_session_id: _, stream_seq: __, ...rest } = createFields()
          const body = `${json(rest).slice(0, -1)},"room_session_id":${session},"stream_seq":${seq}}`
          const event = yield* receive(body)
          assert.strictEqual(event._tag, "StreamCreated")
          if (event._tag === "StreamCreated") {
            assert.strictEqual(event.roomSessionId, session)
            assert.strictEqual(event.streamSeq, seq)
          }
        })
    )

    it.effect("parse keeps numbers, booleans and null as their source text", () =>
      Effect.gen(function*() {
        const fields = yield* CallbackReceiver.parse({
          body:
            "{\"a\":858012925204410400,\"b\":1.50e+3,\"c\":true,\"d\":null,\"e\":[1,\"x\",{\"k\":2}],\"f\":{\"cid\":0}}"
        })
        assert.deepStrictEqual({ ...fields }, {
          a: "858012925204410400",
          b: "1.50e+3",
          c: "true",
          d: "null",
          e: ["1", "x", "{\"k\":2}"],
          f: "{\"cid\":0}"
        })
      }))

    it.effect.prop(
      "parse reads any JSON string as JSON.parse does (escapes, surrogate pairs, __proto__ as a key)",
      [FastCheck.string({ unit: "binary", maxLength: 40 }), FastCheck.string({ maxLength: 10 })],
      ([text, key]) =>
        Effect.gen(function*() {
          const fields = yield* CallbackReceiver.parse({
            body: `{${JSON.stringify(`k${key}`)}:${JSON.stringify(text)}}`
          })
          // A key ending in `[]` is a list field, read under its name without the brackets.
          const name = `k${key}`
          if (name.endsWith("[]")) assert.deepStrictEqual(fields[name.slice(0, -2)], [text])
          else assert.strictEqual(fields[name], text)
          const escaped = yield* CallbackReceiver.parse({
            body: "{\"__proto__\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}"
          })
          assert.strictEqual(escaped.__proto__, "\"\\/\b\f\n\r\té😀")
        })
    )

    /** A JSON value as written, and the field text (or list of texts) parse must give for it. */
    interface Member {
      readonly json: string
      readonly text: string
    }
    const whitespace = FastCheck.constantFrom("", " ", "\n", "\t\r ")
    const awkward = FastCheck.oneof(
      FastCheck.string({ unit: "binary", maxLength: 12 }),
      FastCheck.stringMatching(/^[a-z:"\\[\]{},]{0,8}$/)
    )
    const scalar: FastCheck.Arbitrary<Member> = FastCheck.oneof(
      { weight: 6, arbitrary: awkward.map((s) => ({ json: JSON.stringify(s), text: s })) },
      FastCheck.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => ({ json: String(n), text: String(n) })),
      FastCheck.constantFrom("1.50e+3", "-0", "0.5", "true", "false", "null").map((t) => ({ json: t, text: t })),
      FastCheck.nat(99).map((n) => ({ json: `{"cid":${n}}`, text: `{"cid":${n}}` }))
    )
    const member = FastCheck.oneof(
      { weight: 3, arbitrary: scalar.map((m) => ({ json: m.json, value: m.text as string | ReadonlyArray<string> })) },
      FastCheck.tuple(FastCheck.array(scalar, { maxLength: 3 }), whitespace).map(([items, ws]) => ({
        json: `[${ws}${items.map((item) => item.json).join(`${ws},${ws}`)}${ws}]`,
        value: items.map((item) => item.text) as string | ReadonlyArray<string>
      }))
    )
    const key = FastCheck.oneof(
      FastCheck.constantFrom("a", "b", "a[]", "b[]", "__proto__", "0", "12", "x:y", "q\"", "s\\", "", "[]"),
      awkward
    )
    it.prop(
      "parse gives a JSON body's fields in its order (by JSON.parse or the lossless parser), and refuses a name twice",
      [FastCheck.array(FastCheck.tuple(key, member, whitespace), { maxLength: 8 })],
      ([members]) => {
        const body = `{${members.map(([k, m, ws]) => `${ws}${JSON.stringify(k)}${ws}:${ws}${m.json}${ws}`).join(",")}}`
        // In the body's order, as a record lists its keys (array indices first, as numbers).
        const expected: Record<string, string | ReadonlyArray<string>> = Object.create(null)
        let twice = false
        for (const [k, m] of members) {
          const list = k.endsWith("[]")
          const name = list ? k.slice(0, -2) : k
          if (Object.hasOwn(expected, name)) twice = true
          expected[name] = list && typeof m.value === "string" ? [m.value] : m.value
        }
        const parsed = Effect.runSync(Effect.either(CallbackReceiver.parse({ body })))
        if (twice) {
          assert.isTrue(Either.isLeft(parsed), body)
          return
        }
        assert.isTrue(Either.isRight(parsed), body)
        if (Either.isRight(parsed)) {
          assert.deepStrictEqual(Object.keys(parsed.right), Object.keys(expected), body)
          for (const name of Object.keys(expected)) assert.deepStrictEqual(parsed.right[name], expected[name], body)
        }
      }
    )

    it.effect("parse refuses a key twice whatever quotes, backslashes and colons the strings around it hold", () =>
      Effect.gen(function*() {
        const refused = [
          `{"a":"x\\"","a":"y"}`,
          `{"a":"\\\\","a":"y"}`,
          `{"a":"\\\\\\"","b":":","a":"y"}`,
          `{"k\\":":":"v","k\\":":":"w"}`,
          `{"a":["\\"",":"],"a[]":"y"}`,
          `{"__proto__":"x","__proto__":"y"}`
        ]
        for (const body of refused) {
          assert.strictEqual((yield* Effect.flip(CallbackReceiver.parse({ body })))._tag, "CallbackDecodeError", body)
        }
        const fields = yield* CallbackReceiver.parse({ body: `{"a":"x\\":","b\\\\":["\\\\",":\\""]}` })
        assert.deepStrictEqual({ ...fields }, { a: "x\":", "b\\": ["\\", ":\""] })
      }))

    const streamIds = FastCheck.stringMatching(/^[A-Za-z0-9_-]{1,40}$/)
    it.effect.prop(
      "JSON, URL-encoded JSON and a form decode to the same event",
      [streamIds, FastCheck.string({ maxLength: 30 }), FastCheck.boolean()],
      ([streamId, title, close]) =>
        Effect.gen(function*() {
          const fields = close ? closeFields({ stream_id: streamId }) : createFields({ stream_id: streamId, title })
          const fromJson = yield* receive(json(fields))
          const fromUrl = yield* receive(urlEncodedJson(fields))
          const fromForm = yield* receive(form(fields), "application/x-www-form-urlencoded")
          const fromBytes = yield* receive(new TextEncoder().encode(form(fields)))
          assert.deepStrictEqual(fromUrl, fromJson)
          assert.deepStrictEqual(fromForm, fromJson)
          assert.deepStrictEqual(fromBytes, fromJson)
          assert.strictEqual(fromJson.nonce, fields.nonce)
        }),
      { fastCheck: { numRuns: runs(50) } }
    )

    it("maps stream_close's type: 0 to 5, 100, and any other integer as unknown with its code", () => {
      {
        const expected: Array<[string, Callback.CloseReason]> = [
          ["0", "normal"],
          ["1", "heartbeatTimeout"],
          ["2", "repeatedLogin"],
          ["3", "kickedOut"],
          ["4", "tcpDisconnect"],
          ["5", "roomCleared"],
          ["100", "deletedByServer"],
          ["00", "normal"],
          ["-0", "normal"],
          ["6", "unknown"],
          ["99", "unknown"],
          ["-1", "unknown"],
          ["4294967296", "unknown"]
        ]
        for (const [type, reason] of expected) {
          const event = Either.getOrThrow(Callback.decode(closeFields({ type })))
          assert.strictEqual(event._tag, "StreamClosed")
          if (event._tag === "StreamClosed") {
            assert.strictEqual(event.reason, reason)
            assert.strictEqual(event.closeCode, Number(type))
            assert.deepStrictEqual(event.closedAt, new Date(T * 1000))
            assert.deepStrictEqual(event.createdAt, new Date(T * 1000 - 60_000))
          }
        }
        for (const type of ["", "1.0", "x", "1".repeat(11)]) {
          assert.isTrue(Either.isLeft(Callback.decode(closeFields({ type }))), type)
        }
      }
    })

    it.effect("stream_create: create_time in seconds when there is no create_time_ms; no room is room session 0", () =>
      Effect.gen(function*() {
        const { create_time_ms: _, room_id: __, room_session_id: ___, stream_attr: ____, ...rest } = createFields()
        const event = Either.getOrThrow(Callback.decode({ ...rest, recreate: "1" }))
        assert.strictEqual(event._tag, "StreamCreated")
        if (event._tag === "StreamCreated") {
          assert.deepStrictEqual(event.createdAt, new Date(T * 1000))
          assert.strictEqual(event.roomId, "")
          assert.strictEqual(event.roomSessionId, 0n)
          assert.strictEqual(event.codec, undefined)
          assert.isTrue(event.recreate)
        }
        const { create_time: _____, ...noTime } = rest
        assert.isTrue(Either.isLeft(Callback.decode(noTime)))
        // stream_attr as a JSON object (not a string) reads the same; an odd one leaves the codec unknown.
        const asObject = `${
          json(createFields({ stream_attr: "x" })).replace("\"stream_attr\":\"x\"", "\"stream_attr\":{\"cid\":1}")
        }`
        const fromObject = yield* receive(asObject)
        assert.strictEqual(fromObject._tag === "StreamCreated" && fromObject.codec, 1)
        for (const attr of ["", "nope", "{\"cid\":\"h264\"}", "[0]", "{\"cid\":0.5}"]) {
          const odd = Either.getOrThrow(Callback.decode(createFields({ stream_attr: attr })))
          assert.strictEqual(odd._tag === "StreamCreated" && odd.codec, undefined)
        }
      }))

    it.effect("keeps an unknown event, its fields bounded and without the signature", () =>
      Effect.gen(function*() {
        const extra = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, "v".repeat(5000)]))
        const fields = signed({
          event: "room_create",
          appid: "1",
          timestamp: String(T),
          nonce: "5",
          ...extra,
          list: ["a", "b"]
        })
        const event = Either.getOrThrow(Callback.decode(fields))
        assert.strictEqual(event._tag, "UnknownEvent")
        if (event._tag === "UnknownEvent") {
          assert.strictEqual(event.event, "room_create")
          assert.strictEqual(event.appId, 1)
          const names = Object.keys(event.fields)
          assert.strictEqual(names.length, Callback.MAX_UNKNOWN_FIELDS)
          assert.notInclude(names, "signature")
          assert.strictEqual(event.fields.f0!.length, Callback.MAX_UNKNOWN_VALUE)
        }
        const small = yield* receive(
          json(signed({ event: "x", appid: "1", timestamp: String(T), nonce: "6", l: ["a", "b"] }))
        )
        assert.strictEqual(small._tag === "UnknownEvent" && small.fields.l, "a,b")
      }))

    it.effect("a signed body whose stream fields are malformed is a decode error, and takes nothing from the nonce store", () =>
      Effect.gen(function*() {
        const takes: Array<string> = []
        const memory = yield* CallbackNonceStore.memoryNonceStore({ capacity: 1 })
        const nonces: CallbackNonceStore.NonceStore = {
          ...memory,
          claim: (nonce, expiresAt) =>
            Effect.zipRight(Effect.sync(() => takes.push(nonce)), memory.claim(nonce, expiresAt))
        }
        const r = yield* receiver({ nonces })
        const bad = createFields({ stream_seq: "12x" })
        const error = yield* failure(r.receive({ body: json(bad) }))
        assert.strictEqual(error._tag, "CallbackDecodeError")
        assert.include(error.message, "stream_seq")
        assert.deepStrictEqual(takes, [])
        // The same nonce in a good body goes through.
        assert.strictEqual((yield* r.receive({ body: json(createFields()) }))._tag, "StreamCreated")
        assert.deepStrictEqual(takes, ["123412"])
      }).pipe(at))
  })

  describe("receiveAndApply: the claim beside the apply", () => {
    type ClaimOutcome = "Claimed" | "Applied" | "Pending" | "down"
    type ApplyOutcome = "succeeds" | "fails" | "dies"

    /** A nonce store whose claim answers `outcome`, recording what is asked of it. */
    const scriptedStore = (outcome: ClaimOutcome, log: Array<string>): CallbackNonceStore.NonceStore => ({
      claim: (nonce) =>
        Effect.suspend(() => {
          log.push(`claim ${nonce}`)
          return outcome === "down"
            ? Effect.fail(new CallbackError.CallbackUnavailableError({ reason: "the store is down" }))
            : Effect.succeed(outcome === "Claimed" ? { _tag: "Claimed", token: "t1" } : { _tag: outcome })
        }),
      commit: (nonce, token) => Effect.sync(() => void log.push(`commit ${nonce} ${token}`)),
      release: (nonce, token) => Effect.sync(() => void log.push(`release ${nonce} ${token}`))
    })

    const applying = (outcome: ApplyOutcome, log: Array<string>) => (event: Callback.Event) =>
      Effect.suspend(() => {
        log.push(`apply ${event._tag}`)
        return outcome === "succeeds"
          ? Effect.succeed("applied")
          : outcome === "fails"
          ? Effect.fail({ _tag: "StoreDown" } as const)
          : Effect.die("a bug")
      })

    it.effect("each claim outcome with each apply outcome: a value only when claimed and applied, then committed", () =>
      Effect.gen(function*() {
        const claims: ReadonlyArray<ClaimOutcome> = ["Claimed", "Applied", "Pending", "down"]
        const applies: ReadonlyArray<ApplyOutcome> = ["succeeds", "fails", "dies"]
        for (const claim of claims) {
          for (const apply of applies) {
            const log: Array<string> = []
            const r = yield* receiver({ nonces: scriptedStore(claim, log) })
            const exit = yield* Effect.exit(r.receiveAndApply({ body: json(createFields()) }, applying(apply, log)))
            const what = `${claim}, apply ${apply}`
            assert.include(log, "claim 123412", what)
            if (claim === "Claimed") {
              assert.include(log, "apply StreamCreated", what)
              if (apply === "succeeds") {
                assert.deepStrictEqual(exit, Exit.succeed("applied"), what)
                assert.include(log, "commit 123412 t1", what)
                assert.notInclude(log, "release 123412 t1", what)
              } else {
                assert.isTrue(Exit.isFailure(exit), what)
                if (Exit.isFailure(exit)) {
                  assert.strictEqual(apply === "dies", Cause.isDie(exit.cause), what)
                  if (apply === "fails") {
                    assert.deepStrictEqual(Cause.failureOption(exit.cause), Option.some({ _tag: "StoreDown" }))
                  }
                }
                assert.include(log, "release 123412 t1", what)
                assert.notInclude(log, "commit 123412 t1", what)
              }
            } else {
              // Not this delivery's: the claim decides the answer, whatever the apply did; nothing is settled.
              const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
              const expected = claim === "Applied" ? "CallbackReplayError" : "CallbackUnavailableError"
              assert.strictEqual(Option.isSome(error) && (error.value as { _tag: string })._tag, expected, what)
              assert.isFalse(Exit.isFailure(exit) && Cause.isDie(exit.cause), what)
              assert.isFalse(log.some((line) => line.startsWith("commit") || line.startsWith("release")), what)
            }
          }
        }
      }).pipe(at))

    it.effect("the claim and the apply are in flight together: each waits for the other to start", () =>
      Effect.gen(function*() {
        const claimStarted = yield* Deferred.make<void>()
        const applyStarted = yield* Deferred.make<void>()
        const log: Array<string> = []
        const store = scriptedStore("Claimed", log)
        const nonces: CallbackNonceStore.NonceStore = {
          ...store,
          claim: (nonce, expiresAt) =>
            Deferred.succeed(claimStarted, undefined).pipe(
              Effect.zipRight(Deferred.await(applyStarted)),
              Effect.zipRight(store.claim(nonce, expiresAt))
            )
        }
        const r = yield* receiver({ nonces })
        const apply = () =>
          Deferred.succeed(applyStarted, undefined).pipe(Effect.zipRight(Deferred.await(claimStarted)), Effect.as(1))
        const fiber = yield* Effect.fork(r.receiveAndApply({ body: json(createFields()) }, apply))
        // One after the other, each would wait for the other forever.
        const exit = yield* TestServices.provideLive(Effect.timeout(Fiber.await(fiber), "10 seconds"))
        assert.deepStrictEqual(exit, Exit.succeed(1))
        assert.deepStrictEqual(log, ["claim 123412", "commit 123412 t1"])
      }).pipe(at))

    it.effect("a replay, a pending delivery or a store down does not wait for its apply, which is stopped", () =>
      Effect.gen(function*() {
        for (const claim of ["Applied", "Pending", "down"] as const) {
          const log: Array<string> = []
          const r = yield* receiver({ nonces: scriptedStore(claim, log) })
          let running = 0
          const apply = () =>
            Effect.suspend(() => {
              running++
              return Effect.ensuring(Effect.never, Effect.sync(() => running--))
            })
          const error = yield* failure(r.receiveAndApply({ body: json(createFields()) }, apply))
          assert.strictEqual(error._tag, claim === "Applied" ? "CallbackReplayError" : "CallbackUnavailableError")
          // An apply left running would have started by now, and never end.
          for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
          assert.strictEqual(running, 0, claim)
        }
      }).pipe(at))

    it.effect("interrupted while applying: the claim is released", () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const r = yield* receiver({ nonces: scriptedStore("Claimed", log) })
        const started = yield* Deferred.make<void>()
        const apply = () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never)
        const fiber = yield* Effect.fork(r.receiveAndApply({ body: json(createFields()) }, apply))
        yield* Deferred.await(started)
        yield* Fiber.interrupt(fiber)
        assert.deepStrictEqual(log, ["claim 123412", "release 123412 t1"])
      }).pipe(at))

    it.effect("an unsigned, stale or undecodable callback asks no store and applies nothing", () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const r = yield* receiver({ nonces: scriptedStore("Claimed", log) })
        const bodies = [
          json({ ...createFields(), signature: "0".repeat(40) }),
          json(createFields({ stream_seq: "12x" })),
          "{not json"
        ]
        for (const body of bodies) {
          yield* failure(r.receiveAndApply({ body }, applying("succeeds", log)))
        }
        const stale = yield* failure(
          at(r.receiveAndApply({ body: json(createFields()) }, applying("succeeds", log)), T + 3600)
        )
        assert.strictEqual(stale._tag, "CallbackExpiredError")
        assert.deepStrictEqual(log, [])
      }).pipe(at))
  })

  describe("receiveAndApply: the nonce settled after the apply", () => {
    type Settling = CallbackNonceStore.Settled | "down"

    /** A nonce store whose `settleApplied` answers `outcome`, recording what is asked of it. */
    const settlingStore = (outcome: Settling, log: Array<string>): CallbackNonceStore.NonceStore => ({
      claim: (nonce) => Effect.sync(() => (log.push(`claim ${nonce}`), { _tag: "Claimed", token: "t1" })),
      commit: (nonce) => Effect.sync(() => void log.push(`commit ${nonce}`)),
      release: (nonce) => Effect.sync(() => void log.push(`release ${nonce}`)),
      settleApplied: (nonce) =>
        Effect.suspend(() => {
          log.push(`settle ${nonce}`)
          return outcome === "down"
            ? Effect.fail(new CallbackError.CallbackUnavailableError({ reason: "the store is down" }))
            : Effect.succeed(outcome)
        })
    })

    it.effect("applied first, then settled: the apply's value when first, a replay (2xx) or a 503 otherwise", () =>
      Effect.gen(function*() {
        for (const outcome of ["first", "replay", "down"] as const) {
          const log: Array<string> = []
          const r = yield* receiver({ nonces: settlingStore(outcome, log) })
          const apply = (event: Callback.Event, delivery?: CallbackNonceStore.Delivery) =>
            Effect.sync(() => {
              log.push(`apply ${event._tag} ${delivery?.nonce}`)
              return "applied"
            })
          const exit = yield* Effect.exit(r.receiveAndApply({ body: json(createFields()) }, apply))
          assert.deepStrictEqual(log, ["apply StreamCreated 123412", "settle 123412"], outcome)
          const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
          if (outcome === "first") assert.deepStrictEqual(exit, Exit.succeed("applied"))
          else {
            const expected = outcome === "replay" ? "CallbackReplayError" : "CallbackUnavailableError"
            assert.strictEqual(Option.isSome(error) && (error.value as { _tag: string })._tag, expected, outcome)
          }
        }
      }).pipe(at))

    it.effect("a delivery the apply's store settled within its write is not settled again", () =>
      Effect.gen(function*() {
        for (const settled of ["first", "replay"] as const) {
          const log: Array<string> = []
          const nonces = settlingStore("down", log)
          const r = yield* receiver({ nonces })
          const apply = (_: Callback.Event, delivery?: CallbackNonceStore.Delivery) =>
            Effect.sync(() => {
              assert.strictEqual(delivery?.store, nonces)
              assert.strictEqual(delivery?.expiresAt, (T + 300) * 1000)
              if (delivery !== undefined) delivery.settled = settled
              return 7
            })
          const exit = yield* Effect.exit(r.receiveAndApply({ body: json(createFields()) }, apply))
          if (settled === "first") assert.deepStrictEqual(exit, Exit.succeed(7))
          else {
            const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
            assert.strictEqual(Option.isSome(error) && error.value._tag, "CallbackReplayError")
          }
          assert.deepStrictEqual(log, [])
        }
      }).pipe(at))

    it.effect("an apply that fails, dies or is interrupted takes no nonce: its failure, and nothing to give back", () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const r = yield* receiver({ nonces: settlingStore("first", log) })
        const failed = yield* Effect.exit(
          r.receiveAndApply({ body: json(createFields()) }, () => Effect.fail({ _tag: "StoreDown" } as const))
        )
        assert.deepStrictEqual(
          Exit.isFailure(failed) && Cause.failureOption(failed.cause),
          Option.some({ _tag: "StoreDown" } as const)
        )
        const died = yield* Effect.exit(r.receiveAndApply({ body: json(createFields()) }, () => Effect.die("a bug")))
        assert.isTrue(Exit.isFailure(died) && Cause.isDie(died.cause))
        const started = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          r.receiveAndApply(
            { body: json(createFields()) },
            () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never)
          )
        )
        yield* Deferred.await(started)
        yield* Fiber.interrupt(fiber)
        assert.deepStrictEqual(log, [])
      }).pipe(at))

    it.effect("with the in-memory store: a delivery while another is applying applies too; a failed apply lets the retry in", () =>
      Effect.gen(function*() {
        const r = yield* receiver()
        const body = { body: json(createFields()) }
        assert.strictEqual(yield* failure(r.receiveAndApply(body, () => Effect.fail("down" as const))), "down")
        assert.strictEqual(yield* r.receiveAndApply(body, () => Effect.succeed(1)), 1)
        assert.strictEqual(
          (yield* failure(r.receiveAndApply(body, () => Effect.succeed(2))))._tag,
          "CallbackReplayError"
        )
        // The two-step path sees the same nonce applied.
        assert.strictEqual((yield* failure(r.receive(body)))._tag, "CallbackReplayError")
      }).pipe(at))
  })

  describe("hostile bodies", () => {
    it.effect("3 000-deep JSON is a decode error, at the top and inside a field", () =>
      Effect.gen(function*() {
        yield* decodeFailure("[".repeat(3000) + "]".repeat(3000))
        yield* decodeFailure(`{"a":${"{\"a\":".repeat(3000)}1${"}".repeat(3000)}}`)
        yield* decodeFailure(`{"a":${"[".repeat(100_000)}`)
        yield* decodeFailure(encodeURIComponent(`{"a":${"[".repeat(3000)}1${"]".repeat(3000)}}`))
      }))

    it.effect("a body over the cap is refused, as a string or as bytes", () =>
      Effect.gen(function*() {
        const big = json(createFields({ padding: "x".repeat(1024 * 1024) }))
        const error = yield* decodeFailure(big)
        assert.include(error.message, "larger than")
        yield* decodeFailure(new TextEncoder().encode(big))
        // Three-byte characters count as three bytes.
        yield* decodeFailure(json(createFields({ extra_info: "€".repeat(30_000) })))
        const r = yield* receiver({ maxBodyBytes: 2 * 1024 * 1024 })
        assert.strictEqual((yield* r.receive({ body: big }))._tag, "StreamCreated")
      }).pipe(at))

    it.effect("invalid UTF-8 is refused", () =>
      Effect.gen(function*() {
        const bytes = new TextEncoder().encode(json(createFields()))
        const broken = new Uint8Array([...bytes.slice(0, 20), 0xff, 0xfe, ...bytes.slice(20)])
        const error = yield* decodeFailure(broken)
        assert.include(error.message, "UTF-8")
        yield* decodeFailure(new Uint8Array([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d]))
      }))

    it.effect("duplicate keys are refused (JSON), and two values for one field are not one value (form)", () =>
      Effect.gen(function*() {
        const body = json(createFields())
        yield* decodeFailure(`${body.slice(0, -1)},"stream_id":"other"}`)
        yield* decodeFailure(`${body.slice(0, -1)},"rtmp_url[]":["x"]}`)
        const error = yield* decodeFailure(`${form(createFields())}&stream_id=other`)
        assert.include(error.message, "stream_id")
      }))

    it.effect.prop(
      "no error quotes a key or a value of the body, whatever it holds",
      [FastCheck.string({ minLength: 1, maxLength: 24 })],
      ([text]) =>
        Effect.gen(function*() {
          const marker = `ZZ${text}ZZ`
          const key = JSON.stringify(marker)
          const r = yield* receiver()
          const bodies = [
            // The same name with and without [], the same key twice, a body cut off after the key.
            `{${key}:"1",${JSON.stringify(`${marker}[]`)}:"2"}`,
            `{${key}:1,${key}:2}`,
            `{${key}:${key},`,
            encodeURIComponent(`{"a":1,${key}:"1",${JSON.stringify(`${marker}[]`)}:"2"}`),
            // Signed bodies with a malformed field.
            json(createFields({ nonce: "m1", stream_seq: marker })),
            json(createFields({ nonce: "m2", stream_id: `${marker}\u0007` })),
            json(createFields({ nonce: "m3", appid: marker })),
            form(createFields({ nonce: "m4", stream_id: [marker, marker] })),
            // Unsigned, with the marker as keys and values.
            form({ [marker]: marker, event: marker }),
            json({ [marker]: [marker], event: marker, timestamp: marker, nonce: marker, signature: marker })
          ]
          for (const body of bodies) {
            const error = yield* failure(r.receive({ body }))
            for (const shown of [String(error), JSON.stringify(error), error.message]) {
              assert.notInclude(shown, marker, `${error._tag} for ${body.slice(0, 80)}`)
            }
          }
        }).pipe(at)
    )

    it.effect("__proto__ is an ordinary key: nothing is polluted", () =>
      Effect.gen(function*() {
        const body = `${json(signed({ event: "x", appid: "1", timestamp: String(T), nonce: "7" })).slice(0, -1)},` +
          `"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}`
        const event = yield* receive(body)
        assert.strictEqual(event._tag, "UnknownEvent")
        if (event._tag === "UnknownEvent") assert.strictEqual(event.fields.__proto__, "{\"polluted\":\"yes\"}")
        const fromForm = yield* CallbackReceiver.parse({ body: "__proto__=x&__proto__[]=y&toString=z" })
        assert.deepStrictEqual(fromForm.__proto__, ["x", "y"])
        assert.isUndefined(({} as Record<string, unknown>).polluted)
        assert.isUndefined((Object.prototype as unknown as Record<string, unknown>).polluted)
        yield* decodeFailure(json(createFields({ ["__proto__"]: "x", stream_seq: "x" })))
      }))

    it.effect("numbers that are not digits are refused, naming the field", () =>
      Effect.gen(function*() {
        for (
          const [field, value] of [
            ["appid", "12a"],
            ["appid", "-1"],
            ["appid", "4294967296"],
            ["appid", "9".repeat(10_000)],
            ["stream_seq", "1e3"],
            ["stream_seq", "9".repeat(21)],
            ["room_session_id", "0x10"],
            ["room_session_id", " 1"],
            ["create_time_ms", "1.5"],
            ["create_time_ms", "9".repeat(16)],
            ["recreate", "yes"]
          ]
        ) {
          const error = yield* decodeFailure(json(createFields({ [field!]: value! })))
          assert.include(error.message, field!)
        }
        const appid = yield* decodeFailure(
          `${json(createFields({ appid: "x" })).replace("\"appid\":\"x\"", "\"appid\":1e3")}`
        )
        assert.include(appid.message, "appid")
        yield* decodeFailure(json(closeFields({ destroy_timemillis: "soon" })))
      }))

    it.effect("malformed JSON and stray text are decode errors", () =>
      Effect.gen(function*() {
        for (
          const body of [
            "",
            "   ",
            "{",
            "{\"a\":01}",
            "{\"a\":1,}",
            "{\"a\":'x'}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
            "{\"a\":-}",
            "{\"a\":NaN}",
            "{\"a\":1} x",
            "[1]",
            "\"text\"",
            "%7B%ZZ",
            "no form here"
          ]
        ) {
          yield* decodeFailure(body)
        }
      }))

    it.effect("control and bidi characters are refused in identifiers and raw in JSON strings", () =>
      Effect.gen(function*() {
        yield* decodeFailure(json(createFields({ stream_id: "a\u0000b" })))
        yield* decodeFailure(json(createFields({ stream_id: "a\u001b[31mb" })))
        yield* decodeFailure(json(createFields({ room_id: "a\u202eb" })))
        yield* decodeFailure(json(createFields({ nonce: "1\n2" })))
        yield* decodeFailure(json(createFields({ stream_id: "\ud800" })))
        yield* decodeFailure(json(createFields()).replace("\"s1\"", "\"s\u0001\""))
        yield* decodeFailure(form(createFields({ stream_id: "a\rb" })))
      }))

    it.effect("too many fields or values are refused", () =>
      Effect.gen(function*() {
        const many = Object.fromEntries(Array.from({ length: Callback.MAX_FIELDS + 1 }, (_, i) => [`f${i}`, "1"]))
        yield* decodeFailure(json({ ...createFields(), ...many }))
        yield* decodeFailure(form({ ...createFields(), ...many }))
        yield* decodeFailure(json(createFields({ rtmp_url: Array.from({ length: Callback.MAX_VALUES }, () => "u") })))
        yield* decodeFailure(`a=1${"&a=1".repeat(Callback.MAX_VALUES)}`)
      }))

    it.effect("an incoming whose body is neither a string nor bytes is a decode error, not a defect", () =>
      Effect.gen(function*() {
        yield* decodeFailure(42 as unknown as string)
        const throwing = {
          get body(): string {
            throw new Error("boom")
          }
        }
        const error = yield* failure(CallbackReceiver.parse(throwing))
        assert.strictEqual(error._tag, "CallbackDecodeError")
      }))

    const sentinel = "SENTINEL-body-text"
    it.effect.prop(
      "no error carries the secret, the signature or the body",
      [FastCheck.stringMatching(/^[a-f0-9]{32}$/)],
      ([secretText]) =>
        Effect.gen(function*() {
          const key = Redacted.make(secretText)
          const r = yield* Effect.orDie(CallbackReceiver.makeReceiver({ secret: key }))
          const good = createFields({ user_name: sentinel, extra_info: sentinel })
          const goodSigned = signed(good, key)
          const full = yield* Effect.orDie(CallbackNonceStore.memoryNonceStore({ capacity: 1 }))
          yield* full.claim("other", (T + 300) * 1000)
          const fullReceiver = yield* Effect.orDie(CallbackReceiver.makeReceiver({ secret: key, nonces: full }))
          yield* r.commit(yield* r.receive({ body: json(goodSigned) }))
          const errors = [
            yield* failure(r.receive({ body: json(good) })),
            yield* failure(r.receive({ body: json(goodSigned) })),
            yield* failure(r.receive({ body: json(signed({ ...good, nonce: "1", stream_seq: sentinel }, key)) })),
            yield* failure(r.receive({ body: `{"x":"${sentinel}` })),
            yield* failure(fullReceiver.receive({ body: json(signed({ ...good, nonce: "2" }, key)) })),
            yield* failure(Effect.zipRight(TestClock.adjust("1 hour"), r.receive({ body: json(goodSigned) })))
          ]
          assert.deepStrictEqual(errors.map((e) => e._tag), [
            "CallbackSignatureError",
            "CallbackReplayError",
            "CallbackDecodeError",
            "CallbackDecodeError",
            "CallbackUnavailableError",
            "CallbackExpiredError"
          ])
          const signature = goodSigned.signature as string
          for (const error of errors) {
            for (const text of [String(error), JSON.stringify(error), error.message]) {
              assert.notInclude(text, secretText)
              assert.notInclude(text, signature)
              assert.notInclude(text, sentinel)
            }
          }
        }).pipe(at),
      { fastCheck: { numRuns: 20 } }
    )
  })

  describe("memoryNonceStore", () => {
    /** Claims and commits `nonce`: its tag, `Claimed` when it was new. */
    const apply = (store: CallbackNonceStore.NonceStore, nonce: string, expiresAt: number) =>
      Effect.map(
        Effect.tap(store.claim(nonce, expiresAt), (claim) =>
          claim._tag === "Claimed" ? store.commit(nonce, claim.token, expiresAt) : Effect.void),
        (claim) =>
          claim._tag
      )

    it.effect("refuses when full of live nonces, never evicting one, and sweeps expired ones", () =>
      Effect.gen(function*() {
        const store = yield* CallbackNonceStore.memoryNonceStore({ capacity: 2 })
        // The first applied expires last: the front sweep stops at it, the full pass does not.
        assert.strictEqual(yield* apply(store, "a", 10_000), "Claimed")
        assert.strictEqual(yield* apply(store, "b", 1_000), "Claimed")
        const full = yield* failure(store.claim("c", 10_000))
        assert.strictEqual(full._tag, "CallbackUnavailableError")
        assert.include(full.message, "ZEGOCLOUD will retry")
        assert.strictEqual(yield* apply(store, "a", 10_000), "Applied")
        assert.strictEqual(yield* apply(store, "b", 1_000), "Applied")
        yield* TestClock.setTime(1_001)
        assert.strictEqual(yield* apply(store, "c", 20_000), "Claimed")
        // `a` is live until 10 000: still full.
        assert.strictEqual((yield* failure(store.claim("b", 20_000)))._tag, "CallbackUnavailableError")
        yield* TestClock.setTime(10_001)
        const claim = yield* store.claim("a", 30_000)
        assert.strictEqual(claim._tag, "Claimed")
        if (claim._tag === "Claimed") yield* store.release("a", claim.token)
        assert.strictEqual(yield* apply(store, "a", 30_000), "Claimed")
        // Already expired: accepted and not kept (freshness refuses its replays).
        assert.strictEqual(yield* apply(store, "old", 5), "Claimed")
        assert.strictEqual(yield* apply(store, "old", 5), "Claimed")
      }))

    it.effect("settleApplied: first once, a replay after; over a claim another delivery holds; full; past its window", () =>
      Effect.gen(function*() {
        const store = yield* CallbackNonceStore.memoryNonceStore({ capacity: 2 })
        const settle = store.settleApplied!
        assert.strictEqual(yield* settle("a", 10_000), "first")
        assert.strictEqual(yield* settle("a", 10_000), "replay")
        assert.strictEqual((yield* store.claim("a", 10_000))._tag, "Applied")
        // Another delivery holds a claim on `b`: this one applied it, so it is committed (in the claim's place); the
        // holder's settling changes nothing.
        const held = yield* store.claim("b", 10_000)
        assert.strictEqual(held._tag, "Claimed")
        assert.strictEqual(yield* settle("b", 10_000), "first")
        if (held._tag === "Claimed") yield* store.release("b", held.token)
        assert.strictEqual((yield* store.claim("b", 10_000))._tag, "Applied")
        // Full of live nonces: refused (503), none forgotten.
        assert.strictEqual((yield* failure(settle("c", 10_000)))._tag, "CallbackUnavailableError")
        // Already past its window: accepted and not kept.
        yield* TestClock.setTime(5_000)
        assert.strictEqual(yield* settle("old", 4_000), "first")
        assert.strictEqual(yield* settle("old", 4_000), "first")
        // Expired ones make room.
        yield* TestClock.setTime(10_001)
        assert.strictEqual(yield* settle("c", 20_000), "first")
        assert.strictEqual(yield* settle("a", 20_000), "first")
      }))

    it.effect("pending claims count toward the capacity, and lapse after the pending timeout", () =>
      Effect.gen(function*() {
        const store = yield* CallbackNonceStore.memoryNonceStore({ capacity: 2, pendingTimeout: "1 second" })
        const a = yield* store.claim("a", 60_000)
        yield* store.claim("b", 60_000)
        assert.strictEqual((yield* failure(store.claim("c", 60_000)))._tag, "CallbackUnavailableError")
        assert.strictEqual((yield* store.claim("a", 60_000))._tag, "Pending")
        yield* TestClock.setTime(1_001)
        // Both lapsed: `a` may be claimed anew, and the stale first claim's release leaves the new one alone.
        const again = yield* store.claim("a", 60_000)
        assert.strictEqual(again._tag, "Claimed")
        if (a._tag === "Claimed") yield* store.release("a", a.token)
        assert.strictEqual((yield* store.claim("a", 60_000))._tag, "Pending")
        assert.strictEqual((yield* store.claim("c", 60_000))._tag, "Claimed")
      }))

    it.effect.prop(
      "a store sized for a rate takes that many callbacks a second for as long as it runs, and refuses past it",
      [FastCheck.integer({ min: 1, max: 40 }), FastCheck.integer({ min: 1, max: 20 })],
      ([rate, windowSeconds]) =>
        Effect.gen(function*() {
          const store = yield* CallbackNonceStore.memoryNonceStore({ rate, window: Duration.seconds(windowSeconds) })
          // Each second, `rate` callbacks stamped with that second, each applied; for three windows.
          const expiry = (second: number) => (second + windowSeconds) * 1000
          for (let second = 0; second < 3 * windowSeconds; second++) {
            yield* TestClock.setTime(second * 1000)
            for (let i = 0; i < rate; i++) {
              const claim = yield* store.claim(`${second}-${i}`, expiry(second))
              assert.strictEqual(claim._tag, "Claimed")
              if (claim._tag === "Claimed") yield* store.commit(`${second}-${i}`, claim.token, expiry(second))
            }
          }
          // One more within the same second: refused (503) rather than a live nonce forgotten.
          const over = yield* Effect.either(store.claim("one-too-many", expiry(3 * windowSeconds)))
          assert.isTrue(Either.isLeft(over))
        }),
      { fastCheck: { numRuns: runs(15) } }
    )

    it("the default capacity is DEFAULT_CALLBACK_RATE over the default window and its last second", () => {
      const seconds = Duration.toSeconds(CallbackReceiver.DEFAULT_WINDOW) + 1
      assert.strictEqual(CallbackNonceStore.DEFAULT_NONCE_CAPACITY, CallbackNonceStore.DEFAULT_CALLBACK_RATE * seconds)
    })

    it.effect("rate, window, capacity and pendingTimeout are checked", () =>
      Effect.gen(function*() {
        for (
          const options of [
            { rate: 0 },
            { rate: Number.NaN },
            { rate: "fast" },
            { window: "2 hours" },
            { capacity: 1.5 },
            { pendingTimeout: "soon" }
          ]
        ) {
          const error = yield* failure(
            CallbackNonceStore.memoryNonceStore(options as CallbackNonceStore.MemoryNonceStoreOptions)
          )
          assert.strictEqual(error._tag, "InvalidRequestError")
        }
      }))

    it.effect("a receiver whose nonce store is full answers CallbackUnavailableError", () =>
      Effect.gen(function*() {
        const nonces = yield* CallbackNonceStore.memoryNonceStore({ capacity: 1 })
        const r = yield* receiver({ nonces })
        yield* r.receive({ body: json(createFields()) })
        // Sent at the far edge of the window, so that it is still fresh once the first nonce has expired.
        const later = json(createFields({ nonce: "2", timestamp: String(T + 300) }))
        const error = yield* failure(r.receive({ body: later }))
        assert.strictEqual(error._tag, "CallbackUnavailableError")
        yield* TestClock.adjust(300_001)
        assert.strictEqual((yield* r.receive({ body: later }))._tag, "StreamCreated")
      }).pipe(at))

    it.effect("stays bounded under many nonces over time (front sweep)", () =>
      Effect.gen(function*() {
        const store = yield* CallbackNonceStore.memoryNonceStore({ capacity: 1000 })
        // 10 nonces every 100 ms, each kept 5 s: about 500 live at any time, 5 000 in all.
        for (let i = 0; i < 5_000; i++) {
          const now = Math.floor(i / 10) * 100
          if (i % 10 === 0) yield* TestClock.setTime(now)
          assert.strictEqual(yield* apply(store, String(i), now + 5_000), "Claimed")
        }
      }))
  })

  describe("observability", () => {
    it.effect("receive is a server span naming the event's kind or the error's tag, and nothing of the body", () => {
      const { layer: tracing, spans } = recordSpans()
      return Effect.gen(function*() {
        const r = yield* receiver()
        yield* r.commit(yield* r.receive({ body: json(createFields()) }))
        yield* Effect.exit(r.receive({ body: json(createFields()) }))
        const received = spans.filter((span) => span.name === "Callback.receive")
        assert.strictEqual(received.length, 2)
        assert.strictEqual(received[0]!.kind, "server")
        assert.deepStrictEqual(Object.fromEntries(received[0]!.attributes), { "zego.callback.event": "StreamCreated" })
        assert.strictEqual(received[1]!.attributes.get("zego.callback.error"), "CallbackReplayError")
        for (const span of received) {
          for (const value of span.attributes.values()) assert.notInclude(String(value), "123412")
        }
      }).pipe(at, Effect.provide(tracing))
    })

    /** A nonce store that remembers the span current at each claim (its name, or none). */
    const spanWitness = () => {
      const seen: Array<string | undefined> = []
      const store: CallbackNonceStore.NonceStore = {
        claim: () =>
          Effect.map(Effect.option(Effect.currentSpan), (span) => {
            seen.push(Option.isSome(span) ? span.value.name : undefined)
            return { _tag: "Claimed", token: "t" } as const
          }),
        commit: () => Effect.void,
        release: () => Effect.void
      }
      return { seen, store }
    }

    it.effect("under Effect's built-in tracer (spans that go nowhere) receive makes no span", () =>
      Effect.gen(function*() {
        const { seen, store } = spanWitness()
        const r = yield* receiver({ nonces: store })
        yield* r.receive({ body: json(createFields()) })
        assert.deepStrictEqual(seen, [undefined])
      }).pipe(at))

    it.effect("under a tracer that records, the store's work runs inside the receive span", () => {
      const { layer: tracing, spans } = recordSpans()
      return Effect.gen(function*() {
        const { seen, store } = spanWitness()
        const r = yield* receiver({ nonces: store })
        yield* r.receive({ body: json(createFields()) })
        assert.deepStrictEqual(seen, ["Callback.receive"])
        const received = spans.filter((span) => span.name === "Callback.receive")
        assert.strictEqual(received.length, 1)
        assert.strictEqual(received[0]!.status._tag, "Ended", "ended when receive returned")
      }).pipe(at, Effect.provide(tracing))
    })
  })

  describe("layers", () => {
    it.effect("layer gives the receiver; a CallbackNonceStore service is used when provided", () =>
      Effect.gen(function*() {
        const taken: Array<string> = []
        const store: CallbackNonceStore.NonceStore = {
          claim: (nonce) =>
            Effect.sync(() => taken.push(nonce) === 1 ? { _tag: "Claimed", token: "t" } : { _tag: "Applied" }),
          commit: () => Effect.void,
          release: () => Effect.void
        }
        const r = yield* Effect.provide(
          CallbackReceiver.CallbackReceiver,
          CallbackReceiver.layer({ secret }).pipe(
            Layer.provide(Layer.succeed(CallbackNonceStore.CallbackNonceStore, store))
          )
        )
        yield* r.receive({ body: json(createFields()) })
        assert.strictEqual((yield* failure(r.receive({ body: json(createFields()) })))._tag, "CallbackReplayError")
        assert.deepStrictEqual(taken, ["123412", "123412"])
      }).pipe(at))

    it.effect("layerConfig reads ZEGO_CALLBACK_SECRET and ZEGO_CALLBACK_WINDOW", () =>
      Effect.gen(function*() {
        const provider = ConfigProvider.fromMap(
          new Map([["ZEGO_CALLBACK_SECRET", SECRET_TEXT], ["ZEGO_CALLBACK_WINDOW", "10 seconds"]])
        )
        const r = yield* Effect.provide(
          CallbackReceiver.CallbackReceiver,
          CallbackReceiver.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(provider)))
        )
        yield* TestClock.setTime((T + 20) * 1000)
        assert.strictEqual((yield* failure(r.receive({ body: json(createFields()) })))._tag, "CallbackExpiredError")
        yield* TestClock.setTime((T + 5) * 1000)
        assert.strictEqual((yield* r.receive({ body: json(createFields()) }))._tag, "StreamCreated")
        const missing = yield* failure(
          Effect.provide(
            CallbackReceiver.CallbackReceiver,
            CallbackReceiver.layerConfig().pipe(
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
            )
          )
        )
        assert.strictEqual(missing._tag, "ConfigError")
        assert.notInclude(String(missing), SECRET_TEXT)
      }))
  })
})
