/**
 * A per-attempt time limit that costs one fiber instead of `Effect.timeoutFail`'s race of two: on the live clock
 * the attempt runs in a child fiber that a timer interrupts. Under another clock (`TestClock`), the timer would
 * not follow that clock, so `Effect.timeoutFail` does the work.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

export const timeoutFail = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  duration: Duration.Duration,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.clockWith((clock) => {
    if (clock !== liveClock) return Effect.timeoutFail(self, { duration, onTimeout })
    return Effect.flatMap(Effect.fork(self), (fiber): Effect.Effect<A, E | E2> => {
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        fiber.unsafeInterruptAsFork(FiberId.none)
      }, Duration.toMillis(duration))
      return Fiber.join(fiber).pipe(
        Effect.onInterrupt(() => Fiber.interrupt(fiber)),
        Effect.ensuring(Effect.sync(() => clearTimeout(timer))),
        Effect.catchAllCause((cause): Effect.Effect<never, E | E2> =>
          timedOut && Cause.isInterruptedOnly(cause) ? Effect.fail(onTimeout()) : Effect.failCause(cause)
        )
      )
    })
  })
