/**
 * `zego-rtmp relay start|stop|clear`: restreams a stream to a CDN (`CreatCDNTransferRule`), stops that relay
 * (`DeleteCDNTransferRule`) or drops the stream's relays not yet started (`ClearCDNTransferRule`) on a server
 * (ZEGOCLOUD, or a running `zego-rtmp emulator`), and prints the answer for a human or as JSON. Like `stream …`,
 * these need credentials: the relays are the server's.
 */
import { StreamRelay, Untrusted, ZegoError } from "@effect-zego/core"
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
import { checkStreamId } from "./StreamCommand.js"

/** Every way `zego-rtmp relay …` can fail. */
export type RelayCommandError =
  | ZegoError.ZegoError
  | ConfigError.ConfigError
  | MissingCredentialsError

const decodeRelay = Schema.decodeUnknownEither(StreamRelay.RelayRequest, { onExcessProperty: "error" })

/** The stream id and CDN URL checked as the core checks them, so that invalid input sends nothing. */
export const checkRelay = (
  flags: CommandFlags.RelayFlags
): Either.Either<{ readonly streamId: string; readonly cdnUrl: string }, ZegoError.InvalidRequestError> => {
  const request = { streamId: flags.streamId, cdnUrl: flags.cdnUrl }
  return Either.mapBoth(decodeRelay(request), {
    onLeft: (error) => {
      const issue = Untrusted.describeParseError(error)
      return new ZegoError.InvalidRequestError({ parameter: issue.path || "request", detail: issue.message })
    },
    onRight: () => request
  })
}

const withService = <A>(
  options: StreamRelay.Options,
  use: (service: StreamRelay.Service) => Effect.Effect<A, ZegoError.ZegoError>
) =>
  Effect.flatMap(StreamRelay.StreamRelay, use).pipe(
    Effect.provide(StreamRelay.layer(options).pipe(Layer.provide(CommandTarget.httpClient)))
  )

const relay = (action: "start" | "stop") => (flags: CommandFlags.RelayFlags): Effect.Effect<void, RelayCommandError> =>
  Effect.gen(function*() {
    const { cdnUrl, streamId } = yield* checkRelay(flags)
    const options = yield* CommandTarget.resolveServer(flags, `relay ${action}`)
    const result = yield* withService(options, (service) => service[action](streamId, cdnUrl))
    yield* Stdio.out(flags.json ? Output.json(Output.relayJson(action, result)) : Output.relayText(action, result))
  })

/** Runs `zego-rtmp relay start`. */
export const start: (flags: CommandFlags.RelayFlags) => Effect.Effect<void, RelayCommandError> = relay("start")

/** Runs `zego-rtmp relay stop`. */
export const stop: (flags: CommandFlags.RelayFlags) => Effect.Effect<void, RelayCommandError> = relay("stop")

/** Runs `zego-rtmp relay clear`. */
export const clear = (flags: CommandFlags.RelayClearFlags): Effect.Effect<void, RelayCommandError> =>
  Effect.gen(function*() {
    const streamId = yield* checkStreamId(flags.streamId)
    const options = yield* CommandTarget.resolveServer(flags, "relay clear")
    const result = yield* withService(options, (service) => service.clear(streamId))
    yield* Stdio.out(flags.json ? Output.json(Output.relayJson("clear", result)) : Output.relayText("clear", result))
  })
