import { Envelope, Params, RtmpNode } from "@effect-zego/core"
import { assert, describe, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { mockLayer, requests, service } from "./utils.js"

const roundTrips = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownSync(schema)
  const encode = Schema.encodeSync(schema)
  FastCheck.assert(
    FastCheck.property(Arbitrary.make(schema), (value) => {
      assert.deepStrictEqual(decode(encode(value)), value)
    }),
    { numRuns: 200 }
  )
}

describe("parameter schemas", () => {
  it("valid values round-trip", () => {
    roundTrips(Params.AppId)
    roundTrips(Params.StreamId)
    roundTrips(Params.DispatchType)
    roundTrips(Params.ClientIp)
    roundTrips(Params.Sequence)
    roundTrips(Params.Region)
    roundTrips(Params.DispatchRequest)
    roundTrips(Envelope.Envelope)
  })

  it("publish is accepted and normalised to push", () => {
    assert.strictEqual(Schema.decodeUnknownSync(Params.DispatchTypeInput)("publish"), "push")
    assert.strictEqual(Schema.encodeSync(Params.DispatchTypeInput)("push"), "push")
  })

  it("an IPv6 client IP is refused with a message that says the server does not support IPv6", () => {
    const result = Schema.decodeUnknownEither(Params.ClientIp)("2001:db8::1")
    assert.isTrue(result._tag === "Left")
    assert.include(String(result._tag === "Left" ? result.left.message : ""), "does not support IPv6")
  })

  const rtmpUrl = FastCheck.record({
    host: FastCheck.oneof(FastCheck.ipV4(), FastCheck.domain()),
    port: FastCheck.option(FastCheck.integer({ min: 1, max: 65535 }), { nil: undefined }),
    app: FastCheck.stringMatching(/^[A-Za-z0-9_-]{1,20}(\/[A-Za-z0-9_-]{1,10})?$/),
    stream: FastCheck.stringMatching(/^[A-Za-z0-9_-]{1,256}$/)
  })

  it.prop("an RTMP URL parses into host, port, app, stream name and the OBS split", [rtmpUrl], ([parts]) => {
    const url = `rtmp://${parts.host}${parts.port === undefined ? "" : `:${parts.port}`}/${parts.app}/${parts.stream}`
    const node = Schema.decodeUnknownSync(RtmpNode.RtmpNodeFromUrl)(url)
    assert.deepStrictEqual(
      [node.host, node.port, node.app, node.streamName],
      [parts.host, parts.port ?? 1935, parts.app, parts.stream]
    )
    assert.strictEqual(node.obsServer + node.obsStreamKey, url)
    assert.isTrue(node.obsServer.endsWith("/"))
    assert.strictEqual(node.obsStreamKey, parts.stream)
    assert.strictEqual(Schema.encodeSync(RtmpNode.RtmpNodeFromUrl)(node), url)
  })

  it.prop(
    "a host:port address parses and round-trips",
    [FastCheck.ipV4(), FastCheck.integer({ min: 1, max: 65535 })],
    ([host, port]) => {
      const node = Schema.decodeUnknownSync(RtmpNode.NodeAddressFromString)(`${host}:${port}`)
      assert.deepStrictEqual([node.host, node.port], [host, port])
      assert.strictEqual(Schema.encodeSync(RtmpNode.NodeAddressFromString)(node), `${host}:${port}`)
    }
  )
})

const notStreamId = FastCheck.oneof(
  FastCheck.constant(""),
  FastCheck.string({ minLength: 257, maxLength: 400 }),
  FastCheck.fullUnicodeString({ minLength: 1, maxLength: 40 }).filter((s) => !/^[A-Za-z0-9_-]+$/.test(s))
)
const notClientIp = FastCheck.oneof(
  FastCheck.ipV6(),
  FastCheck.string().filter((s) => !/^\d{1,3}(\.\d{1,3}){3}$/.test(s)),
  FastCheck.tuple(FastCheck.integer({ min: 256, max: 999 }), FastCheck.ipV4()).map(([n, ip]) =>
    `${n}.${ip.slice(ip.indexOf(".") + 1)}`
  )
)
const notType = FastCheck.string().filter((s) => !["push", "pull", "publish"].includes(s))
const notSequence = FastCheck.oneof(
  FastCheck.integer({ max: -1 }),
  FastCheck.double().filter((n) => !Number.isSafeInteger(n)),
  FastCheck.bigInt({ min: 2n ** 63n, max: 2n ** 70n }),
  FastCheck.bigInt({ max: -1n })
)

