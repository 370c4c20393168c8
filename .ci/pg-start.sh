#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on loopback and prints its URL.
# Usage: source .ci/pg-start.sh   (exports TRELLIS_TEST_DATABASE_URL and PG_STOP)
set -euo pipefail
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  echo "installing postgresql" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGPORT=${PGPORT:-54329}
PGDATA=$(mktemp -d /tmp/trellis-pg.XXXXXX)
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then chown postgres: "$PGDATA"; fi
as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/log" -w \
  -o "-p $PGPORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
export TRELLIS_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
PG_STOP="$PGBIN/pg_ctl -D $PGDATA -m immediate stop"
export PG_STOP
# Stops the server and removes its data: each run's cluster grows to a few GB (a database per
# test), and leftovers once filled the disk.
pg_stop() {
  as_pg $PG_STOP >/dev/null 2>&1 || true
  rm -rf "$PGDATA"
}
