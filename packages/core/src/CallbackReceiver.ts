/**
 * Receiving ZEGOCLOUD's server callbacks: parse the body, verify it (its signature, a freshness window and replay
 * refusal: the signature covers neither the body nor a time limit), then decode it into an event
 * (`Callback.decode`).
 *
 * A receiver answers by the error: `CallbackDecodeError` 400, `CallbackSignatureError` and `CallbackExpiredError`
 * 401, `CallbackUnavailableError` 503 (ZEGOCLOUD retries: the store is full or down, or an earlier delivery of the
 * callback is still being applied), and `CallbackReplayError` a 2xx (an earlier delivery was applied and
 * committed). A received event is applied, then `commit`ted and answered 2xx; one that could not be applied is
 * `release`d and answered 5xx, so that ZEGOCLOUD's retry is let through.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Tracer from "effect/Tracer"
import { decode, signature } from "./Callback.js"
import type { Event, Fields } from "./Callback.js"
import {
  CallbackExpiredError,
  CallbackReplayError,
  CallbackSignatureError,
  CallbackUnavailableError
} from "./CallbackError.js"
import type { CallbackDecodeError, CallbackError, VerifyError } from "./CallbackError.js"
import { CallbackNonceStore, memoryNonceStore } from "./CallbackNonceStore.js"
import type { Delivery, NonceStore, Settled } from "./CallbackNonceStore.js"
import * as CallbackBody from "./internal/callbackBody.js"
import * as CallbackWindow from "./internal/callbackWindow.js"
import { MAX_DURATION } from "./ServerApi.js"
import { InvalidRequestError } from "./ZegoError.js"

/**
 * The default freshness window.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_WINDOW: Duration.Duration = CallbackWindow.DEFAULT_WINDOW
/**
 * The longest freshness window accepted: a nonce store must keep each nonce that long.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_WINDOW: Duration.Duration = MAX_DURATION

/**
 * The default of {@link ParseOptions.maxBodyBytes}.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_BODY_BYTES: number = CallbackBody.DEFAULT_MAX_BODY_BYTES

/**
 * Options of {@link makeReceiver}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceiverOptions {
  /** The project's callback secret (ZEGOCLOUD console). */
  readonly secret: Redacted.Redacted<string>
  /** How far a `timestamp` may be from this clock, either way. Default 5 minutes. */
  readonly window?: Duration.DurationInput | undefined
  /**
   * Default: a {@link memoryNonceStore} sized for `rate` over the window (or the {@link CallbackNonceStore} service,
   * when provided).
   */
  readonly nonces?: NonceStore | undefined
  /**
   * The sustained callbacks per second the default in-memory nonce store takes: it holds `rate` × (the window's
   * seconds + 1) nonces (301 000 by default, about 35 MB), and answers 503 past that. Default
   * `CallbackNonceStore.DEFAULT_CALLBACK_RATE`. Not used with `nonces` or a provided store.
   */
  readonly rate?: number | undefined
  /** The largest body read, in bytes. Default 64 KiB. */
  readonly maxBodyBytes?: number | undefined
}

/**
 * A callback's body as it arrived.
 *
 * @since 0.1.0
 * @category models
 */
export interface Incoming {
  readonly body: string | Uint8Array
  /** The `Content-Type` header, if any. */
  readonly contentType?: string | undefined
}

