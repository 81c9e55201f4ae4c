/**
 * `zego-rtmp dispatch`: asks ZEGOCLOUD (or, with no credentials set, an emulator started in-process) for a publish
 * or pull node and prints it for a human (URL, OBS settings, ffmpeg / ffplay commands) or as JSON.
 *
 * @since 0.1.0
 */
import { Params, RtmpDispatch, Untrusted, ZegoError } from "@effect-zego/core"
import type { EmulatorError } from "@effect-zego/emulator"
import * as Command from "@effect/cli/Command"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { MissingCredentialsError } from "./CliError.js"
import * as CommandFlags from "./internal/flags.js"
import * as Invocation from "./internal/invocation.js"
import * as Stdio from "./internal/stdio.js"
import * as CommandTarget from "./internal/target.js"
import * as Output from "./Output.js"

/**
 * The flags of `zego-rtmp dispatch`.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 * import * as Command from "@effect/cli/Command"
 * import * as Console from "effect/Console"
 *
 * // The same flags, another handler: print the stream id only.
 * const echo = Command.make("echo", DispatchCommand.flags, (flags) => Console.log(flags.streamId))
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const flags = CommandFlags.dispatch

/**
 * The parsed flags.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 *
 * const describe = (flags: DispatchCommand.Flags): string => `${flags.type} ${flags.streamId}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Flags = CommandFlags.DispatchFlags

/**
 * Where to dispatch: the embedded emulator, or a server with the user's credentials.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 *
 * const where = (target: DispatchCommand.Target): string =>
 *   target._tag === "Embedded" ? "the embedded emulator" : `ZEGOCLOUD app ${target.options.appId}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Target = CommandTarget.Target

/**
 * Chooses the target from the flags and the `ZEGO_*` environment (flags win): no credentials at all and no server
 * named means the embedded emulator; a server named (`--base-url`, `--region` or their variables) or half of the
 * credentials without the other half is a {@link MissingCredentialsError}.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * // No ZEGO_* variable set and no server named: the embedded emulator.
 * const target = Effect.runSync(
 *   DispatchCommand.resolveTarget({ region: Option.none(), baseUrl: Option.none(), testEnv: false }).pipe(
 *     Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
 *   )
 * )
 * assert.strictEqual(target._tag, "Embedded")
 * ```
 *
 * @since 0.1.0
 * @category targets
 */
export const resolveTarget = (
  flags: Pick<Flags, "region" | "baseUrl" | "testEnv">
): Effect.Effect<Target, ConfigError.ConfigError | MissingCredentialsError> =>
  CommandTarget.resolve(flags, { _tag: "embedded" })

const invalid = (parameter: string, detail: string) => new ZegoError.InvalidRequestError({ parameter, detail })

/** The largest `--sequence`: ZEGOCLOUD's Sequence is an Int64. */

const decodeRequest = Schema.decodeUnknownEither(Params.DispatchRequest, { onExcessProperty: "error" })

/**
 * The request the flags describe, checked as the core checks it, so that invalid input starts nothing.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 * import * as Either from "effect/Either"
 * import * as Option from "effect/Option"
 *
 * const request = DispatchCommand.toRequest({
 *   type: "push",
 *   streamId: "demo",
 *   clientIp: Option.none(),
 *   sequence: Option.some("1700000000000")
 * })
 * assert.deepStrictEqual(Either.getOrThrow(request), { streamId: "demo", type: "push", sequence: 1700000000000 })
 * ```
 *
 * @since 0.1.0
 * @category requests
 */
