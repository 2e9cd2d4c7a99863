#!/usr/bin/env bash
# `npm run chaos` and `npm run soak`: fault injection and a long run at half capacity, each on a Kafka
# broker, a PostgreSQL cluster (initdb) and service processes of its own, all removed afterwards.
#   bash scripts/chaos.sh chaos     the table of scenarios (CHAOS_SCALE=small for a short run)
#   bash scripts/chaos.sh soak      SOAK_MINUTES (default 30) at half the measured capacity
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:-chaos}"
npm run --silent build
case "$what" in
  chaos) exec node dist/scripts/chaos/main.js ;;
  soak) exec node dist/scripts/chaos/soak.js ;;
  *) echo "usage: scripts/chaos.sh chaos|soak" >&2; exit 64 ;;
esac
