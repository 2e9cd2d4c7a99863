#!/usr/bin/env bash
# Runs the timeline service on this machine: Kafka (started here unless KAFKA_BROKERS
# is set), then the projector and the api (each runs the migrations at start-up), then
# the Japan–NATO seed timeline, loaded through the API. Ctrl-C stops what it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export HTTP_HOST="${HTTP_HOST:-127.0.0.1}" HTTP_PORT="${HTTP_PORT:-3000}" PROJECTOR_HTTP_PORT="${PROJECTOR_HTTP_PORT:-3001}"
started_kafka=""
pids=()

stop_all() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  if [[ -n "$started_kafka" ]]; then bash scripts/kafka/kafka.sh stop || true; fi
}
trap stop_all EXIT INT TERM

if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  if bash scripts/kafka/kafka.sh status >/dev/null 2>&1; then
    echo "start: using the local Kafka broker already running"
  else
    bash scripts/kafka/kafka.sh start >/dev/null
    started_kafka=1
  fi
  export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-9092}"
fi

npm run --silent build
node dist/apps/projector/src/main.js & pids+=($!)
node dist/apps/api/src/main.js & pids+=($!)

api="http://${HTTP_HOST}:${HTTP_PORT}"
for _ in $(seq 1 120); do
  curl -fsS "$api/health/ready" >/dev/null 2>&1 && break
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "start: a process exited; see its log above" >&2; exit 1; }; done
  sleep 0.5
done
curl -fsS "$api/health/ready" >/dev/null || { echo "start: the api did not become ready" >&2; exit 1; }

node dist/scripts/seed/load-seed.js "$api"
echo
echo "timeline service running: $api   (try $api/v1/timelines/japan-nato/events)"
echo "projector health: http://${HTTP_HOST}:${PROJECTOR_HTTP_PORT}/health/ready   Ctrl-C stops it all"
wait -n "${pids[@]}"
