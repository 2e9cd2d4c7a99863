#!/usr/bin/env bash
# The whole suite: type check, unit tests, then the end-to-end tests, which start
# their own Kafka broker (free ports, throw-away data) and create their own databases.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent typecheck
npx jest --selectProjects unit
npx jest --selectProjects e2e --runInBand