/**
 * Receives callbacks: verifies (signature, freshness, nonce), then decodes.
 *
 * @example
 * ```ts
 * import { Callback, CallbackReceiver } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const secret = Redacted.make("callback-secret")
 * const timestamp = String(Math.floor(Date.now() / 1000))
 * const body = JSON.stringify({
 *   event: "room_create",
 *   appid: "1234567890",
 *   timestamp,
 *   nonce: "123412",
 *   signature: Callback.signature(secret, timestamp, "123412")
 * })
 * const program = Effect.gen(function*() {
 *   const receiver: CallbackReceiver.Receiver = yield* CallbackReceiver.makeReceiver({ secret })
 *   const event = yield* receiver.receive({ body, contentType: "application/json" })
 *   // Applied it? Commit, so that its replays are acknowledged. Could not? Release, so that a retry gets through.
 *   yield* receiver.commit(event)
 *   return event
 * })
 * Effect.runPromise(program).then((event) => assert.strictEqual(event._tag, "UnknownEvent"))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Receiver {
  /**
   * Verified and decoded, its nonce claimed for this delivery; fails with the first check that does not hold. A
   * delivery whose nonce another is still applying fails with `CallbackUnavailableError` (503), one whose event
   * was applied with `CallbackReplayError` (2xx). Settle each event with `commit` or `release`; one settled neither
   * way lapses after the nonce store's pending timeout (and ZEGOCLOUD's retry is then received again).
   */
  readonly receive: (incoming: Incoming) => Effect.Effect<Event, CallbackError>
  /**
   * Receives and applies in one: verified and decoded first (a callback that fails either sends nothing to any
   * store), then applied and its nonce settled, so that a receiver whose stores are elsewhere waits for one round trip,
   * not two. `apply` runs before it is known whether this delivery is a replay: it must be idempotent, an event
   * applied again changing nothing (`StreamTracker.apply` is, by its ordering rule). Anything that must run once per
   * event belongs after this answers, not in `apply`.
   *
   * With a nonce store that has `settleApplied` (the in-memory and the Redis ones), `apply(event, delivery)` runs
   * first, then:
   * - `apply` succeeded: the delivery settled, by the store `apply` wrote to within its write (see
   *   `CallbackNonceStore.Delivery`), else by `settleApplied`: `apply`'s value, or `CallbackReplayError` (2xx) when an
   *   earlier delivery had been applied; the nonce store failed: `CallbackUnavailableError` (503, ZEGOCLOUD retries);
   * - `apply` failed or was interrupted: its failure, and no nonce was taken (ZEGOCLOUD's retry gets through).
   *
   * With another nonce store, `apply(event)` runs while the nonce is claimed, both at once. The claim decides:
   * - claimed, and `apply` succeeded: committed (a commit that fails is logged, and the claim lapses), `apply`'s value;
   * - claimed, and `apply` failed or was interrupted: released (ZEGOCLOUD's retry gets through), `apply`'s failure;
   * - applied by an earlier delivery: `CallbackReplayError` (2xx); still being applied by another delivery, or the
   *   nonce store failed: `CallbackUnavailableError` (503) — whatever `apply` did meanwhile.
   */
  readonly receiveAndApply: <A, E, R>(
    incoming: Incoming,
    apply: (event: Event, delivery?: Delivery) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, CallbackError | E, R>
  /** The event was applied: later deliveries of it are replays. Ignores an event this receiver did not return. */
  readonly commit: (event: Event) => Effect.Effect<void, CallbackUnavailableError>
  /** The event could not be applied: gives its nonce back, so that ZEGOCLOUD's retry is let through. */
  readonly release: (event: Event) => Effect.Effect<void>
  /** The largest body `receive` reads: an HTTP server stops reading a body past it. */
  readonly maxBodyBytes: number
}

/**
 * Options of {@link parse}.
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const options: CallbackReceiver.ParseOptions = { maxBodyBytes: 8 * 1024 }
 * const result = Effect.runSync(Effect.either(CallbackReceiver.parse({ body: "x".repeat(10_000) }, options)))
 * assert.strictEqual(result._tag, "Left")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ParseOptions {
  /** The largest body read, in bytes. Default 64 KiB. */
  readonly maxBodyBytes?: number | undefined
}

/**
 * The body's fields, whichever of JSON, URL-encoded JSON or a form it is (see {@link Fields}).
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // Numbers are kept as written: a room_session_id past 2^53 stays whole.
 * const fields = Effect.runSync(CallbackReceiver.parse({ body: `{"room_session_id":858012925204410400}` }))
 * assert.strictEqual(fields.room_session_id, "858012925204410400")
 * ```
 *
 * @since 0.1.0
 * @category receiving
 */
