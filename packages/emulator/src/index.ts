/**
 * @effect-zego/emulator: a local stand-in for the ZEGOCLOUD RTMP dispatch API, for tests, the CLI and benchmarks,
 * and a local RTMP media node (nginx with its RTMP module) whose publishes the emulator checks.
 */
export * as Emulator from "./Emulator.js"
export * as EmulatorError from "./EmulatorError.js"
export * as Fault from "./Fault.js"
export * as MediaNode from "./MediaNode.js"
