#!/usr/bin/env bash
# The one command that runs every check: set-up, build, formatter and linter, all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/ensure-moto.sh
pnpm run --silent lint
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line that any CI can read, whatever the test runner.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" 2>/dev/null || echo "0 passed, 1 failed (the test run did not finish)"
exit "$status"
