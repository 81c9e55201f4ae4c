/**
 * ANSI colour codes, for the bin (help text on a pipe) and the error lines, without loading anything else.
 */

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

/** Removes ANSI colour codes. */
export const stripAnsi = (text: string): string => text.replace(ANSI, "")
