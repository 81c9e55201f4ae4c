/**
 * Where a `zego-rtmp` command sends its requests, chosen from its flags and the `ZEGO_*` environment: a server with
 * the user's credentials, or (for `dispatch` only) an emulator started in-process. Shared by every command that calls
 * the API, so that they read the same settings and fail the same way when some are missing.
 */
import { RtmpDispatch } from "@effect-zego/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { MissingCredentialsError } from "../CliError.js"
import * as CommandFlags from "./flags.js"
import * as Invocation from "./invocation.js"
import * as Tries from "./tries.js"

/**
 * The HTTP client of every command: Node's `http` and `https` modules (a run makes one call: a keep-alive pool would
 * bring nothing), each request noted for the line of a failure after retries ({@link Tries.note}).
 */
export const httpClient: Layer.Layer<HttpClient.HttpClient> = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(HttpClient.HttpClient, (client) => HttpClient.transform(client, Tries.note))
).pipe(Layer.provide(NodeHttpClient.layer))

/** Where to send: the embedded emulator, or a server with the user's credentials. */
export type Target =
  | { readonly _tag: "Embedded"; readonly isTest: boolean | undefined }
  | { readonly _tag: "Remote"; readonly options: RtmpDispatch.Options }

/** The flags that name the server: those of every command that calls the API. */
export interface TargetFlags {
  readonly region: Option.Option<(typeof CommandFlags.REGIONS)[number]>
  readonly baseUrl: Option.Option<string>
  readonly testEnv: boolean
}

/**
 * The settings the node package reads from the environment, each optional here: their absence chooses the target.
 * `ZEGO_APP_ID` is decimal digits only, as the core reads it: `0x10`, `1e3` or ` 12` are errors, not 16, 1000 or 12,
 * and a variable set but empty is an error that says so (not 0, and not "unset").
 */
const environment = Config.all({
  appId: Config.option(RtmpDispatch.decimalConfig("ZEGO_APP_ID")),
  serverSecret: Config.option(Config.redacted("ZEGO_SERVER_SECRET")),
  region: Config.option(Config.literal(...CommandFlags.REGIONS)("ZEGO_REGION")),
  baseUrl: Config.option(Config.string("ZEGO_BASE_URL")),
  isTest: Config.option(Config.boolean("ZEGO_IS_TEST"))
})

/**
 * Without credentials, what the command does instead: `dispatch` goes to the embedded emulator (`embedded`); a
 * command that acts on a stream a server already knows (`stream state`, `room withdraw`, …) has nowhere to go, since a
 * fresh emulator knows no stream, and fails with a {@link MissingCredentialsError} naming the command (`server`).
 */
export type WithoutCredentials =
  | { readonly _tag: "embedded" }
  | { readonly _tag: "server"; readonly command: string }

const useEmulator = `start ${Invocation.command("emulator")} and set the ZEGO_* variables it prints`

/**
 * Chooses the target from the flags and the `ZEGO_*` environment (flags win). No credentials at all: the embedded
 * emulator for `embedded`, unless a server is named (`--base-url`, `--region` or their variables), which is a
 * {@link MissingCredentialsError}, as it always is for `server`. Half of the credentials without the other half is
 * one too. A server's options are those the library reads (`RtmpDispatch.configFromEnv`, with the rate limit of
 * `ZEGO_RATE_LIMIT` and `ZEGO_RATE_LIMIT_WINDOW`), with the flags on top.
 */
export const resolve = (
  flags: TargetFlags,
  withoutCredentials: WithoutCredentials
): Effect.Effect<Target, ConfigError.ConfigError | MissingCredentialsError> =>
  Effect.gen(function*() {
    const env = yield* environment
    const baseUrl = Option.orElse(flags.baseUrl, () => env.baseUrl)
    const region = Option.orElse(flags.region, () => env.region)
    const isTest = flags.testEnv ? true : Option.getOrUndefined(env.isTest)
    const embedded = withoutCredentials._tag === "embedded"
    if (Option.isNone(env.appId) && Option.isNone(env.serverSecret)) {
      if (!embedded) {
        return yield* new MissingCredentialsError({
          missing: ["ZEGO_APP_ID", "ZEGO_SERVER_SECRET"],
          because:
            `${Invocation.command(withoutCredentials.command)} acts on a stream a running server knows (an emulator ` +
            "started for this command alone would know none)",
          otherwise: useEmulator
        })
      }
      const named = Option.isSome(flags.baseUrl)
        ? ["--base-url is set", "drop --base-url to dispatch against the embedded emulator"]
        : Option.isSome(env.baseUrl)
        ? ["ZEGO_BASE_URL is set", "unset ZEGO_BASE_URL to dispatch against the embedded emulator"]
        : Option.isSome(flags.region)
        ? ["--region is set", "drop --region to dispatch against the embedded emulator"]
        : Option.isSome(env.region)
        ? ["ZEGO_REGION is set", "unset ZEGO_REGION to dispatch against the embedded emulator"]
        : undefined
      if (named !== undefined) {
        return yield* new MissingCredentialsError({
          missing: ["ZEGO_APP_ID", "ZEGO_SERVER_SECRET"],
          because: named[0]!,
          otherwise: named[1]!
        })
      }
      return { _tag: "Embedded", isTest } as const
    }
    if (Option.isNone(env.appId) || Option.isNone(env.serverSecret)) {
      const [set, missing] = Option.isSome(env.appId)
        ? ["ZEGO_APP_ID", "ZEGO_SERVER_SECRET"]
        : ["ZEGO_SERVER_SECRET", "ZEGO_APP_ID"]
      return yield* new MissingCredentialsError({
        missing: [missing],
        because: `${set} is set`,
        otherwise: embedded ? `unset ${set} to dispatch against the embedded emulator` : useEmulator
      })
    }
    // The library's own reading of the environment (ZEGO_RATE_LIMIT and ZEGO_RATE_LIMIT_WINDOW too), flags on top.
    const fromEnv = yield* RtmpDispatch.configFromEnv
    const options: RtmpDispatch.Options = {
      ...fromEnv,
      region: Option.getOrElse(region, () => fromEnv.region),
      baseUrl: Option.getOrElse(baseUrl, () => fromEnv.baseUrl),
      isTest
    }
    return { _tag: "Remote", options } as const
  })

/**
 * The requirement of a command that has no embedded emulator: a server with credentials, or the
 * {@link MissingCredentialsError} of {@link resolve}.
 */
export const resolveServer = (
  flags: TargetFlags,
  command: string
): Effect.Effect<RtmpDispatch.Options, ConfigError.ConfigError | MissingCredentialsError> =>
  Effect.flatMap(
    resolve(flags, { _tag: "server", command }),
    (target) =>
      target._tag === "Remote"
        ? Effect.succeed(target.options)
        : Effect.dieMessage("resolve chose the embedded emulator for a command that has none")
  )
