/**
 * @effect-zego/emulator: a local stand-in for the ZEGOCLOUD server API around an RTMP stream (dispatch, stream
 * state, forbid and resume, room announcements), for tests, the CLI and benchmarks, and a local RTMP media node
 * (nginx with its RTMP module) whose publishes the emulator checks and can drop.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-zego/emulator"
 *
 * const EmulatorLive = Emulator.layer({ apps: [Emulator.demoApp, Emulator.demoTestApp] })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Emulator from "./Emulator.js"
/**
 * The emulator's configuration: apps, node pools, options, their defaults and schema, the JSON config file, the demo
 * apps.
 *
 * @example
 * ```ts
 * import { Emulator, EmulatorConfig } from "@effect-zego/emulator"
 *
 * const EmulatorLive = Emulator.layer({ apps: [EmulatorConfig.demoApp], nodes: EmulatorConfig.defaultNodes })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as EmulatorConfig from "./EmulatorConfig.js"
/**
 * The errors of starting the emulator and the media node.
 *
 * @example
 * ```ts
 * import type { EmulatorError } from "@effect-zego/emulator"
 *
 * const describe = (error: EmulatorError.EmulatorError | EmulatorError.MediaNodeError): string => error.message
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as EmulatorError from "./EmulatorError.js"
/**
 * Fault rules for the API's answers and for the stream callbacks.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-zego/emulator"
 *
 * const rule: Fault.FaultRule = { fault: Fault.code(1010), next: 1 }
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Fault from "./Fault.js"
/**
 * A local RTMP media node: nginx with its RTMP module, checked by the emulator.
 *
 * @example
 * ```ts
 * import { MediaNode } from "@effect-zego/emulator"
 *
 * const MediaNodeLive = MediaNode.layer({ onPublish: "http://127.0.0.1:8080/rtmp/on_publish" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as MediaNode from "./MediaNode.js"
