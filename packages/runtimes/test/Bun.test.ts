// The program in Bun, from the npm package `bun` (its postinstall, allowed in pnpm-workspace.yaml, puts the binary).
import { it } from "@effect/vitest"
import { createRequire } from "node:module"
import * as path from "node:path"
import { bundles, dispatchesOnce, runProgram, withEmulator } from "./utils.js"

const bun = path.join(path.dirname(createRequire(import.meta.url).resolve("bun/package.json")), "bin/bun.exe")

it.live("Bun: a dispatch through FetchHttpClient gets a node from one call", () =>
  dispatchesOnce(
    "bun-stream",
    runProgram(bun, [path.join(bundles, "cli.mjs")], {
      needs: "the npm package bun, installed by pnpm install, with its postinstall"
    })
  ).pipe(withEmulator()))
