import { RtmpDispatch, StreamTracker } from "@effect-zego/core"
import { ZegoMock } from "@effect-zego/core/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"

/**
 * How many cases a costly property tries: `quick` in the test command, ten times that in `pnpm soak`
 * (`ZEGO_SOAK=1`), which runs the same tests for longer.
 */
export const runs = (quick: number): number => process.env.ZEGO_SOAK === "1" ? quick * 10 : quick

export const APP_ID = 12345
export const SECRET_TEXT = "9193cc662a4c0ec135ec71fb57194b38"
export const SECRET = Redacted.make(SECRET_TEXT)

/** RtmpDispatch over the mock, with the AppId and secret above. */
export const mockLayer = (
  options: Omit<ZegoMock.Options, "appId" | "serverSecret"> & { readonly dispatch?: Partial<RtmpDispatch.Options> } = {}
) => ZegoMock.layerDispatch({ appId: APP_ID, serverSecret: SECRET, ...options })

export const requests = Effect.flatMap(ZegoMock.ZegoMock, (mock) => mock.requests)

export const service = RtmpDispatch.RtmpDispatch

/** Runs an effect that sleeps (back-off, rate limit, timeouts) by moving the TestClock far enough. */
export const withTime = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  time: `${number} ${"millis" | "seconds"}` = "60 seconds"
) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(time)
    return yield* Fiber.join(fiber)
  })

/** A tracer layer that records every span it makes (the native tracer's spans, kept in `spans`). */
export const recordSpans = () => {
  const spans: Array<Tracer.Span> = []
  const layer = Layer.unwrapEffect(Effect.map(Effect.tracer, (native) =>
    Layer.setTracer(Tracer.make({
      span: (...args) => {
        const span = native.span(...args)
        spans.push(span)
        return span
      },
      context: native.context
    }))))
  return { spans, layer }
}

/**
 * The in-memory tracker store, made to fail as a store elsewhere does while `down.value` is true: every call fails
 * with `TrackerUnavailableError` (so nothing is written meanwhile).
 */
export const switchableStore = (capacity = 100) => {
  const store = StreamTracker.memoryStore(capacity)
  const down = { value: false }
  const unavailable = new StreamTracker.TrackerUnavailableError({ reason: "the test's store is down" })
  const guard = <A>(effect: Effect.Effect<A, StreamTracker.TrackerUnavailableError>) =>
    Effect.suspend(() => (down.value ? Effect.fail(unavailable) : effect))
  const switchable: StreamTracker.Store = {
    get: (streamId) => guard(store.get(streamId)),
    compareAndSet: (streamId, version, next, change) => guard(store.compareAndSet(streamId, version, next, change)),
    live: guard(store.live)
  }
  return { store: switchable, down }
}
