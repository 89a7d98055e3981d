#!/usr/bin/env bash
# The main job on the embedded defaults: no servers, everything under ./.ssmd.
# Today (issue 2) that is the metadata foundation: initialise the catalog and key store, write an
# environment file with the CLI, validate it, plan it and apply it, then show what the catalog
# holds. Capture, archive and normalization join this script as their issues land.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
[ -f dist/tools/src/cli/bin.js ] || npm run --silent build

ssmd() { node bin/ssmd.mjs "$@"; }
ENV_NAME=${SSMD_DEMO_ENV:-demo}
# Kept under .ssmd/ so the demo leaves the working tree clean; real environments live in deploy/environments/.
ENV_FILE=".ssmd/environments/${ENV_NAME}.yaml"

echo "== ssmd init"
ssmd init
if [ ! -f "$ENV_FILE" ]; then
  echo "== ssmd env init ${ENV_NAME} (embedded middleware, Kraken BTC/USD and ETH/USD)"
  ssmd env init "$ENV_NAME" --file "$ENV_FILE" --timezone America/New_York --start 08:00 --end 20:00 --calendar weekdays
fi
echo "== ssmd env validate ${ENV_NAME}"
ssmd env validate "$ENV_FILE"
echo "== ssmd env plan ${ENV_NAME}"
ssmd env plan "$ENV_FILE"
echo "== ssmd env apply ${ENV_NAME}"
ssmd env apply "$ENV_FILE"
echo "== ssmd env history ${ENV_NAME}"
ssmd env history "$ENV_NAME"
echo "== ssmd feeds list"
ssmd feeds list
echo
echo "Done. The catalog is in .ssmd/catalog, the environment file in ${ENV_FILE}."
echo "Next: ssmd --help, ssmd env --help, ssmd keys --help."
