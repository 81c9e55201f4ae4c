/**
 * @effect-zego/emulator: a local stand-in for the ZEGOCLOUD RTMP dispatch API, for tests, the CLI and benchmarks.
 */
export * as Emulator from "./Emulator.js"
export * as EmulatorError from "./EmulatorError.js"
export * as Fault from "./Fault.js"
