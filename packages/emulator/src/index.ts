/**
 * @effect-zego/emulator: a local stand-in for the ZEGOCLOUD server API around an RTMP stream (dispatch, stream
 * state, forbid and resume, room announcements), for tests, the CLI and benchmarks, and a local RTMP media node
 * (nginx with its RTMP module) whose publishes the emulator checks and can drop.
 */
export * as Emulator from "./Emulator.js"
export * as EmulatorError from "./EmulatorError.js"
export * as Fault from "./Fault.js"
export * as MediaNode from "./MediaNode.js"
