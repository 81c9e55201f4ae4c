// The program in Node.js (the same bundle as Bun and Deno run): FetchHttpClient over Node's own fetch.
import { it } from "@effect/vitest"
import * as path from "node:path"
import { bundles, dispatchesOnce, runProgram, withEmulator } from "./utils.js"

it.live("Node: a dispatch through FetchHttpClient gets a node from one call", () =>
  dispatchesOnce(
    "node-stream",
    runProgram(process.execPath, [path.join(bundles, "cli.mjs")], { needs: "Node.js, which runs the tests themselves" })
  ).pipe(withEmulator()))
