/**
 * @effect-zego/core/testing: a mock `HttpClient` that speaks the ZEGOCLOUD protocol, for your tests.
 *
 * @since 0.1.0
 */
/**
 * A mock `HttpClient` that speaks the ZEGOCLOUD protocol, for tests (ours and our users').
 *
 * @since 0.1.0
 * @category modules
 */
export * as ZegoMock from "./ZegoMock.js"
