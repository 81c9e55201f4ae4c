/**
 * @effect-zego/cli: the `zego-rtmp` command-line tool, and the builders of the OBS settings and ffmpeg / ffplay
 * commands it prints, for other tools and tests to reuse.
 *
 * @example
 * ```ts
 * import { Cli } from "@effect-zego/cli"
 * import * as Effect from "effect/Effect"
 * import * as NodeContext from "@effect/platform-node/NodeContext"
 *
 * const version = Cli.run(["node", "zego-rtmp", "--version"]).pipe(Effect.provide(NodeContext.layer))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Cli from "./Cli.js"
/**
 * How `zego-rtmp` fails: the one line it prints on stderr and its exit status.
 *
 * @example
 * ```ts
 * import { CliError } from "@effect-zego/cli"
 *
 * assert.strictEqual(CliError.describe(new Error("boom")), "Error: boom")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as CliError from "./CliError.js"
/**
 * `zego-rtmp dispatch`: a publish or pull node, printed for a human or as JSON.
 *
 * @example
 * ```ts
 * import { DispatchCommand } from "@effect-zego/cli"
 * import * as Command from "@effect/cli/Command"
 *
 * const tool = Command.make("my-tool").pipe(Command.withSubcommands([DispatchCommand.command]))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as DispatchCommand from "./DispatchCommand.js"
/**
 * `zego-rtmp emulator`: the ZEGOCLOUD API emulator in the foreground.
 *
 * @example
 * ```ts
 * import { EmulatorCommand } from "@effect-zego/cli"
 * import * as Command from "@effect/cli/Command"
 *
 * const tool = Command.make("my-tool").pipe(Command.withSubcommands([EmulatorCommand.command]))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as EmulatorCommand from "./EmulatorCommand.js"
/**
 * OBS settings and ffmpeg / ffplay command lines for a dispatched RTMP node.
 *
 * @example
 * ```ts
 * import { MediaCommands } from "@effect-zego/cli"
 *
 * assert.strictEqual(
 *   MediaCommands.playCommand("rtmp://127.0.0.1:1935/live/demo"),
 *   "ffplay 'rtmp://127.0.0.1:1935/live/demo'"
 * )
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as MediaCommands from "./MediaCommands.js"
/**
 * What `zego-rtmp` prints: text for a human, or one JSON document.
 *
 * @example
 * ```ts
 * import { Output } from "@effect-zego/cli"
 * import { RtmpDispatch, RtmpNode } from "@effect-zego/core"
 *
 * const node = RtmpNode.parseRtmpUrl("rtmp://127.0.0.1:1935/live/demo")!
 * const result: RtmpDispatch.Dispatched = { requestId: "1", streamId: "demo", type: "push", nodes: [node] }
 * assert.strictEqual(JSON.parse(Output.json(Output.dispatchedJson(result))).nodes[0].obsStreamKey, "demo")
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Output from "./Output.js"
