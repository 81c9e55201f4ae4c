/**
 * The flags and descriptions of the `zego-rtmp` subcommands, without their handlers: what parsing the command line
 * and printing `--help` need, so that the command tree loads without the dispatch stack or the emulator.
 */
import * as Actions from "@effect-zego/core/Actions"
import type * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Schema from "effect/Schema"
import * as Invocation from "./invocation.js"

/** The ZEGOCLOUD API regions `--region` and `ZEGO_REGION` name. */
export const REGIONS = ["unified", "sha", "hkg", "fra", "lax", "bom", "sgp"] as const

/**
 * What `--wizard` asks for each flag that it would otherwise ask badly, by the flag's parsing `Options`: a choice
 * list for a flag of {@link choice} (its parser is text to @effect/cli), and "use the default (false)?" for a flag of
 * {@link flag} (@effect/cli's own yes/no question starts at yes, the value of a bare `--v1`).
 */
const forWizard = new WeakMap<object, Options.Options<unknown>>()

/** `option`, with `wizard` as what `--wizard` asks for it. */
const withWizard = <A>(option: Options.Options<A>, wizard: Options.Options<A>): Options.Options<A> => {
  forWizard.set(option, wizard)
  return option
}

/**
 * A flag that takes one of `values`, shown as `--name a | b | c`. Not `Options.choice`: its error ("Expected one of
 * the following cases: …") does not say which flag it is about. `--wizard` asks it as a choice all the same.
 */
const choice = <const Values extends readonly [string, ...Array<string>]>(
  name: string,
  values: Values,
  description: string
): Options.Options<Values[number]> =>
  withWizard(
    Options.text(name).pipe(
      Options.withSchema(
        Schema.Literal(...values).annotations({
          // `override`: one line for the flag, not one per value it is not.
          message: (issue) => ({
            message: `--${name} must be one of ${values.join(", ")}, not ${
              JSON.stringify(String(issue.actual).slice(0, 40))
            }`,
            override: true
          })
        })
      ),
      Options.withPseudoName(values.join(" | ")),
      Options.withDescription(description)
    ),
    Options.choice(name, values).pipe(Options.withDescription(description))
  )

/** A yes/no flag, false unless given; `--wizard` offers its default (false) first. */
const flag = (name: string, description: string): Options.Options<boolean> =>
  withWizard(
    Options.boolean(name).pipe(Options.withDescription(description)),
    Options.choice(name, ["true", "false"]).pipe(
      Options.map((value) => value === "true"),
      Options.withDescription(description),
      Options.withDefault(false)
    )
  )

/** `config`'s flags as `--wizard` asks them (see {@link forWizard}). */
export const wizardFlags = <Config extends Record<string, Options.Options<unknown>>>(config: Config): Config =>
  Object.fromEntries(
    Object.entries(config).map(([key, option]) => [key, forWizard.get(option) ?? option])
  ) as Config

/** The flags of `zego-rtmp dispatch`. */
export const dispatch = {
  type: choice(
    "type",
    ["push", "pull", "publish"],
    "The node to get: push for a publish node (publish is an alias), pull for a pull node."
  ),
  streamId: Options.text("stream-id").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription(
      "The stream id: 1 to 256 of A-Z a-z 0-9 - _. In the test environment the zegotest-<AppId>- prefix is added."
    )
  ),
  clientIp: Options.text("client-ip").pipe(
    Options.withPseudoName("IPv4"),
    Options.withDescription("The public IPv4 address of the publisher or player, to pick a node near it."),
    Options.optional
  ),
  sequence: Options.text("sequence").pipe(
    Options.withPseudoName("N"),
    Options.withDescription("A non-negative Int64 for reconciliation. Default: a millisecond timestamp."),
    Options.optional
  ),
  v1: flag("v1", "Call the older RTMPDispatch, which answers host:port addresses instead of RTMP URLs."),
  json: flag("json", "Print one JSON document (request id and, per node, URL, host, port, app, OBS fields)."),
  region: choice(
    "region",
    REGIONS,
    "The ZEGOCLOUD API region (default ZEGO_REGION, else unified). Needs credentials."
  ).pipe(Options.optional),
  baseUrl: Options.text("base-url").pipe(
    Options.withPseudoName("URL"),
    Options.withDescription(
      "The API base URL (default ZEGO_BASE_URL, else the region's): https, or http on loopback. Needs credentials."
    ),
    Options.optional
  ),
  testEnv: flag("test-env", "Use the app's test environment (IsTest=true), as ZEGO_IS_TEST=true does.")
} as const

