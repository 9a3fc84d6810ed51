#!/usr/bin/env bash
# Runs irsa-anywhere on a built-in default: no AWS account, no cluster. Sets up first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec node scripts/demo.mjs "$@"
