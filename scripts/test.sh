#!/usr/bin/env bash
# The one command that runs every check: set-up, build, formatter and linter, all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/ensure-moto.sh
pnpm run --silent lint
pnpm exec vitest run "$@"
