#!/usr/bin/env bash
# The embedded PostgreSQL in the foreground; SIGINT, SIGTERM or SIGHUP stops it.
#
#   scripts/postgres/postgres.sh           the server (scripts/postgres/embedded-postgres.mjs: its environment, its output)
#   scripts/postgres/postgres.sh replica   a streaming replica of one (scripts/postgres/embedded-replica.mjs: the same)
#
# PostgreSQL refuses to run as root. Started by root, it runs in a user namespace of its own as user
# "nobody", whom the kernel maps back to root: the data dir may stay in root's home (mode 700) and the
# binaries in a private clone, with no postgres user, chown or chmod needed. A replica runs the same way,
# so the primary's files it copies and its own are root's too.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-server}" in
  server) supervisor="$here/embedded-postgres.mjs" ;;
  replica) supervisor="$here/embedded-replica.mjs" ;;
  *) echo "usage: postgres.sh [server|replica]" >&2; exit 64 ;;
esac
if [[ $(id -u) != 0 ]]; then exec node "$supervisor"; fi

as_nobody=(unshare --user --map-user=nobody --map-group="$(id -g nobody)")
if ! "${as_nobody[@]}" true 2>/dev/null; then
  echo "embedded-postgres: PostgreSQL does not run as root, and this machine refuses the user namespace" \
    "it would run in as \"nobody\" (unshare --user). Run as a regular user, or set DATABASE_URL" \
    "(TEST_DATABASE_URL for the tests) to a PostgreSQL server." >&2
  exit 1
fi
exec "${as_nobody[@]}" -- node "$supervisor"
