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
mkdir -p .ssmd
status=0
npx vitest run --reporter=default --reporter=json --outputFile=.ssmd/vitest-report.json "$@" || status=$?
# One plain closing line with the counts, whatever the reporter printed above.
node -e '
  const r = JSON.parse(require("fs").readFileSync(".ssmd/vitest-report.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || echo "tests: 0 passed, 1 failed"
exit "$status"
