#!/usr/bin/env bash
# Runs the timeline service on this machine: PostgreSQL (the embedded server of
# scripts/postgres, started here unless DATABASE_URL is set), Kafka (started here unless
# KAFKA_BROKERS is set), then the projector and the api (each runs the migrations at
# start-up), then the Japan–NATO seed timeline, loaded through the API. Unless a key
# source is set (AUTH_JWKS_URL, AUTH_PUBLIC_KEY, AUTH_PUBLIC_KEY_FILE), the apps verify tokens
# with a development key pair made on first run in TIMELINE_STATE_DIR (default
# ~/.cache/timeline-service, outside the repository), and a development token is printed.
# Ctrl-C (or SIGTERM, SIGHUP) stops what it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export HTTP_HOST="${HTTP_HOST:-127.0.0.1}" HTTP_PORT="${HTTP_PORT:-3000}" PROJECTOR_HTTP_PORT="${PROJECTOR_HTTP_PORT:-3001}"
started_kafka=""
postgres_pid=""
pids=()

stop_all() {
  trap - EXIT INT TERM HUP
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  if [[ -n "$postgres_pid" ]]; then kill "$postgres_pid" 2>/dev/null || true; wait "$postgres_pid" 2>/dev/null || true; fi
  if [[ -n "$started_kafka" ]]; then bash scripts/kafka/kafka.sh stop || true; fi
}
trap stop_all EXIT INT TERM HUP

if [[ -z "${DATABASE_URL:-}" ]]; then
  # On EMBEDDED_POSTGRES_PORT, else on a free port; data in EMBEDDED_POSTGRES_DATA_DIR
  # (default ~/.cache/timeline-service/postgres-data), kept between runs.
  port="${EMBEDDED_POSTGRES_PORT:-$(node -r @swc-node/register -e 'require("./libs/dev-stack/src/free-ports").freePort().then(console.log)')}"
  ready="$(mktemp -u)"
  mkfifo "$ready"
  EMBEDDED_POSTGRES_PORT="$port" bash scripts/postgres/postgres.sh >"$ready" &
  postgres_pid=$!
  exec {postgres_out}<"$ready"
  rm -f "$ready"
  # The server prints one line once it answers, or exits (its log's last lines above).
  read -r -t 120 -u "$postgres_out" _ || { echo "start: the embedded PostgreSQL did not start" >&2; exit 1; }
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/timeline"
fi

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

dev_token=""
if [[ -z "${AUTH_JWKS_URL:-}${AUTH_PUBLIC_KEY:-}${AUTH_PUBLIC_KEY_FILE:-}" ]]; then
  # Sets AUTH_PUBLIC_KEY_FILE, AUTH_ISSUER, AUTH_AUDIENCE for the apps and TIMELINE_TOKEN for the seed.
  auth_env="$(node dist/scripts/auth/dev-auth-env.js)"
  eval "$auth_env"
  dev_token="$TIMELINE_TOKEN"
fi
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
if [[ -n "$dev_token" ]]; then
  echo "development token (every scope, subject seed, 30 days; npm run token mints others):"
  echo "  $dev_token"
  echo "  curl -H \"authorization: Bearer \$TOKEN\" $api/v1/timelines/japan-nato/events"
  echo "ops page: $api/ops#token=$dev_token"
fi
echo "database: $DATABASE_URL"
wait -n "${pids[@]}" ${postgres_pid:+"$postgres_pid"}
