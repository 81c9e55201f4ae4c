/**
 * The program as a Cloudflare Worker in workerd, through miniflare's JS API and without the Node compatibility flag:
 * the worker's fetch handler dispatches, the test calls it with `dispatchFetch`.
 */
import { it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Miniflare } from "miniflare"
import * as path from "node:path"
import type { Output } from "../src/dispatch.js"
import { bundles, dispatchesOnce, withEmulator } from "./utils.js"

// A date workerd knows; no `compatibilityFlags` (no `nodejs_compat`): only what every Worker has.
const COMPATIBILITY_DATE = "2025-09-01"

it.live("workerd: a Worker's dispatch through FetchHttpClient gets a node from one call", () =>
  Effect.gen(function*() {
    const worker = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Miniflare({
          modules: true,
          scriptPath: path.join(bundles, "worker.mjs"),
          compatibilityDate: COMPATIBILITY_DATE
        })
      ),
      (worker) => Effect.promise(() => worker.dispose())
    )
    yield* dispatchesOnce("workerd-stream", async (input) => {
      const response = await worker.dispatchFetch("http://worker.invalid/", {
        method: "POST",
        body: JSON.stringify(input)
      })
      return await response.json() as Output
    })
  }).pipe(Effect.scoped, withEmulator()))