export const toRequest = (
  flags: Pick<Flags, "type" | "streamId" | "clientIp" | "sequence">
): Either.Either<Params.DispatchRequest, ZegoError.InvalidRequestError> =>
  Either.gen(function*() {
    let sequence: number | bigint | undefined
    if (Option.isSome(flags.sequence)) {
      const text = flags.sequence.value
      if (!/^\d+$/.test(text)) {
        return yield* Either.left(invalid("sequence", "must be a non-negative integer, e.g. a millisecond timestamp"))
      }
      const value = BigInt(text)
      // Checked here: past 2^53 the value is a bigint, which the schema's number branch reports as the wrong type.
      if (value > Params.INT64_MAX) {
        return yield* Either.left(invalid("sequence", `must fit in a non-negative Int64 (at most ${Params.INT64_MAX})`))
      }
      sequence = value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
    }
    const request: Params.DispatchRequest = {
      streamId: flags.streamId,
      type: flags.type,
      ...(Option.isSome(flags.clientIp) ? { clientIp: flags.clientIp.value } : {}),
      ...(sequence !== undefined ? { sequence } : {})
    }
    // Described without formatting the whole value: a flag can be long, and Effect's formatter quotes it in full.
    yield* Either.mapLeft(decodeRequest(request), (error) => {
      const issue = Untrusted.describeParseError(error)
      return invalid(issue.path || "request", issue.message)
    })
    return request
  })

/**
 * The dispatch service over Node's `http` and `https` modules. A run makes one request, so the keep-alive pool of
 * the node package's undici client would bring nothing, and loading undici costs what a run must not spend: a
 * megabyte of JavaScript to compile and two WebAssembly HTTP parsers (undici's, and Node's own undici, which loading
 * it wakes), about 45 MB of peak memory.
 */
const dispatchLayer = (
  options: RtmpDispatch.Options
): Layer.Layer<RtmpDispatch.RtmpDispatch, ZegoError.InvalidRequestError> =>
  RtmpDispatch.layer(options).pipe(Layer.provide(CommandTarget.httpClient))

/** Lets the embedded emulator log warnings and errors only, unless `--log-level` asked for something else. */
const quietly = <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
  Layer.locallyWith(
    layer,
    FiberRef.currentMinimumLogLevel,
    (level) => (LogLevel.Info === level ? LogLevel.Warning : level)
  )

/**
 * The dispatch service against an emulator started on a free loopback port with the two demo apps: the
 * test-environment one when `isTest` is true, else the production one. The emulator's modules (an HTTP server) are
 * loaded only then.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 * import { RtmpDispatch } from "@effect-zego/core"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.flatMap(
 *   RtmpDispatch.RtmpDispatch,
 *   (dispatch) => dispatch.dispatch({ streamId: "demo", type: "push" })
 * )
 *
 * Effect.runPromise(program.pipe(Effect.provide(DispatchCommand.embeddedLayer(false)))).then((result) =>
 *   assert.strictEqual(result.nodes[0].url, "rtmp://127.0.0.1:1935/live/demo")
 * )
 * ```
 *
 * @since 0.1.0
 * @category targets
 */
export const embeddedLayer = (
  isTest: boolean | undefined
): Layer.Layer<
  RtmpDispatch.RtmpDispatch,
  | EmulatorError.InvalidOptionsError
  | EmulatorError.StartError
  | ZegoError.InvalidRequestError
  | ConfigError.ConfigError
> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const { Emulator } = yield* Effect.promise(() => import("@effect-zego/emulator"))
    const app = isTest === true ? Emulator.demoTestApp : Emulator.demoApp
    const dispatch = Layer.unwrapEffect(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Stdio.err(
        `zego-rtmp: ZEGO_APP_ID and ZEGO_SERVER_SECRET are not set, so this dispatch goes to the embedded ` +
          `ZEGOCLOUD emulator at ${emulator.baseUrl} (demo app ${app.appId}); set them to use ZEGOCLOUD.`
      )
      // The rate limit of ZEGO_RATE_LIMIT / ZEGO_RATE_LIMIT_WINDOW applies here too, as with a server of one's own.
      const rateLimit = yield* RtmpDispatch.rateLimitFromEnv
      return dispatchLayer({
        appId: app.appId,
        serverSecret: app.serverSecret,
        baseUrl: emulator.baseUrl,
        isTest: isTest ?? app.isTest,
        rateLimit
      })
    }))
    const emulator = Emulator.layer({ apps: [Emulator.demoApp, Emulator.demoTestApp], host: "127.0.0.1" })
    return Layer.provide(dispatch, quietly(emulator))
  }))