export const parse = (incoming: Incoming, options?: ParseOptions): Effect.Effect<Fields, CallbackDecodeError> =>
  Effect.suspend(() => CallbackBody.parse(incoming, options))

/**
 * A callback whose signature held, whose timestamp was fresh and whose nonce this delivery now holds: settle it
 * with the store's `commit` (applied) or `release` (not applied), passing `token` (and `expiresAt` to `commit`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Verified {
  readonly fields: Fields
  /** Unix seconds. */
  readonly timestamp: number
  readonly nonce: string
  /** This delivery's claim on the nonce. */
  readonly token: string
  /** Until when (epoch ms) the nonce is kept once committed: the timestamp plus the window. */
  readonly expiresAt: number
}

const single = (fields: Fields, name: string): string | undefined => {
  const value = Object.hasOwn(fields, name) ? fields[name] : undefined
  return typeof value === "string" ? value : undefined
}

/** The built-in tracer, whose spans go nowhere: under it a callback makes no span at all. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)
const SPAN_OPTIONS: Tracer.SpanOptions = {
  kind: "server",
  // A stack frame inside this module tells a trace reader nothing, and costs a capture per callback.
  captureStackTrace: false
}

const TIMESTAMP = /^[0-9]{1,12}$/
const MAX_NONCE = 256

/** Compares two strings in time that depends only on their lengths. */
const constantTimeEquals = (a: string, b: string): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

interface ValidVerifyOptions {
  readonly secret: Redacted.Redacted<string>
  readonly windowMillis: number
  readonly nonces: NonceStore
}

const invalid = (parameter: string, detail: string) => new InvalidRequestError({ parameter, detail })

const validateSecret = (secret: unknown): Either.Either<Redacted.Redacted<string>, InvalidRequestError> => {
  if (!Redacted.isRedacted(secret)) {
    return Either.left(invalid("secret", "must be Redacted (Redacted.make or Config.redacted)"))
  }
  const value = Redacted.value(secret)
  return typeof value === "string" && value !== ""
    ? Either.right(secret as Redacted.Redacted<string>)
    : Either.left(invalid("secret", "must be a non-empty string"))
}

const isNonceStore = (u: unknown): u is NonceStore =>
  typeof u === "object" && u !== null && typeof (u as NonceStore).claim === "function" &&
  typeof (u as NonceStore).commit === "function" && typeof (u as NonceStore).release === "function" &&
  ((u as NonceStore).settleApplied === undefined || typeof (u as NonceStore).settleApplied === "function")

/** A callback whose signature held and whose timestamp is fresh: its nonce is not claimed yet. */
type Checked = Omit<Verified, "token">

/** The signature, then the freshness window: no store is asked anything. */
const checkValid = (
  fields: Fields,
  options: ValidVerifyOptions
): Effect.Effect<Checked, CallbackSignatureError | CallbackExpiredError> =>
  Effect.suspend((): Effect.Effect<Checked, CallbackSignatureError | CallbackExpiredError> => {
    const given = single(fields, "signature")
    const timestampText = single(fields, "timestamp")
    const nonce = single(fields, "nonce")
    // A timestamp that is not Unix seconds, or an unusable nonce, leaves nothing to check freshness or replay by.
    if (
      given === undefined || timestampText === undefined || nonce === undefined || !TIMESTAMP.test(timestampText) ||
      nonce === "" || nonce.length > MAX_NONCE
    ) return Effect.fail(new CallbackSignatureError({ reason: "missing" }))
    if (!constantTimeEquals(given.toLowerCase(), signature(options.secret, timestampText, nonce))) {
      return Effect.fail(new CallbackSignatureError({ reason: "mismatch" }))
    }
    const timestamp = Number(timestampText)
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (Math.abs(now - timestamp * 1000) > options.windowMillis) {
        return Effect.fail(
          new CallbackExpiredError({
            timestamp,
            now: Math.floor(now / 1000),
            windowSeconds: options.windowMillis / 1000
          })
        )
      }
      return Effect.succeed({ fields, timestamp, nonce, expiresAt: timestamp * 1000 + options.windowMillis })
    })
  })

