/**
 * What a service module takes from the engine every ZEGOCLOUD server API action runs on: {@link make} (the run loop,
 * `runLoop.ts`), its `layer` and `layerConfig` ({@link layers}), and the helpers of a declaration's answer and of a
 * service's own checks. What callers reach (the declaration, the options, the config readers, the limits) is the
 * public `ServerApi` module; the engine is split by concern: `engineOptions.ts`, `envelope.ts`, `metrics.ts`,
 * `runLoop.ts`.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Options } from "../ServerApi.js"
import type { InvalidRequestError } from "../ZegoError.js"

export { formatIssue, invalid, invalidInput, readInput } from "./engineOptions.js"
export { dataError, decodeData } from "./envelope.js"
export { make } from "./runLoop.js"
export type { Caller, Engine } from "./runLoop.js"

/**
 * A service's `layer` and `layerConfig` from its `make`: what a service costs is a declaration and a `make`, not a
 * copy of the options.
 */
export const layers = <I, S, O extends Options>(
  tag: Context.Tag<I, S>,
  make: (options: O) => Effect.Effect<S, InvalidRequestError, HttpClient.HttpClient>,
  defaultConfig: Config.Config<O>
) => ({
  /** The service as a layer; it needs an `HttpClient`. */
  layer: (options: O): Layer.Layer<I, InvalidRequestError, HttpClient.HttpClient> => Layer.effect(tag, make(options)),
  /** The service as a layer, its options read through Effect `Config` (by default from the environment). */
  layerConfig: (
    config: Config.Config.Wrap<O> = defaultConfig as Config.Config.Wrap<O>
  ): Layer.Layer<I, ConfigError.ConfigError | InvalidRequestError, HttpClient.HttpClient> =>
    Layer.effect(tag, Effect.flatMap(Config.unwrap(config), make))
})
