#!/usr/bin/env bash
# Makes a clone ready to run anything: `npm ci` when node_modules is missing or older than the lockfile,
# then the cached set-up (scripts/setup.sh: Kubernetes, cert-manager, Python tools, all under
# ~/.cache/modelgate; seconds when cached). `npm run demo` and `npm run test:all` start with it, so those
# two commands work on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "::: npm ci (node_modules is missing or older than package-lock.json)"
  npm ci --no-audit --no-fund
fi
bash scripts/setup.sh
