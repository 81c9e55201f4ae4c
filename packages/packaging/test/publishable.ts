/** The packages published to npm; `scripts/build-cjs.mjs` has the same list, for their CommonJS half. */
export const publishable = ["core", "node", "emulator", "cli", "redis"] as const
