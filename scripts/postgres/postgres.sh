#!/usr/bin/env bash
# The embedded PostgreSQL in the foreground (scripts/postgres/embedded-postgres.mjs: its environment, its
# output); SIGINT, SIGTERM or SIGHUP stops it.
#
# PostgreSQL refuses to run as root. Started by root, it runs in a user namespace of its own as user
# "nobody", whom the kernel maps back to root: the data dir may stay in root's home (mode 700) and the
# binaries in a private clone, with no postgres user, chown or chmod needed.
set -euo pipefail
supervisor="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/embedded-postgres.mjs"
if [[ $(id -u) != 0 ]]; then exec node "$supervisor"; fi

as_nobody=(unshare --user --map-user=nobody --map-group="$(id -g nobody)")
if ! "${as_nobody[@]}" true 2>/dev/null; then
  echo "embedded-postgres: PostgreSQL does not run as root, and this machine refuses the user namespace" \
    "it would run in as \"nobody\" (unshare --user). Run as a regular user, or set DATABASE_URL" \
    "(TEST_DATABASE_URL for the tests) to a PostgreSQL server." >&2
  exit 1
fi
exec "${as_nobody[@]}" -- node "$supervisor"
