/**
 * @effect-zego/core/testing: a mock `HttpClient` that speaks the ZEGOCLOUD protocol, for your tests.
 */
export * as ZegoMock from "./ZegoMock.js"
