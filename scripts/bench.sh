#!/usr/bin/env bash
# Benchmark of the timeline service on this machine, and the baselines it is held against in the same run
# (Emmett, raw PostgreSQL, raw kafkajs): see scripts/bench/main.ts. Starts what it needs (a throw-away Kafka
# broker, throw-away databases, the api and the projector from dist/) and removes it all afterwards. Prints a
# table with the ratios and writes bench-results.json at the repo root.
# Environment: BENCH_ADMIN_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres);
# BENCH_SECTIONS=a,b to run some sections only (names in scripts/bench/main.ts); BENCH_TAIL=1 for the evidence
# of where the latency tail comes from (docs/benchmarks.md). Pictures of latency over time go to bench-output/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent build
exec node dist/scripts/bench/main.js "$@"
