/**
 * @effect-zego/core/testing: a mock `HttpClient` that speaks the ZEGOCLOUD protocol, and stream callbacks built in a
 * line, for your tests.
 *
 * @example
 * ```ts
 * import { RtmpDispatch } from "@effect-zego/core"
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // Your code under test, against the mock: its signatures are checked, its requests recorded.
 * const program = Effect.flatMap(RtmpDispatch.RtmpDispatch, (d) => d.dispatch({ streamId: "s1", type: "push" }))
 * const TestLive = ZegoMock.layerDispatch({ appId: 1234567890, serverSecret: Redacted.make("secret") })
 * Effect.runPromise(program.pipe(Effect.provide(TestLive))).then(({ nodes }) => assert.strictEqual(nodes.length, 1))
 * ```
 *
 * @since 0.1.0
 */
/**
 * A mock `HttpClient` that speaks the ZEGOCLOUD protocol, for tests (ours and our users').
 *
 * @example
 * ```ts
 * import { ZegoMock } from "@effect-zego/core/testing"
 * import * as Redacted from "effect/Redacted"
 *
 * const TestLive = ZegoMock.layerDispatch({ appId: 1234567890, serverSecret: Redacted.make("secret") })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as ZegoMock from "./ZegoMock.js"

/**
 * Stream callbacks (`stream_create`, `stream_close`) as `Callback.decode` gives them, built in a line, for tests of
 * code that takes them.
 *
 * @example
 * ```ts
 * import { CallbackEvents } from "@effect-zego/core/testing"
 *
 * const live = CallbackEvents.streamCreated({ streamId: "obs-1", streamSeq: 1, createdAt: Date.now() })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as CallbackEvents from "./CallbackEvents.js"
