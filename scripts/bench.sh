#!/usr/bin/env bash
# Benchmark of the timeline service on this machine: HTTP appends, group commit on/off, projector replay.
# Starts what it needs (a throw-away Kafka broker, a throw-away database, the api and the projector from
# dist/) and removes it all afterwards. Prints a table and writes bench-results.json at the repo root.
# Environment: BENCH_ADMIN_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent build
# The broker and process helpers live in test/support, which `npm run build` does not compile.
node scripts/build.js test/support
exec node dist/scripts/bench/main.js "$@"