/** The parsed flags of `zego-rtmp dispatch`. */
export type DispatchFlags = Command.Command.ParseConfig<typeof dispatch>

/** What `dispatch` does, as the command tree says it (where the credentials are said once, in ENVIRONMENT). */
export const dispatchSummary =
  "Get a ZEGOCLOUD RTMP publish (push) or pull node, with OBS settings and an ffmpeg command."

/** Where the credentials come from: said once per help page, in its ENVIRONMENT section. */
const credentials = "Credentials come from ZEGO_APP_ID and ZEGO_SERVER_SECRET (and ZEGO_REGION, ZEGO_BASE_URL, " +
  "ZEGO_IS_TEST)."

/** What `dispatch` does without credentials. */
const dispatchWithoutCredentials = "Without them, " + Invocation.command("dispatch") + " goes to an emulator " +
  "started in-process. ZEGO_RATE_LIMIT and ZEGO_RATE_LIMIT_WINDOW apply either way."

/** Why the action commands need credentials. */
const actionsNeedCredentials = "The stream, room and relay commands require them: a stream is only known to a " +
  "running server (ZEGOCLOUD, or " + Invocation.command("emulator") + ", which prints the variables to set)."

/** What the exported `dispatch` command says it does: a tool of its own has no ENVIRONMENT section to say it. */
export const dispatchDescription = `${dispatchSummary} ${credentials} ${dispatchWithoutCredentials}`

/** The longest room id the emulator takes, in UTF-8 bytes (its configuration's rule). */
export const ROOM_ID_MAX_BYTES = 127

/** The flags of `zego-rtmp emulator`. */
export const emulator = {
  port: Options.integer("port").pipe(
    Options.withSchema(Schema.Int.pipe(Schema.between(0, 65535, { message: () => "--port must be 0 to 65535" }))),
    Options.withPseudoName("N"),
    Options.withDescription("The port to listen on at 127.0.0.1. Default: the config file's, else a free port."),
    Options.optional
  ),
  config: Options.file("config", { exists: "yes" }).pipe(
    Options.withPseudoName("FILE"),
    Options.withDescription(
      "A JSON configuration (apps, node pools, rate limit, faults, host, port, rooms; see the emulator's README). " +
        "Default: the two demo apps, one production and one test-environment, and the demo rooms lobby and " +
        "match-room; a file may name only what it changes."
    ),
    Options.optional
  ),
  callbackUrl: Options.text("callback-url").pipe(
    Options.withPseudoName("URL"),
    Options.withDescription(
      "Send ZEGOCLOUD's stream callbacks (stream_create, stream_close) to this http URL on loopback, for the demo " +
        "apps or, with --config, each app without its own callbackUrl. They are signed with the callback secret " +
        "from ZEGO_CALLBACK_SECRET (an environment variable, never a flag: a command line is visible to every user)."
    ),
    Options.optional
  ),
  cors: Options.text("cors").pipe(
    Options.withPseudoName("ORIGIN"),
    Options.withDescription(
      "Let a browser page from this origin (e.g. http://127.0.0.1:5173) call the emulator (CORS), for local tools " +
        "and tests: a server secret never belongs in a browser. Repeat it or separate origins with commas. Default: " +
        "the config file's, else none (no CORS headers)."
    ),
    Options.repeated,
    Options.optional
  ),
  // Checked on the command line as typed (argv.ts): @effect/cli drops an empty value of a repeated flag.
  room: Options.text("room").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription(
      `Add a room (1 to ${ROOM_ID_MAX_BYTES} bytes) for zego-rtmp room announce (AddStream needs the room to exist), ` +
        "beside the config file's rooms, else the demo rooms lobby and match-room. Repeat it for more."
    ),
    Options.repeated,
    // Shown as optional in the usage line, as it is.
    Options.withDefault([])
  ),
  mediaNode: flag(
    "media-node",
    "Also run a local RTMP media node: nginx with its RTMP module (Debian packages nginx and libnginx-mod-rtmp) " +
      "on a free port of 127.0.0.1, application live. The node pools point at it (instead of the config file's), " +
      "and it lets publish only the streams dispatched for push within the publish window (2 hours by default)."
  )
} as const

