/**
 * Deep JSON: a value nested thousands of levels deep (a few KB, far under the body cap) in a server's answer, a
 * caller's request or the layer's options. Effect's formatters print a failed value recursively and overflowed
 * the stack; every such value must give a typed error whose message quotes at most a short, flat excerpt.
 * Values that fight back (a getter that throws, a Proxy whose traps throw) are typed errors too.
 */
import { RtmpDispatch } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import { NodeRtmpDispatch } from "@effect-zego/node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { figures, held, observe, save } from "./figures.js"
import { query, serve } from "./loopbackServer.js"

const APP_ID = 424242
const SECRET = Redacted.make("3c2b1a09f8e7d6c5b4a39281706f5e4d")
const DEPTH = 3000

afterAll(() => save("deep-json"))

/** `[[[…"x"…]]]` as JSON text, `depth` levels deep. */
const deepArrayJson = (depth: number) => "[".repeat(depth) + "\"x\"" + "]".repeat(depth)
/** `{"a":{"a":…}}` as a value, `depth` levels deep (built without recursion). */
const deepObject = (depth: number): unknown => {
  let value: unknown = "x"
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

/** What a message may quote of a hostile value: one line, short. */
const assertShortAndFlat = (text: string) => {
  assert.isBelow(text.length, 1200, "the message is short")
  for (const c of ["\n", "\r", "\u001b"]) assert.notInclude(text, c, "the message is one line, nothing obeyed")
}

const run = <A, E extends { readonly _tag: string; readonly message: string }, R>(
  effect: Effect.Effect<A, E, R>,
  expected: string
) =>
  Effect.gen(function*() {
    figures.badInputs++
    const result = yield* observe(effect, 20_000)
    assert.strictEqual(result._tag, "Failure", "cause" in result ? result.cause : result._tag)
    if (result._tag !== "Failure") return
    assert.strictEqual(result.error._tag, expected, result.error.message)
    assertShortAndFlat(result.error.message)
    assertShortAndFlat(String(result.error))
  })

describe("deep JSON", () => {
  it.live("a response nesting 3 000 levels deep in any field is a ResponseDecodeError", () =>
    Effect.gen(function*() {
      const deep = deepArrayJson(DEPTH)
      const bodies: Record<string, string> = {
        code: `{"Code":${deep},"Message":"ok","RequestId":"r"}`,
        message: `{"Code":0,"Message":${deep},"RequestId":"r"}`,
        requestId: `{"Code":0,"Message":"ok","RequestId":${deep}}`,
        data: `{"Code":0,"Message":"ok","RequestId":"r","Data":${deep}}`,
        node: `{"Code":0,"Message":"ok","RequestId":"r","Data":[${deep}]}`,
        whole: deep
      }
      const baseUrl = yield* serve((req, res) => {
        const body = bodies[query(req).get("StreamId") ?? ""] ?? "{}"
        res.writeHead(200, { "content-type": "application/json" }).end(body)
      })
      assert.isBelow(bodies.node!.length, 16 * 1024, "far under the body cap")
      const context = yield* Layer.build(
        NodeRtmpDispatch.layerOptions({
          appId: APP_ID,
          serverSecret: SECRET,
          baseUrl,
          retry: Schedule.stop,
          rateLimit: false,
          timeout: "30 seconds"
        })
      )
      const dispatch = Context.get(context, RtmpDispatch.RtmpDispatch)
      for (const field of Object.keys(bodies)) {
        figures.faults++
        figures.requests++
        yield* run(dispatch.dispatch({ streamId: field, type: "pull" }), "ResponseDecodeError")
        yield* run(dispatch.dispatchAddresses({ streamId: field, type: "push" }), "ResponseDecodeError")
      }
      held("deep-json-response")
    }).pipe(Effect.scoped))

  const mock = ZegoMock.layerDispatch({ appId: APP_ID, serverSecret: SECRET, dispatch: { rateLimit: false } })

  it.live("a request nesting 3 000 levels deep in any field is an InvalidRequestError, and sends nothing", () =>
    Effect.gen(function*() {
      const dispatch = yield* RtmpDispatch.RtmpDispatch
      const valid = { streamId: "ok", type: "push" as const, clientIp: "198.51.100.7", sequence: 7 }
      for (const field of ["streamId", "type", "clientIp", "sequence", "extra"]) {
        for (const deep of [JSON.parse(deepArrayJson(DEPTH)), deepObject(DEPTH)]) {
          yield* run(dispatch.dispatch({ ...valid, [field]: deep } as never), "InvalidRequestError")
        }
      }
      yield* run(dispatch.dispatch(deepObject(DEPTH) as never), "InvalidRequestError")
      yield* run(dispatch.dispatch({ ...valid }, { retry: deepObject(DEPTH) as never }), "InvalidRequestError")
      assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 0)
      held("deep-json-request")
    }).pipe(Effect.provide(mock)))

  it.live("layer options nesting 3 000 levels deep in any field are an InvalidRequestError", () =>
    Effect.gen(function*() {
      const valid = { appId: APP_ID, serverSecret: SECRET, baseUrl: "http://127.0.0.1:9" }
      const fields = [
        "appId",
        "serverSecret",
        "region",
        "baseUrl",
        "isTest",
        "retry",
        "timeout",
        "rateLimit",
        "maxResponseBytes",
        "transformClient"
      ]
      const build = (options: unknown) =>
        Effect.scoped(Layer.build(
          RtmpDispatch.layer(options as never).pipe(
            Layer.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET }))
          )
        ))
      for (const field of fields) {
        yield* run(build({ ...valid, [field]: deepObject(DEPTH) }), "InvalidRequestError")
        yield* run(build({ ...valid, [field]: JSON.parse(deepArrayJson(DEPTH)) }), "InvalidRequestError")
      }
      yield* run(
        build({ ...valid, rateLimit: { limit: deepObject(DEPTH), window: "1 second" } }),
        "InvalidRequestError"
      )
      yield* run(build({ ...valid, rateLimit: { limit: 40, window: deepObject(DEPTH) } }), "InvalidRequestError")
      held("deep-json-options")
    }))

  it.live("a getter that throws or a Proxy whose traps throw, in options or a request, is an InvalidRequestError", () =>
    Effect.gen(function*() {
      const thrower = new Proxy({}, {
        get: () => {
          throw new Error("trap")
        },
        ownKeys: () => {
          throw new Error("trap")
        },
        has: () => {
          throw new Error("trap")
        },
        getPrototypeOf: () => {
          throw new Error("trap")
        }
      })
      const withGetter = (base: object, field: string) =>
        Object.defineProperty({ ...base }, field, {
          enumerable: true,
          get: () => {
            throw new Error("getter")
          }
        })
      const valid = { appId: APP_ID, serverSecret: SECRET, baseUrl: "http://127.0.0.1:9" }
      const build = (options: unknown) =>
        Effect.scoped(Layer.build(
          RtmpDispatch.layer(options as never).pipe(
            Layer.provide(ZegoMock.layer({ appId: APP_ID, serverSecret: SECRET }))
          )
        ))
      yield* run(build(thrower), "InvalidRequestError")
      for (const field of ["appId", "serverSecret", "baseUrl", "timeout", "rateLimit", "retry", "isTest"]) {
        yield* run(build(withGetter(valid, field)), "InvalidRequestError")
        yield* run(build({ ...valid, [field]: thrower }), "InvalidRequestError")
      }
      yield* Effect.gen(function*() {
        const dispatch = yield* RtmpDispatch.RtmpDispatch
        const request = { streamId: "ok", type: "push" as const }
        yield* run(dispatch.dispatch(thrower as never), "InvalidRequestError")
        yield* run(dispatch.dispatch(request, thrower as never), "InvalidRequestError")
        for (const field of ["streamId", "type", "clientIp", "sequence"]) {
          yield* run(dispatch.dispatch(withGetter(request, field) as never), "InvalidRequestError")
          yield* run(dispatch.dispatch({ ...request, [field]: thrower } as never), "InvalidRequestError")
        }
        assert.lengthOf(yield* (yield* ZegoMock.ZegoMock).requests, 0)
      }).pipe(Effect.provide(mock))
      held("hostile-getters")
    }))
})
