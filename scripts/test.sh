#!/usr/bin/env bash
# The whole suite: type check, dependency rules, format and lint, unit tests, the int tests of
# the repositories against a real PostgreSQL, then the end-to-end tests, which start their own
# Kafka broker (free ports, throw-away data). Both start an embedded PostgreSQL unless
# TEST_DATABASE_URL names one, and create their own databases on it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Tools the tests use, from Debian's packages: promtool checks /metrics and the alert rules, the prometheus server
# (same package) runs them against the service, chromium drives the ops page.
missing=()
{ command -v promtool && command -v prometheus; } >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
if (( ${#missing[@]} )); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test: install ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

npm run --silent typecheck
# The checks that keep the code as it is meant to be, cheapest first: dependency rules (layers, no circles),
# formatting, then ESLint with the type-aware rules (no warnings allowed).
npm run --silent deps:check
npm run --silent format:check
npm run --silent lint
npx jest --selectProjects unit
npx jest --selectProjects int
# Each e2e file has a database, topics and a consumer group of its own, so two files run at once (two workers:
# the machine has two cores); the chaos spec starts first (test/support/longest-first-sequencer.js).
npx jest --selectProjects e2e --maxWorkers=2
