#!/usr/bin/env bash
# The test command (`pnpm check`): the system tools the tests run (scripts/system-tools.sh), then the typecheck
# (`tsc -b`, which also builds what the test suites' global setups then find up to date) and the lint side by side,
# since neither reads what the other writes, then every test (`vitest run`). Each step's output is its own; a failed
# typecheck or lint stops the command before the tests, naming which.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin

bash scripts/system-tools.sh

"$bin/tsc" -b &
typecheck=$!
"$bin/eslint" . &
lint=$!
failed=()
wait "$typecheck" || failed+=("typecheck (tsc -b)")
wait "$lint" || failed+=("lint (eslint .)")
if [ ${#failed[@]} -gt 0 ]; then
  printf 'check: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi

exec "$bin/vitest" run
