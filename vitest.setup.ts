/**
 * Runs before each test file. Test files share their worker's modules (`pool: "threads"` with `isolate: false`, see
 * vitest.config.ts): loading Effect and the packages once per worker rather than once per file saves about a third
 * of the run's CPU. @effect/vitest's `layer(...)` writes its own `effect`, `scoped`, `layer` and `prop` onto vitest's
 * shared `it`, so a file that used it would hand them to the next file in its worker (without the test services,
 * for example). Before each file, `it` gets back the methods it had before any file ran.
 */
import { it } from "@effect/vitest"

type Methods = Pick<typeof it, "effect" | "scoped" | "live" | "scopedLive" | "layer" | "prop" | "flakyTest">

const key = Symbol.for("effect-zego/vitest/pristine-it")
const store = globalThis as { [key]?: Methods }
const pristine = store[key] ??= {
  effect: it.effect,
  scoped: it.scoped,
  live: it.live,
  scopedLive: it.scopedLive,
  layer: it.layer,
  prop: it.prop,
  flakyTest: it.flakyTest
}
Object.assign(it, pristine)