/**
 * What a dispatch against the embedded emulator says about its node: the emulator only dispatches, and nothing
 * listens at the node it hands out (unless the user runs an RTMP server there), so publishing to it fails.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 *
 * console.log(DispatchCommand.embeddedNote.includes("--media-node")) // true
 * ```
 *
 * @since 0.1.0
 * @category output
 */
export const embeddedNote =
  "The embedded emulator only dispatches: no RTMP server listens at the nodes it hands out, so ffmpeg, ffplay or a broadcaster gets " +
  "\"Connection refused\". For a live node, run " + Invocation.command("emulator --media-node") +
  " (it needs nginx with its RTMP " +
  "module) and, in another shell, the export line it prints, then dispatch again."

/**
 * Every way `zego-rtmp dispatch` can fail.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 * import * as Effect from "effect/Effect"
 *
 * const orNothing = <A>(effect: Effect.Effect<A, DispatchCommand.DispatchCommandError>) =>
 *   Effect.catchTag(effect, "MissingCredentialsError", () => Effect.void)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type DispatchCommandError =
  | ZegoError.ZegoError
  | ConfigError.ConfigError
  | MissingCredentialsError
  | EmulatorError.InvalidOptionsError
  | EmulatorError.StartError

/**
 * Runs `zego-rtmp dispatch` with parsed flags.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 * import * as Option from "effect/Option"
 *
 * // What `zego-rtmp dispatch --type pull --stream-id demo --json` runs.
 * const program = DispatchCommand.handler({
 *   type: "pull",
 *   streamId: "demo",
 *   clientIp: Option.none(),
 *   sequence: Option.none(),
 *   v1: false,
 *   json: true,
 *   region: Option.none(),
 *   baseUrl: Option.none(),
 *   testEnv: false
 * })
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const handler = (flags: Flags): Effect.Effect<void, DispatchCommandError> =>
  Effect.gen(function*() {
    const request = yield* toRequest(flags)
    const target = yield* resolveTarget(flags)
    const layer = target._tag === "Embedded"
      ? embeddedLayer(target.isTest)
      : dispatchLayer(target.options)
    const text = yield* Effect.gen(function*() {
      const service = yield* RtmpDispatch.RtmpDispatch
      if (flags.v1) {
        const result = yield* service.dispatchAddresses(request)
        return flags.json ? Output.json(Output.addressesJson(result)) : Output.addressesText(result)
      }
      const result = yield* service.dispatch(request)
      return flags.json ? Output.json(Output.dispatchedJson(result)) : Output.dispatchedText(result)
    }).pipe(Effect.provide(layer))
    if (target._tag !== "Embedded") return yield* Stdio.out(text)
    // In text mode the note ends the output it is about; with --json it goes to stderr, so stdout stays one document.
    yield* flags.json ?
      Stdio.out(text).pipe(Effect.zipRight(Stdio.err(`zego-rtmp: ${embeddedNote}`))) :
      Stdio.out(`${text}\n\n${embeddedNote}`)
  })

/**
 * The `dispatch` subcommand.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 * import * as Command from "@effect/cli/Command"
 *
 * const run = Command.run(Command.make("my-tool").pipe(Command.withSubcommands([DispatchCommand.command])), {
 *   name: "my-tool",
 *   version: "1.0.0"
 * })
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const command: Command.Command<"dispatch", never, DispatchCommandError, Flags> = Command.make(
  "dispatch",
  flags,
  handler
).pipe(
  Command.withDescription(CommandFlags.dispatchDescription)
)
