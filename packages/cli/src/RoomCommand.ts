/**
 * `zego-rtmp room announce|withdraw|streams`: announces a stream in a room (`AddStream`), withdraws it
 * (`DeleteStream`) or lists the room's streams (`DescribeSimpleStreamList`) on a server (ZEGOCLOUD, or a running
 * `zego-rtmp emulator`), and prints the answer for a human or as JSON. Like `stream …`, these need credentials: the
 * rooms and their streams are the server's.
 */
import { RoomStreams, ZegoError } from "@effect-zego/core"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { MissingCredentialsError } from "./CliError.js"
import type * as CommandFlags from "./internal/flags.js"
import * as Stdio from "./internal/stdio.js"
import * as CommandTarget from "./internal/target.js"
import * as Output from "./Output.js"

/** Every way `zego-rtmp room …` can fail. */
export type RoomCommandError =
  | ZegoError.ZegoError
  | ConfigError.ConfigError
  | MissingCredentialsError

const invalid = (error: ParseResult.ParseError) => ZegoError.InvalidRequestError.fromParseError(error)

const optional = <K extends string>(key: K, value: Option.Option<string>): { readonly [P in K]?: string } =>
  (Option.isSome(value) ? { [key]: value.value } : {}) as { readonly [P in K]?: string }

const decodeWithdrawal = Schema.decodeUnknownEither(RoomStreams.Withdrawal, { onExcessProperty: "error" })
const decodeAnnouncement = Schema.decodeUnknownEither(RoomStreams.Announcement, { onExcessProperty: "error" })
const decodeListRequest = Schema.decodeUnknownEither(RoomStreams.ListRequest, { onExcessProperty: "error" })

/** The `DeleteStream` request the flags describe, checked as the core checks it, so that invalid input sends nothing. */
export const toWithdrawal = (
  flags: CommandFlags.RoomWithdrawFlags
): Either.Either<RoomStreams.Withdrawal, ZegoError.InvalidRequestError> => {
  const withdrawal: RoomStreams.Withdrawal = {
    roomId: flags.roomId,
    streamId: flags.streamId,
    ...optional("userId", flags.userId),
    ...optional("userName", flags.userName)
  }
  return Either.mapBoth(decodeWithdrawal(withdrawal), { onLeft: invalid, onRight: () => withdrawal })
}

/** The `AddStream` request the flags describe, checked as the core checks it. */
export const toAnnouncement = (
  flags: CommandFlags.RoomAnnounceFlags
): Either.Either<RoomStreams.Announcement, ZegoError.InvalidRequestError> => {
  const announcement: RoomStreams.Announcement = {
    roomId: flags.roomId,
    streamId: flags.streamId,
    ...optional("userId", flags.userId),
    ...optional("userName", flags.userName),
    ...optional("title", flags.title),
    ...optional("extraInfo", flags.extraInfo)
  }
  return Either.mapBoth(decodeAnnouncement(announcement), { onLeft: invalid, onRight: () => announcement })
}

const call = <A>(
  command: string,
  flags: CommandFlags.RoomWithdrawFlags,
  request: Either.Either<A, ZegoError.InvalidRequestError>,
  send: (service: RoomStreams.Service, request: A) => Effect.Effect<RoomStreams.Announced, ZegoError.ZegoError>,
  action: "announce" | "withdraw"
): Effect.Effect<void, RoomCommandError> =>
  Effect.gen(function*() {
    const checked = yield* request
    const options = yield* CommandTarget.resolveServer(flags, command)
    const result = yield* Effect.flatMap(RoomStreams.RoomStreams, (service) => send(service, checked)).pipe(
      Effect.provide(RoomStreams.layer(options).pipe(Layer.provide(CommandTarget.httpClient)))
    )
    yield* Stdio.out(flags.json ? Output.json(Output.roomJson(action, result)) : Output.roomText(action, result))
  })

/** Runs `zego-rtmp room announce`. */
export const announce = (flags: CommandFlags.RoomAnnounceFlags): Effect.Effect<void, RoomCommandError> =>
  call("room announce", flags, toAnnouncement(flags), (service, request) => service.announce(request), "announce")

/** Runs `zego-rtmp room withdraw`. */
export const withdraw = (flags: CommandFlags.RoomWithdrawFlags): Effect.Effect<void, RoomCommandError> =>
  call("room withdraw", flags, toWithdrawal(flags), (service, request) => service.withdraw(request), "withdraw")

/** Runs `zego-rtmp room streams`: the room id checked as the core checks it (invalid input sends nothing). */
export const streams = (flags: CommandFlags.RoomStreamsFlags): Effect.Effect<void, RoomCommandError> =>
  Effect.gen(function*() {
    const { roomId } = yield* Either.mapLeft(decodeListRequest({ roomId: flags.roomId }), invalid)
    const options = yield* CommandTarget.resolveServer(flags, "room streams")
    const result = yield* Effect.flatMap(RoomStreams.RoomStreams, (service) => service.list(roomId)).pipe(
      Effect.provide(RoomStreams.layer(options).pipe(Layer.provide(CommandTarget.httpClient)))
    )
    yield* Stdio.out(flags.json ? Output.json(Output.roomStreamsJson(result)) : Output.roomStreamsText(result))
  })