const pending = () =>
  new CallbackUnavailableError({ reason: "an earlier delivery of this callback is still being applied" })

/** Claims a checked callback's nonce for this delivery: an applied one is a replay, one being applied a 503. */
const claimChecked = (
  checked: Checked,
  nonces: NonceStore
): Effect.Effect<Verified, CallbackReplayError | CallbackUnavailableError> =>
  Effect.flatMap(nonces.claim(checked.nonce, checked.expiresAt), (claim): Effect.Effect<
    Verified,
    CallbackReplayError | CallbackUnavailableError
  > => {
    switch (claim._tag) {
      case "Claimed":
        return Effect.succeed({ ...checked, token: claim.token })
      case "Applied":
        return Effect.fail(new CallbackReplayError())
      case "Pending":
        return Effect.fail(pending())
    }
  })

const verifyValid = (fields: Fields, options: ValidVerifyOptions): Effect.Effect<Verified, VerifyError> =>
  Effect.flatMap(checkValid(fields, options), (checked) => claimChecked(checked, options.nonces))

/**
 * Verifies a callback's fields: the signature first (so that an unsigned request takes nothing from the nonce
 * store), then the timestamp against the window (Effect's `Clock`), then claims the nonce for this delivery (see
 * `CallbackNonceStore.Claim`: a nonce already applied is `CallbackReplayError`, one still being applied
 * `CallbackUnavailableError`). A `timestamp` that is not Unix-seconds digits, or an empty or over-long `nonce`,
 * counts as missing. Fails with `InvalidRequestError` only for invalid options (a window that is not positive or
 * longer than an hour).
 *
 * @example
 * ```ts
 * import { Callback, CallbackNonceStore, CallbackReceiver } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const secret = Redacted.make("callback-secret")
 * const timestamp = String(Math.floor(Date.now() / 1000))
 * const body = JSON.stringify({
 *   event: "room_create",
 *   appid: "1234567890",
 *   timestamp,
 *   nonce: "123412",
 *   signature: Callback.signature(secret, timestamp, "123412")
 * })
 * const program = Effect.gen(function*() {
 *   const nonces = yield* CallbackNonceStore.memoryNonceStore()
 *   const fields = yield* CallbackReceiver.parse({ body })
 *   const verified = yield* CallbackReceiver.verify(fields, { secret, nonces })
 *   // … its event applied:
 *   yield* nonces.commit(verified.nonce, verified.token, verified.expiresAt)
 *   // The same callback again is a replay.
 *   return yield* Effect.flip(CallbackReceiver.verify(fields, { secret, nonces }))
 * })
 * Effect.runPromise(program).then((error) => assert.strictEqual(error._tag, "CallbackReplayError"))
 * ```
 *
 * @since 0.1.0
 * @category receiving
 */
export const verify = (
  fields: Fields,
  options: ReceiverOptions & { readonly nonces: NonceStore }
): Effect.Effect<Verified, VerifyError | InvalidRequestError> =>
  Effect.suspend(() =>
    Either.all({ secret: validateSecret(options.secret), windowMillis: CallbackWindow.validateWindow(options.window) })
      .pipe(
        Either.flatMap((valid) =>
          isNonceStore(options.nonces)
            ? Either.right({ ...valid, nonces: options.nonces })
            : Either.left(invalid("nonces", "must be a NonceStore (claim, commit and release)"))
        )
      )
  ).pipe(Effect.flatMap((valid) => verifyValid(fields, valid)))