/** The parsed flags of `zego-rtmp emulator`. */
export type EmulatorFlags = Command.Command.ParseConfig<typeof emulator>

/** What `zego-rtmp emulator --help` says the command does. */
export const emulatorDescription =
  "Run a local emulator of the ZEGOCLOUD RTMP dispatch API in the foreground (loopback only) and print the " +
  "environment variables that point " + Invocation.command("dispatch") +
  " at it; with --media-node, also a local RTMP server to " +
  "publish and play the URLs it dispatches. Ctrl-C stops it."

/** The flags that name the server, as `dispatch` takes them. */
const server = { region: dispatch.region, baseUrl: dispatch.baseUrl, testEnv: dispatch.testEnv } as const

/** The flags of `zego-rtmp stream state|forbid|resume`. */
export const stream = {
  streamId: dispatch.streamId,
  json: flag("json", "Print one JSON document (request id, action, stream id, state and its times)."),
  ...server
} as const

/** The parsed flags of `zego-rtmp stream state|forbid|resume`. */
export type StreamFlags = Command.Command.ParseConfig<typeof stream>

/** The flags of `zego-rtmp relay clear`. */
export const relayClear = {
  streamId: dispatch.streamId,
  json: flag("json", "Print one JSON document (request id, action, stream id and, for start and stop, CDN URL)."),
  ...server
} as const

/** The parsed flags of `zego-rtmp relay clear`. */
export type RelayClearFlags = Command.Command.ParseConfig<typeof relayClear>

/** The flags of `zego-rtmp relay start|stop`. */
export const relay = {
  ...relayClear,
  cdnUrl: Options.text("cdn-url").pipe(
    Options.withPseudoName("URL"),
    Options.withDescription(
      "The CDN's RTMP ingest: rtmp:// or rtmps://, host, application and stream key (stop takes the URL start took)."
    )
  )
} as const

/** The parsed flags of `zego-rtmp relay start|stop`. */
export type RelayFlags = Command.Command.ParseConfig<typeof relay>

const optionalText = (name: string, pseudoName: string, description: string) =>
  Options.text(name).pipe(Options.withPseudoName(pseudoName), Options.withDescription(description), Options.optional)

const roomId = Options.text("room-id").pipe(Options.withPseudoName("R"), Options.withDescription("The room id."))

/** The flags of `zego-rtmp room withdraw`. */
export const roomWithdraw = {
  roomId,
  streamId: dispatch.streamId,
  userId: optionalText("user-id", "ID", "The user the stream is announced as. Default: Server-Administrator."),
  userName: optionalText("user-name", "NAME", "That user's name. Default: none."),
  json: flag("json", "Print one JSON document (request id, action, room id, stream id)."),
  ...server
} as const

/** The parsed flags of `zego-rtmp room withdraw`. */
export type RoomWithdrawFlags = Command.Command.ParseConfig<typeof roomWithdraw>

/** The flags of `zego-rtmp room announce`. */
export const roomAnnounce = {
  ...roomWithdraw,
  title: optionalText("title", "TEXT", "The stream title: at most 127 UTF-8 bytes."),
  extraInfo: optionalText("extra-info", "TEXT", "Extra information for the room's users: at most 1024 UTF-8 bytes.")
} as const

/** The parsed flags of `zego-rtmp room announce`. */
export type RoomAnnounceFlags = Command.Command.ParseConfig<typeof roomAnnounce>

/** The flags of `zego-rtmp room streams`. */
export const roomStreams = {
  roomId,
  json: flag(
    "json",
    "Print one JSON document (request id, action, room id and, per stream, its id, user, creation time, number)."
  ),
  ...server
} as const

