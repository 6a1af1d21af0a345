#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests: initdb in a temporary directory as the
# `postgres` user (trust authentication, 127.0.0.1 only), on PORT (default 54329). Prints the
# admin URL to put in PROPUSK_TEST_DATABASE_URL. `stop` removes it; `down` stops the server and
# keeps its data, the next start brings it back (for the tests of a database that goes away).
# `replica-of PORT` makes this cluster a streaming replica (hot standby) of the one on PORT.
# PG_SHARED_BUFFERS sets the server's shared_buffers (default 128MB, PostgreSQL's own; the load
# tests over a million credentials use 1GB, as a database server holding them in memory would).
# Needs Debian's `postgresql` package (its binaries under /usr/lib/postgresql/*/bin).
set -euo pipefail
port=${PG_PORT:-54329}
state=/tmp/propusk-pg-$port
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 69; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "${1:-}" = down ]; then
  as_postgres "$bin/pg_ctl" -D "$state/data" -m fast -w stop >/dev/null
  exit 0
fi
if [ "${1:-}" = replica-of ]; then
  primary=${2:?the port of the primary cluster}
  if ! as_postgres "$bin/pg_ctl" -D "$state/data" status >/dev/null 2>&1; then
    rm -rf "$state"
    mkdir -p "$state"
    [ "$(id -u)" = 0 ] && chown postgres "$state"
    as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$state/data" -R -X stream --checkpoint=fast >/dev/null
    as_postgres "$bin/pg_ctl" -D "$state/data" -l "$state/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $state -c hot_standby=on -c max_connections=200" start >/dev/null
  fi
  echo "postgres://postgres@127.0.0.1:$port/postgres"
  exit 0
fi
if [ "${1:-}" = stop ]; then
  [ -d "$state" ] && as_postgres "$bin/pg_ctl" -D "$state/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$state"
  exit 0
fi
if ! as_postgres "$bin/pg_ctl" -D "$state/data" status >/dev/null 2>&1; then
  if [ ! -f "$state/data/PG_VERSION" ]; then
    rm -rf "$state"
    mkdir -p "$state"
    [ "$(id -u)" = 0 ] && chown postgres "$state"
    as_postgres "$bin/initdb" -D "$state/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  fi
  as_postgres "$bin/pg_ctl" -D "$state/data" -l "$state/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $state -c fsync=off -c max_connections=200 -c shared_buffers=${PG_SHARED_BUFFERS:-128MB}" start >/dev/null
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
