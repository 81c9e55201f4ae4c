// The one list of test projects; `vitest.config.ts` reads it (vitest 3.2 deprecates reading this file directly).
export default ["packages/*/vitest.config.ts"]
