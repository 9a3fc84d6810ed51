#!/usr/bin/env bash
# Everything a fresh machine with Node 20.19+ needs: pnpm, the dependencies, a build.
# Safe to run again; each step is skipped or quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error(`irsa-anywhere needs Node 20.19 or later; this is ${process.version}`); process.exit(1) }'

want=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null)" != "$want" ]; then
  echo "setup: installing pnpm $want with npm" >&2
  npm install --global --no-fund --no-audit "pnpm@$want" >&2
fi

pnpm install --frozen-lockfile --reporter=silent >&2
pnpm run --silent build >&2
