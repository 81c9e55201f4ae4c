// One dispatch through the core over the platform's fetch: the same program in Node, Bun, Deno, a Worker and a page.
import { RtmpDispatch } from "@effect-zego/core"
// By module path: under restricted Deno the @effect/platform barrel asks for an environment permission.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

export interface Input {
  readonly appId: number
  readonly serverSecret: string
  readonly baseUrl: string
  readonly streamId: string
}

export type Output =
  | { readonly _tag: "Dispatched"; readonly requestId: string; readonly urls: ReadonlyArray<string> }
  | { readonly _tag: "Failed"; readonly error: string }

export const dispatchOnce = (input: Input): Promise<Output> =>
  Effect.gen(function*() {
    const zego = yield* RtmpDispatch.RtmpDispatch
    const { nodes, requestId } = yield* zego.dispatch({ streamId: input.streamId, type: "push" })
    return { _tag: "Dispatched" as const, requestId, urls: nodes.map((node) => node.url) }
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
