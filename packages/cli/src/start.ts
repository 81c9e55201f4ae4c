#!/usr/bin/env node
/**
 * The `zego-rtmp` executable's entry (bundled into `dist/bin.js`): `zego-rtmp --version` alone is answered here, from
 * a module that imports nothing, in about the time Node.js itself takes to start; any other command line imports the
 * program (`main.ts`, with @effect/cli and Effect), which answers it, `--version` among other flags included.
 */
import { version } from "./internal/version.js"

const args = process.argv.slice(2)
if (args.length === 1 && args[0] === "--version") {
  process.stdout.write(`${version}\n`)
} else {
  await import("./main.js")
}
