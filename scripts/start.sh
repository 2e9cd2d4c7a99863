#!/usr/bin/env bash
# Runs the timeline service on this machine: PostgreSQL (the embedded server of
# scripts/postgres, started here unless DATABASE_URL is set), Kafka (started here unless
# KAFKA_BROKERS is set), then the projector and the api (each runs the migrations at
# start-up), then the Japan–NATO seed timeline, loaded through the API. Unless a key
# source is set (AUTH_JWKS_URL, AUTH_PUBLIC_KEY, AUTH_PUBLIC_KEY_FILE), the apps verify tokens
# with a development key pair made on first run in TIMELINE_STATE_DIR (default
# ~/.cache/timeline-service, outside the repository), and a development token is printed.
# START_READ_REPLICA=1 also starts a streaming replica of the embedded PostgreSQL (scripts/postgres/postgres.sh
# replica, a throw-away data dir) and gives the api its URL in DATABASE_READ_URLS; the projector writes, and
# reads the primary only.
# Ctrl-C (or SIGTERM, SIGHUP) stops what it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export HTTP_HOST="${HTTP_HOST:-127.0.0.1}" HTTP_PORT="${HTTP_PORT:-3000}" PROJECTOR_HTTP_PORT="${PROJECTOR_HTTP_PORT:-3001}"
started_kafka=""
postgres_pid=""
replica_pid=""
replica_dir=""
read_urls=""
pids=()

stop_all() {
  trap - EXIT INT TERM HUP
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  # The replica before its primary: stopping, it drops its replication slot there.
  if [[ -n "$replica_pid" ]]; then kill "$replica_pid" 2>/dev/null || true; wait "$replica_pid" 2>/dev/null || true; fi
  if [[ -n "$replica_dir" ]]; then rm -rf -- "$replica_dir"; fi
  if [[ -n "$postgres_pid" ]]; then kill "$postgres_pid" 2>/dev/null || true; wait "$postgres_pid" 2>/dev/null || true; fi
  if [[ -n "$started_kafka" ]]; then bash scripts/kafka/kafka.sh stop || true; fi
}
trap stop_all EXIT INT TERM HUP

free_port() {
  node -r @swc-node/register -e 'require("./libs/dev-stack/src/free-ports").freePort().then(console.log)'
}

# Starts `postgres.sh [mode]` in the background with the environment given, waits for the line it prints once
# the server answers (or its exit: its log's last lines are above), and sets started_pid.
start_postgres() {
  local mode="$1" timeout="$2"
  shift 2
  local ready out
  ready="$(mktemp -u)"
  mkfifo "$ready"
  env "$@" bash scripts/postgres/postgres.sh "$mode" >"$ready" &
  started_pid=$!
  exec {out}<"$ready"
  rm -f "$ready"
  read -r -t "$timeout" -u "$out" _
}

case "${START_READ_REPLICA:-0}" in
  0 | "") read_replica="" ;;
  1) read_replica=1 ;;
  *) echo "start: START_READ_REPLICA is 1 (start a read replica) or 0, not \"$START_READ_REPLICA\"" >&2; exit 64 ;;
esac
if [[ -n "$read_replica" && -n "${DATABASE_URL:-}" ]]; then
  echo "start: START_READ_REPLICA=1 replicates the embedded PostgreSQL that npm start runs, and with DATABASE_URL set" \
    "it runs none. Unset DATABASE_URL, or give the api replicas of your server in DATABASE_READ_URLS yourself." >&2
  exit 64
fi
if [[ -n "$read_replica" && -n "${DATABASE_READ_URLS:-}" ]]; then
  echo "start: START_READ_REPLICA=1 sets the api's DATABASE_READ_URLS to the replica it starts; unset DATABASE_READ_URLS." >&2
  exit 64
fi

if [[ -z "${DATABASE_URL:-}" ]]; then
  # On EMBEDDED_POSTGRES_PORT, else on a free port; data in EMBEDDED_POSTGRES_DATA_DIR
  # (default ~/.cache/timeline-service/postgres-data), kept between runs.
  port="${EMBEDDED_POSTGRES_PORT:-$(free_port)}"
  start_postgres server 120 EMBEDDED_POSTGRES_PORT="$port" || { echo "start: the embedded PostgreSQL did not start" >&2; exit 1; }
  postgres_pid=$started_pid
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/timeline"
  if [[ -n "$read_replica" ]]; then
    # A new replica each start (a base backup of the data dir), in a throw-away dir; it dies with this script.
    replica_port="$(free_port)"
    replica_dir="$(mktemp -d "${TMPDIR:-/tmp}/timeline-replica-XXXXXX")"
    start_postgres replica 300 EMBEDDED_POSTGRES_PORT="$replica_port" EMBEDDED_POSTGRES_DATA_DIR="$replica_dir" \
      EMBEDDED_POSTGRES_PRIMARY_URL="postgres://postgres@127.0.0.1:$port/postgres" EMBEDDED_POSTGRES_REPLICA_SLOT=npm_start_replica \
      EMBEDDED_POSTGRES_OWNER_PID=$$ EMBEDDED_POSTGRES_OWNER_PURGE=1 ||
      { echo "start: the read replica did not start" >&2; exit 1; }
    replica_pid=$started_pid
    read_urls="postgres://postgres@127.0.0.1:$replica_port/timeline"
  fi
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
if [[ -n "$read_urls" ]]; then
  DATABASE_READ_URLS="$read_urls" node dist/apps/api/src/main.js & pids+=($!)
else
  node dist/apps/api/src/main.js & pids+=($!)
fi

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
if [[ -n "$read_urls" ]]; then echo "read replica (the api's DATABASE_READ_URLS): $read_urls"; fi
wait -n "${pids[@]}" ${postgres_pid:+"$postgres_pid"} ${replica_pid:+"$replica_pid"}
