/**
 * The CLI's version, in a module of its own that imports nothing, so that the executable's entry (`start.ts`)
 * answers `--version` without loading the command tree.
 */
export const version = "0.1.0"