/**
 * A receiver: parse (a body that is not one is 400), verify (401; a full or unreachable nonce store 503), decode (a
 * signed body whose stream fields are malformed is 400, and asks nothing of the nonce store). The nonce store is
 * `options.nonces`, else the {@link CallbackNonceStore} service if provided, else a new {@link memoryNonceStore}.
 * Fails with `InvalidRequestError` when an option is invalid.
 *
 * @example
 * ```ts
 * import { Callback, CallbackReceiver } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const secret = Redacted.make("callback-secret")
 * const timestamp = String(Math.floor(Date.now() / 1000))
 * const body = JSON.stringify({
 *   event: "room_create",
 *   appid: "1234567890",
 *   timestamp,
 *   nonce: "123412",
 *   signature: Callback.signature(secret, timestamp, "123412")
 * })
 * const program = Effect.flatMap(
 *   CallbackReceiver.makeReceiver({ secret, window: "1 minute" }),
 *   (receiver) => receiver.receive({ body })
 * )
 * Effect.runPromise(program).then((event) => assert.strictEqual(event.event, "room_create"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeReceiver = (options: ReceiverOptions): Effect.Effect<Receiver, InvalidRequestError> =>
  Effect.gen(function*() {
    if (typeof options !== "object" || options === null) return yield* invalid("options", "must be an object")
    const secret = yield* validateSecret(options.secret)
    const windowMillis = yield* CallbackWindow.validateWindow(options.window)
    const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
      return yield* invalid("maxBodyBytes", "must be a positive integer")
    }
    if (options.nonces !== undefined && !isNonceStore(options.nonces)) {
      return yield* invalid("nonces", "must be a NonceStore (claim, commit and release)")
    }
    const provided = yield* Effect.serviceOption(CallbackNonceStore)
    const nonces = options.nonces ??
      (Option.isSome(provided)
        ? provided.value
        : yield* memoryNonceStore({ rate: options.rate, window: Duration.millis(windowMillis) }))
    const valid: ValidVerifyOptions = { secret, windowMillis, nonces }
    const parseOptions: ParseOptions = { maxBodyBytes }
    /**
     * Each event returned and not yet settled → its claim (gone with the event if it is never settled); the claim
     * only, not the verified fields, which hold the body's values.
     */
    const claims = new WeakMap<Event, Pick<Verified, "nonce" | "token" | "expiresAt">>()

    /** Checked (signature, freshness) and decoded: nothing has been asked of the nonce store yet. */
    const checkAndDecode = (incoming: Incoming): Effect.Effect<readonly [Checked, Event], CallbackError> => {
      const fields = CallbackBody.parse(incoming, parseOptions)
      if (Either.isLeft(fields)) return Effect.fail(fields.left)
      return Effect.flatMap(checkValid(fields.right, valid), (checked) => {
        const event = decode(checked.fields)
        return Either.isLeft(event) ? Effect.fail(event.left) : Effect.succeed([checked, event.right] as const)
      })
    }

    const receiveUntraced = (incoming: Incoming): Effect.Effect<Event, CallbackError> =>
      Effect.flatMap(
        checkAndDecode(incoming),
        ([checked, event]) =>
          Effect.map(claimChecked(checked, nonces), (verified) => {
            claims.set(event, { nonce: verified.nonce, token: verified.token, expiresAt: verified.expiresAt })
            return event
          })
      )

    /**
     * The nonce claimed while `apply(event)` runs in a fiber of its own (see `Receiver.receiveAndApply`). The claim
     * runs to its end even when the caller is interrupted, so that a claim taken is settled. A claim that is not this
     * delivery's interrupts the apply: its outcome no longer matters (it is idempotent), and the answer need not wait.
     */
    const claimBeside = <A, E, R>(
      checked: Checked,
      event: Event,
      apply: (event: Event) => Effect.Effect<A, E, R>
    ): Effect.Effect<A, CallbackError | E, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(
          Effect.fork(restore(Effect.suspend(() => apply(event)))),
          (applying) =>
            Effect.flatMap(Effect.exit(nonces.claim(checked.nonce, checked.expiresAt)), (claimed): Effect.Effect<
              A,
              CallbackError | E
            > => {
              if (Exit.isSuccess(claimed) && claimed.value._tag === "Claimed") {
                const token = claimed.value.token
                return Effect.flatMap(Effect.exit(restore(Fiber.join(applying))), (applied) =>
                  Exit.isSuccess(applied)
                    ? Effect.as(
                      Effect.catchAll(
                        nonces.commit(checked.nonce, token, checked.expiresAt),
                        (error) => Effect.logWarning(`${error.reason}: an applied callback's nonce was not committed`)
                      ),
                      applied.value
                    )
                    : Effect.zipRight(
                      Effect.zipRight(Fiber.interrupt(applying), nonces.release(checked.nonce, token)),
                      Effect.failCause(applied.cause)
                    ))
              }
              const answer: Effect.Effect<never, CallbackError> = Exit.isFailure(claimed)
                ? Effect.failCause(claimed.cause)
                : claimed.value._tag === "Applied"
                ? Effect.fail(new CallbackReplayError())
                : Effect.fail(pending())
              return Effect.zipRight(Fiber.interrupt(applying), answer)
            })
        )
      )

    /**
     * `apply(event, delivery)`, then the delivery settled: by the store `apply` wrote to, within its write, else by
     * `settleApplied` (see `Receiver.receiveAndApply`). No nonce is taken before the event is applied, so an apply that
     * fails or is interrupted leaves nothing to give back.
     */
    const applyThenSettle = <A, E, R>(
      checked: Checked,
      event: Event,
      apply: (event: Event, delivery?: Delivery) => Effect.Effect<A, E, R>,
      settleApplied: NonNullable<NonceStore["settleApplied"]>
    ): Effect.Effect<A, CallbackError | E, R> =>
      Effect.suspend(() => {
        const delivery: Delivery = {
          nonce: checked.nonce,
          expiresAt: checked.expiresAt,
          store: nonces,
          settled: undefined
        }
        return Effect.flatMap(apply(event, delivery), (value) => {
          const answer = (settled: Settled) =>
            settled === "first" ? Effect.succeed(value) : Effect.fail(new CallbackReplayError())
          const settled = delivery.settled
          return settled !== undefined
            ? answer(settled)
            : Effect.flatMap(settleApplied(checked.nonce, checked.expiresAt), answer)
        })
      })

    const settleApplied = nonces.settleApplied
    const receiveAndApplyUntraced = <A, E, R>(
      incoming: Incoming,
      apply: (event: Event, delivery?: Delivery) => Effect.Effect<A, E, R>
    ): Effect.Effect<readonly [Event, A], CallbackError | E, R> =>
      Effect.flatMap(
        checkAndDecode(incoming),
        ([checked, event]) =>
          Effect.map(
            settleApplied !== undefined
              ? applyThenSettle(checked, event, apply, settleApplied)
              : claimBeside(checked, event, apply),
            (value) => [event, value] as const
          )
      )

    /**
     * Runs `run` in a span when a tracer that records it is installed (Effect's built-in one sends its spans nowhere,
     * so under it no span is made). The span says what was decided (the event's kind, or the error's tag), never a
     * field of the body.
     */
    const traced = <A, E, R>(
      run: Effect.Effect<A, E, R>,
      eventOf: (a: A) => Event
    ): Effect.Effect<A, E, R> =>
      Effect.withFiberRuntime((fiber) => {
        const services = fiber.getFiberRef(DefaultServices.currentServices)
        if (Context.get(services, Tracer.Tracer) === nativeTracer) return run
        return Effect.useSpan("Callback.receive", SPAN_OPTIONS, (span) =>
          Effect.withParentSpan(
            run.pipe(
              Effect.tapBoth({
                onSuccess: (a) => Effect.sync(() => span.attribute("zego.callback.event", eventOf(a)._tag)),
                onFailure: (error) =>
                  Effect.sync(() => {
                    const tag = typeof error === "object" && error !== null && "_tag" in error ? error._tag : undefined
                    if (typeof tag === "string") span.attribute("zego.callback.error", tag)
                  })
              })
            ),
            span
          ))
      })

    const receive: Receiver["receive"] = (incoming) =>
      traced(Effect.suspend(() => receiveUntraced(incoming)), (event) => event)
    const receiveAndApply: Receiver["receiveAndApply"] = (incoming, apply) =>
      Effect.map(
        traced(Effect.suspend(() => receiveAndApplyUntraced(incoming, apply)), ([event]) => event),
        ([, value]) => value
      )

    const settle = <E>(
      event: Event,
      how: (claim: Pick<Verified, "nonce" | "token" | "expiresAt">) => Effect.Effect<void, E>
    ): Effect.Effect<void, E> =>
      Effect.suspend(() => {
        const claim = claims.get(event)
        if (claim === undefined) return Effect.void
        claims.delete(event)
        return how(claim)
      })
    const commit: Receiver["commit"] = (event) =>
      settle(event, (claim) => nonces.commit(claim.nonce, claim.token, claim.expiresAt))
    const release: Receiver["release"] = (event) => settle(event, (claim) => nonces.release(claim.nonce, claim.token))
    return { receive, receiveAndApply, commit, release, maxBodyBytes }
  })

