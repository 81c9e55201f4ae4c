/** The Redis connection both services open: checked URL and timeouts, fail-fast client, closed with the scope. */
import { ServerApi, ZegoError } from "@effect-zego/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"

/** Checks the URL's form; the URL itself is never echoed, since it may hold a password. */
export const validateUrl = (url: unknown): Effect.Effect<void, ZegoError.InvalidRequestError> => {
  const invalid = new ZegoError.InvalidRequestError({
    parameter: "url",
    detail: "the Redis URL must look like redis://host:port (or rediss:// for TLS)"
  })
  try {
    const parsed = new URL(String(url))
    return (parsed.protocol === "redis:" || parsed.protocol === "rediss:") && parsed.hostname !== ""
      ? Effect.void
      : Effect.fail(invalid)
  } catch {
    return Effect.fail(invalid)
  }
}

/** The two timeouts of a connection, each checked as the core checks its durations (at most an hour). */
export const validateTimeouts = (options: {
  readonly commandTimeout?: Duration.DurationInput | undefined
  readonly connectTimeout?: Duration.DurationInput | undefined
}): Effect.Effect<
  { readonly commandTimeout: Duration.Duration; readonly connectTimeout: Duration.Duration },
  ZegoError.InvalidRequestError
> =>
  Either.all({
    commandTimeout: ServerApi.boundedDuration("commandTimeout", options.commandTimeout ?? "500 millis"),
    connectTimeout: ServerApi.boundedDuration("connectTimeout", options.connectTimeout ?? "3 seconds")
  })

/**
 * A client of `url`, closed with the scope, whose every command settles within `commandTimeout`: ioredis arms a timer
 * for each command it is given and rejects it when no answer came in time; while disconnected it rejects a command at
 * once instead of queueing it (the caller has its own way out: a fallback bucket, or a refused callback that
 * ZEGOCLOUD retries), and one in flight when the connection drops is rejected, not sent again. So a caller awaiting a
 * command needs no timer of its own. (A script Redis says it lacks, `NOSCRIPT` after a `SCRIPT FLUSH`, is sent once
 * more in full: that one takes up to twice the timeout.) It waits up to `connectTimeout` for the first connection,
 * so that a service that starts with Redis up uses it from the first call.
 */
export const connect = (
  url: string,
  options: { readonly commandTimeout: Duration.Duration; readonly connectTimeout: Duration.Duration }
): Effect.Effect<Redis, never, Scope.Scope> =>
  Effect.tap(
    Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Redis(url, {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: Duration.toMillis(options.connectTimeout),
          commandTimeout: Duration.toMillis(options.commandTimeout),
          retryStrategy: (attempt) => Math.min(attempt * 100, 1000)
        })
        // Failures reach each call as a rejected command; the connection's own events would only repeat them.
        client.on("error", () => {})
        return client
      }),
      // Half-closes: what was sent without waiting for its answer (a commit, a release) is still answered first.
      (client) => Effect.sync(() => client.disconnect())
    ),
    (redis) =>
      Effect.async<void>((resume) => {
        if (redis.status === "ready") return resume(Effect.void)
        const done = () => resume(Effect.void)
        redis.once("ready", done)
        redis.once("error", done)
      }).pipe(Effect.timeout(options.connectTimeout), Effect.ignore)
  )

/** ioredis's message for a command that got no answer within `commandTimeout`. */
const TIMED_OUT = "Command timed out"

/** Why a command failed: ioredis's message, or for its command timeout how long it waited. */
export const failureReason = (error: unknown, commandTimeout: Duration.Duration): string => {
  const message = error instanceof Error ? error.message : String(error)
  return message === TIMED_OUT ? `no answer within ${Duration.format(commandTimeout)}` : message
}

/** Whether a command given to `redis` now would be written, not refused (ioredis's own test, its offline queue off). */
export const writable = (redis: Redis): boolean => redis.status === "ready" && redis.stream?.writable === true
