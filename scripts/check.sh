#!/usr/bin/env bash
# The test command (`pnpm check`): the system tools the tests run (scripts/system-tools.sh), then three jobs side by
# side (the two tests that read what the first one writes wait for it):
#   - the typecheck, `tsc -b`, which also builds each package's `dist/`, then `scripts/build-cjs.mjs` (the CommonJS
#     twins): together, what the packaging test packs and what the docs check runs the examples against. Those two
#     wait for it (packages/packaging/test/build.ts and scripts/docs.mjs read the exit status this writes to the file
#     named by ZEGO_CHECK_BUILD_STATUS); no other test reads `dist/` but the CLI's bin, which the tests bundle from
#     the sources themselves;
#   - the lint, `eslint .`;
#   - every test, `vitest run`, whose output is shown as it comes.
# The typecheck's and the lint's output is kept until the tests end and shown then, so that it does not interleave
# with theirs; the last line names every job that failed.
set -uo pipefail
cd "$(dirname "$0")/.."
# Where tsc, eslint and vitest come from (another folder only in this script's own test).
bin=${ZEGO_CHECK_BIN:-node_modules/.bin}

bash scripts/system-tools.sh || exit 1

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Writes the exit status of the command after it to $out/<name>.status once the command ends, whatever its end (the
# packaging test waits for the build's); the rename makes the file appear whole.
status_of() {
  local name=$1
  shift
  "$@" >"$out/$name.log" 2>&1
  echo $? >"$out/$name.tmp"
  mv "$out/$name.tmp" "$out/$name.status"
}

status_of build bash -c "'$bin/tsc' -b && node scripts/build-cjs.mjs" &
build=$!
status_of lint "$bin/eslint" . &
lint=$!

ZEGO_CHECK_BUILD_STATUS="$out/build.status" "$bin/vitest" run
tests=$?
wait "$build" "$lint"

failed=()
for job in "build:typecheck and build (tsc -b, then scripts/build-cjs.mjs)" "lint:lint (eslint .)"; do
  name=${job%%:*}
  if [ "$(cat "$out/$name.status")" != 0 ]; then
    printf '\n%s failed:\n' "${job#*:}"
    cat "$out/$name.log"
    failed+=("${job#*:}")
  fi
done
[ "$tests" != 0 ] && failed+=("tests (vitest run)")
if [ ${#failed[@]} -gt 0 ]; then
  printf 'check: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "check: passed: typecheck, lint and tests"
