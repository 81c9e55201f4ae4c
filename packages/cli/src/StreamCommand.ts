/**
 * `zego-rtmp stream state|forbid|resume`: asks a server (ZEGOCLOUD, or a running `zego-rtmp emulator`) whether a
 * stream is live, or forbids or resumes its publishing, and prints the answer for a human or as JSON.
 *
 * Unlike `dispatch`, these need credentials: a stream exists only on a server that saw it published, and an emulator
 * started for one command would know none (`state` would always say "not found").
 */
import { StreamControl, StreamState, ZegoError } from "@effect-zego/core"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { MissingCredentialsError } from "./CliError.js"
import type * as CommandFlags from "./internal/flags.js"
import * as Stdio from "./internal/stdio.js"
import * as CommandTarget from "./internal/target.js"
import * as Output from "./Output.js"

/** The parsed flags. */
export type Flags = CommandFlags.StreamFlags

/** Every way `zego-rtmp stream …` can fail. */
export type StreamCommandError =
  | ZegoError.ZegoError
  | ConfigError.ConfigError
  | MissingCredentialsError

const decodeRequest = Schema.decodeUnknownEither(StreamState.StreamRequest, { onExcessProperty: "error" })

/** The stream id checked as the core checks it, so that invalid input starts nothing. */
export const checkStreamId = (streamId: string): Either.Either<string, ZegoError.InvalidRequestError> =>
  decodeRequest({ streamId }).pipe(
    Either.mapBoth({
      onLeft: (error) => ZegoError.InvalidRequestError.fromParseError(error, "streamId"),
      onRight: () => streamId
    })
  )

/** The checked stream id and the server, in that order: invalid input fails before the environment is read. */
const prepare = (command: string, flags: Flags) =>
  Effect.gen(function*() {
    const streamId = yield* checkStreamId(flags.streamId)
    const options = yield* CommandTarget.resolveServer(flags, command)
    return { streamId, options }
  })

/** Runs `zego-rtmp stream state`. */
export const state = (flags: Flags): Effect.Effect<void, StreamCommandError> =>
  Effect.gen(function*() {
    const { options, streamId } = yield* prepare("stream state", flags)
    const result = yield* Effect.gen(function*() {
      const service = yield* StreamState.StreamState
      return yield* service.describe(streamId).pipe(
        Effect.map((state): Output.StreamStateResult => state),
        Effect.catchTag("StreamNotFoundError", (error) =>
          Effect.succeed<Output.StreamStateResult>({
            state: "not-found",
            requestId: error.requestId,
            streamId: options.isTest === true ? `zegotest-${options.appId}-${streamId}` : streamId
          }))
      )
    }).pipe(Effect.provide(StreamState.layer(options).pipe(Layer.provide(CommandTarget.httpClient))))
    yield* Stdio.out(flags.json ? Output.json(Output.streamStateJson(result)) : Output.streamStateText(result))
  })

const control = (action: "forbid" | "resume") => (flags: Flags): Effect.Effect<void, StreamCommandError> =>
  Effect.gen(function*() {
    const { options, streamId } = yield* prepare(`stream ${action}`, flags)
    const result = yield* Effect.flatMap(StreamControl.StreamControl, (service) => service[action](streamId)).pipe(
      Effect.provide(StreamControl.layer(options).pipe(Layer.provide(CommandTarget.httpClient)))
    )
    yield* Stdio.out(
      flags.json ? Output.json(Output.controlledJson(action, result)) : Output.controlledText(action, result)
    )
  })

/** Runs `zego-rtmp stream forbid`. */
export const forbid: (flags: Flags) => Effect.Effect<void, StreamCommandError> = control("forbid")

/** Runs `zego-rtmp stream resume`. */
export const resume: (flags: Flags) => Effect.Effect<void, StreamCommandError> = control("resume")
