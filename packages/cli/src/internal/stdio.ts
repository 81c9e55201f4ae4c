/**
 * Writing to stdout and stderr. `Console.error` is not used for diagnostics: inside the `@effect/cli` app it is
 * where the parser prints validation errors, which the bin silences in favour of its own one-line report.
 */
import * as Effect from "effect/Effect"

/** Writes a line to stdout. */
export const out = (text: string): Effect.Effect<void> => Effect.sync(() => void process.stdout.write(`${text}\n`))

/** Writes a line to stderr. */
export const err = (text: string): Effect.Effect<void> => Effect.sync(() => void process.stderr.write(`${text}\n`))