/** The parsed flags of `zego-rtmp room streams`. */
export type RoomStreamsFlags = Command.Command.ParseConfig<typeof roomStreams>

/**
 * A command that sends one server action: the action (whose row says what it does), the command's flags, and the
 * name of the function that runs it in its group's handler module (which this module does not load).
 */
export interface ActionCommand {
  readonly action: Actions.Name
  readonly flags: Command.Command.Config
  readonly handler: string
}

/**
 * The commands that send one server action, a row each: group → subcommand → row. The command tree is built from
 * these rows, their descriptions from the action table; a new one is a row here and its handler in its group's module.
 */
export const actionCommands = {
  stream: {
    state: { action: "DescribeRTCStreamState", flags: stream, handler: "state" },
    forbid: { action: "ForbidRTCStream", flags: stream, handler: "forbid" },
    resume: { action: "ResumeRTCStream", flags: stream, handler: "resume" }
  },
  room: {
    announce: { action: "AddStream", flags: roomAnnounce, handler: "announce" },
    withdraw: { action: "DeleteStream", flags: roomWithdraw, handler: "withdraw" },
    streams: { action: "DescribeSimpleStreamList", flags: roomStreams, handler: "streams" }
  },
  relay: {
    start: { action: "CreatCDNTransferRule", flags: relay, handler: "start" },
    stop: { action: "DeleteCDNTransferRule", flags: relay, handler: "stop" },
    clear: { action: "ClearCDNTransferRule", flags: relayClear, handler: "clear" }
  }
} as const satisfies Record<string, Record<string, ActionCommand>>

/** The groups of action commands: `stream`, `room`, `relay`. */
export type ActionGroup = keyof typeof actionCommands

/** What an action command says it does: its action's summary and name (the credentials it needs: ENVIRONMENT). */
export const describeAction = (action: Actions.Name): string => `${Actions.row(action).summary} (${action}).`

/** What a group says it does: `summary`, its subcommands, then `more`. */
const describeGroup = (group: ActionGroup, summary: string, more?: string): string =>
  [`${summary}: ${Object.keys(actionCommands[group]).join(", ")}.`, ...(more === undefined ? [] : [more])].join(" ")

/** What `zego-rtmp stream|room|relay --help` says the group does. */
export const groupDescriptions: Record<ActionGroup, string> = {
  stream: describeGroup("stream", "Ask about or control a published stream"),
  room: describeGroup("room", "Announce a stream in a room, withdraw it, or list a room's streams"),
  relay: describeGroup(
    "relay",
    "Restream a stream to a CDN (YouTube, Twitch, any RTMP ingest)",
    `ZEGOCLOUD reports no relay state: ${Invocation.command("stream state")} tells whether the stream itself is live.`
  )
}

/**
 * The ENVIRONMENT section of the help of `command` (a path as {@link commandOf} gives it; `undefined` for the root),
 * which says once where the credentials come from and what the commands shown do without them; `undefined` for
 * `emulator`, which takes none.
 */
export const environmentHelp = (command: string | undefined): string | undefined => {
  const group = command?.split(" ")[0]
  if (group === undefined) return [credentials, dispatchWithoutCredentials, actionsNeedCredentials].join(" ")
  if (group === "dispatch") return `${credentials} ${dispatchWithoutCredentials}`
  if (Object.hasOwn(actionCommands, group)) return `${credentials} ${actionsNeedCredentials}`
  return undefined
}

/** The subcommand paths, from the command line: `dispatch`, `stream state`, …; `undefined` for none. */
export const commandOf = (args: ReadonlyArray<string>): string | undefined => {
  const index = args.findIndex((arg) => arg === "dispatch" || arg === "emulator" || Object.hasOwn(actionCommands, arg))
  if (index < 0) return undefined
  const name = args[index]!
  const next = args[index + 1]
  const leaves = Object.hasOwn(actionCommands, name) ? Object.keys(actionCommands[name as ActionGroup]) : []
  return next !== undefined && leaves.includes(next) ? `${name} ${next}` : name
}
