/**
 * The program every runtime runs: one publish dispatch through the core, over `FetchHttpClient`, as a user of that
 * runtime writes it. The platform is imported by module path, not through the `@effect/platform` barrel: under
 * restricted Deno the barrel asks for an environment permission for a module the core never uses.
 */
import { RtmpDispatch } from "@effect-zego/core"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

/** What the test hands a runtime: an app of the emulator, where it listens, and the stream to dispatch. */
export interface Input {
  readonly appId: number
  readonly serverSecret: string
  readonly baseUrl: string
  readonly streamId: string
}

/** What a runtime hands back: the dispatched node, or the error it got. */
export type Output =
  | { readonly _tag: "Dispatched"; readonly requestId: string; readonly urls: ReadonlyArray<string> }
  | { readonly _tag: "Failed"; readonly error: string }

/** Dispatches `input.streamId` for push against `input.baseUrl`. */
export const dispatchOnce = (input: Input): Promise<Output> =>
  Effect.gen(function*() {
    const dispatch = yield* RtmpDispatch.RtmpDispatch
    const dispatched = yield* dispatch.dispatch({ streamId: input.streamId, type: "push" })
    return {
      _tag: "Dispatched" as const,
      requestId: dispatched.requestId,
      urls: dispatched.nodes.map((node) => node.url)
    }
  }).pipe(
    Effect.provide(
      RtmpDispatch.layer({
        appId: input.appId,
        serverSecret: Redacted.make(input.serverSecret),
        baseUrl: input.baseUrl
      }).pipe(Layer.provide(FetchHttpClient.layer))
    ),
    Effect.catchAllCause((cause) => Effect.succeed({ _tag: "Failed" as const, error: String(cause) })),
    Effect.runPromise
  )
