#!/usr/bin/env bash
# Watchdog: a server must not outlive the process (e.g. a test run) that asked for it.
#
#   scripts/watchdog.sh OWNER_PID SERVER_PID [PURGE_DIR]
#
# Polls both pids once a second. When the owner is gone first, SIGKILLs the server and, if PURGE_DIR is
# given, deletes it (the server's throw-away data dir). When the server stops first, exits quietly.
# Callers start it detached (nohup ... &) right after starting the server: scripts/kafka/kafka.sh, and
# scripts/postgres/embedded-postgres.mjs and scripts/postgres/embedded-replica.mjs.
set -u
owner="$1" server="$2" purge_dir="${3:-}"
while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
if ! kill -0 "$owner" 2>/dev/null; then
  kill -KILL "$server" 2>/dev/null || true
  if [[ -n "$purge_dir" ]]; then sleep 1; rm -rf -- "$purge_dir"; fi
fi
