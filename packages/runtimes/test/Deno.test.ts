/**
 * The program in Deno, from the npm package `deno` (its launcher finds the binary of its platform package), allowed
 * the network to 127.0.0.1 and nothing else: no environment, no files, no prompt.
 */
import { it } from "@effect/vitest"
import { createRequire } from "node:module"
import * as path from "node:path"
import { bundles, dispatchesOnce, runProgram, withEmulator } from "./utils.js"

const deno = createRequire(import.meta.url).resolve("deno/bin.cjs")

it.live("Deno: a dispatch through FetchHttpClient gets a node from one call, with --allow-net=127.0.0.1 only", () =>
  dispatchesOnce(
    "deno-stream",
    runProgram(
      process.execPath,
      [deno, "run", "--no-prompt", "--no-config", "--allow-net=127.0.0.1", path.join(bundles, "cli.mjs")],
      {
        needs: "the npm package deno and its platform package @deno/<platform>, installed by pnpm install",
        // No look for a newer Deno on the internet: the tests talk only to loopback.
        env: { DENO_NO_UPDATE_CHECK: "1" }
      }
    )
  ).pipe(withEmulator()))
