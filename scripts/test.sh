#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what the tests need, typecheck, then every test
# against real servers (Postgres, NATS JetStream, Mosquitto, Redis, SeaweedFS S3, Temporal) and
# PGlite. Usage: npm test   (extra arguments go to vitest, e.g. npm test -- catalog/test)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
echo "== build and typecheck"
npm run --silent build
npx tsc -p tsconfig.json --noEmit
echo "== tests"
npx vitest run "$@"
