/**
 * The program as a command, for Node, Bun and Deno: its input is the JSON of the last argument, its output the JSON of
 * the result on stdout. Deno needs only `--allow-net` for it: the arguments and stdout need no permission.
 */
import { dispatchOnce, type Input } from "./dispatch.js"

declare const Deno: { readonly args: ReadonlyArray<string> } | undefined
declare const process: { readonly argv: ReadonlyArray<string> } | undefined

const args = typeof Deno !== "undefined" ? Deno.args : process?.argv ?? []
const input = JSON.parse(args[args.length - 1] ?? "{}") as Input
console.log(JSON.stringify(await dispatchOnce(input)))