describe("invalid input", () => {
  const refused = (request: unknown, parameter: string) =>
    Effect.gen(function*() {
      const dispatch = yield* service
      const errors = [
        yield* Effect.flip(dispatch.dispatch(request as Params.DispatchRequest)),
        yield* Effect.flip(dispatch.dispatchAddresses(request as Params.DispatchRequest))
      ]
      for (const error of errors) {
        assert.strictEqual(error._tag, "InvalidRequestError")
        assert.strictEqual((error as { parameter?: string }).parameter, parameter)
        assert.include(error.message, "nothing was sent")
      }
      assert.lengthOf(yield* requests, 0)
    }).pipe(Effect.provide(mockLayer()))

  it.effect.prop(
    "a bad stream id gives InvalidRequestError and sends nothing",
    [notStreamId],
    ([streamId]) => refused({ streamId, type: "push" }, "streamId"),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect.prop(
    "a bad client IP gives InvalidRequestError and sends nothing",
    [notClientIp],
    ([clientIp]) => refused({ streamId: "s", type: "pull", clientIp }, "clientIp"),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect.prop(
    "a bad type gives InvalidRequestError and sends nothing",
    [notType],
    ([type]) => refused({ streamId: "s", type }, "type"),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect.prop(
    "a bad sequence gives InvalidRequestError and sends nothing",
    [notSequence],
    ([sequence]) => refused({ streamId: "s", type: "push", sequence }, "sequence"),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect("an unknown field or a missing one gives InvalidRequestError and sends nothing", () =>
    Effect.gen(function*() {
      yield* refused({ streamId: "s", type: "push", streamID: "typo" }, "streamID")
      yield* refused({ type: "push" }, "streamId")
      yield* refused(null, "request")
      yield* refused({ streamId: null, type: "push" }, "streamId")
      yield* refused({ streamId: 42, type: "push" }, "streamId")
      yield* refused({ streamId: "s", type: "push", clientIp: null }, "clientIp")
    }))
})

describe("Params.maskCdnUrl", () => {
  const target = FastCheck.record({
    scheme: FastCheck.constantFrom("rtmp", "rtmps"),
    host: FastCheck.oneof(FastCheck.ipV4(), FastCheck.domain()),
    port: FastCheck.option(FastCheck.integer({ min: 1, max: 65535 }), { nil: undefined }),
    app: FastCheck.stringMatching(/^[A-Za-z0-9_-]{1,20}(\/[A-Za-z0-9_-]{1,10})?$/),
    key: FastCheck.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    query: FastCheck.option(FastCheck.stringMatching(/^[a-z]{1,8}=[A-Za-z0-9]{1,16}$/), { nil: undefined })
  })

  it.prop("keeps the scheme, host, port and app; the key is ****, and its last 4 only from 16 up", [target], ([t]) => {
    const authority = new URL(`${t.scheme}://${t.host}${t.port === undefined ? "" : `:${t.port}`}/`).host
    const url = `${t.scheme}://${t.host}${t.port === undefined ? "" : `:${t.port}`}/${t.app}/${t.key}` +
      (t.query === undefined ? "" : `?${t.query}`)
    assert.isTrue(Schema.is(Params.CdnUrl)(url))
    const tail = t.key.length >= 16 ? t.key.slice(-4) : ""
    assert.strictEqual(
      Params.maskCdnUrl(url),
      `${t.scheme}://${authority}/${t.app}/****${tail}${t.query === undefined ? "" : "?****"}`
    )
  })

  it("user info and a fragment are masked; a text that is not a URL is masked whole", () => {
    assert.strictEqual(
      Params.maskCdnUrl("rtmp://user:pass@cdn.example.com/app/k#frag"),
      "rtmp://****@cdn.example.com/app/****#****"
    )
    assert.strictEqual(Params.maskCdnUrl("not a url, but a secret"), "****")
    assert.strictEqual(Params.maskCdnUrl("rtmp://cdn.example.com"), "rtmp://cdn.example.com")
  })
})