/**
 * The receiver as a service.
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * // An HTTP handler's core: the body in, the event out (or the error that says the status).
 * const handle = (body: Uint8Array, contentType: string | undefined) =>
 *   Effect.flatMap(CallbackReceiver.CallbackReceiver, (receiver) => receiver.receive({ body, contentType }))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class CallbackReceiver extends Context.Tag("@effect-zego/core/CallbackReceiver")<CallbackReceiver, Receiver>() {}

/**
 * The options read from `ZEGO_CALLBACK_SECRET` (required), `ZEGO_CALLBACK_WINDOW` (a duration, optional) and
 * `ZEGO_CALLBACK_RATE` (callbacks per second the default nonce store takes, optional).
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 *
 * const options = CallbackReceiver.configFromEnv.pipe(
 *   Effect.withConfigProvider(
 *     ConfigProvider.fromMap(new Map([["ZEGO_CALLBACK_SECRET", "s"], ["ZEGO_CALLBACK_WINDOW", "2 minutes"]]))
 *   )
 * )
 * Effect.runPromise(options).then((o) => assert.strictEqual(o.window !== undefined, true))
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const configFromEnv: Config.Config<ReceiverOptions> = Config.all({
  secret: Config.redacted("ZEGO_CALLBACK_SECRET"),
  window: Config.option(Config.duration("ZEGO_CALLBACK_WINDOW")),
  rate: Config.option(Config.number("ZEGO_CALLBACK_RATE"))
}).pipe(
  Config.map(({ rate, secret, window }) => ({
    secret,
    window: Option.getOrUndefined(window),
    rate: Option.getOrUndefined(rate)
  }))
)

/**
 * The receiver as a layer.
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import * as Redacted from "effect/Redacted"
 *
 * const ReceiverLive = CallbackReceiver.layer({ secret: Redacted.make("callback-secret"), window: "2 minutes" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ReceiverOptions): Layer.Layer<CallbackReceiver, InvalidRequestError> =>
  Layer.effect(CallbackReceiver, makeReceiver(options))

/**
 * The receiver as a layer, its options read through Effect `Config` (by default {@link configFromEnv}).
 *
 * @example
 * ```ts
 * import { CallbackReceiver } from "@effect-zego/core"
 * import * as Config from "effect/Config"
 *
 * // From ZEGO_CALLBACK_SECRET and ZEGO_CALLBACK_WINDOW …
 * const ReceiverLive = CallbackReceiver.layerConfig()
 * // … or from a variable of your own.
 * const OwnLive = CallbackReceiver.layerConfig({ secret: Config.redacted("MY_CALLBACK_SECRET") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<ReceiverOptions> = configFromEnv as Config.Config.Wrap<ReceiverOptions>
): Layer.Layer<CallbackReceiver, ConfigError.ConfigError | InvalidRequestError> =>
  Layer.effect(CallbackReceiver, Effect.flatMap(Config.unwrap(config), makeReceiver))
